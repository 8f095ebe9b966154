import { BSONRegExp, Decimal128, Double, Int32, Long, ObjectId, Timestamp } from 'bson';
import { describe, expect, test } from 'vitest';
import { metadataJson, specFromMetadata } from '../src/internal/normalise.js';
import { parseExtendedJson, toCanonicalJson, type OrderedDoc } from '../src/internal/ordered.js';

/** A metadata file read and written again, as a load, a diff or a re-dump sees it. */
const reread = (text: string) => {
  const spec = specFromMetadata('c', parseExtendedJson(text));
  return typeof spec === 'string' ? spec : metadataJson(spec);
};

describe('operator documents whose keys all start with "$" are kept as documents', () => {
  test.each([
    [
      'a validator with $regex beside $nin',
      '{"options":{"validator":{"code":{"$regex":"^[A-Z]+$","$nin":["NULL"]}}},"indexes":[],"collectionName":"c","type":"collection"}',
    ],
    [
      'a view $match with $regex, $options and $ne',
      '{"options":{"pipeline":[{"$match":{"name":{"$regex":"^a","$options":"i","$ne":"admin"}}}],"viewOn":"users"},"indexes":[],"collectionName":"c","type":"view"}',
    ],
    [
      'the $regex operator with its $options alone (mongodump writes regexes as $regularExpression)',
      '{"options":{"validator":{"name":{"$regex":"^a","$options":"i"}}},"indexes":[],"collectionName":"c","type":"collection"}',
    ],
    [
      'a $date beside another operator',
      '{"options":{"validator":{"at":{"$date":{"$numberLong":"0"},"$gt":{"$numberInt":"1"}}}},"indexes":[],"collectionName":"c","type":"collection"}',
    ],
    [
      'a DBRef-like document',
      '{"options":{"validator":{"r":{"$ref":"x","$id":{"$numberInt":"1"},"$db":"y"}}},"indexes":[],"collectionName":"c","type":"collection"}',
    ],
  ])('%s round-trips unchanged', (_case, text) => {
    expect(reread(text)).toBe(text);
  });
});

describe('Extended JSON type wrappers', () => {
  test.each<[string, string, unknown]>([
    ['$numberInt', '{"$numberInt":"-5"}', new Int32(-5)],
    ['$numberLong', '{"$numberLong":"9223372036854775807"}', Long.MAX_VALUE],
    ['$numberDouble', '{"$numberDouble":"1.5"}', new Double(1.5)],
    ['$numberDouble Infinity', '{"$numberDouble":"-Infinity"}', new Double(-Infinity)],
    ['$numberDecimal', '{"$numberDecimal":"1.10"}', Decimal128.fromString('1.10')],
    ['$oid', '{"$oid":"65a000000000000000000001"}', new ObjectId('65a000000000000000000001')],
    ['$date canonical', '{"$date":{"$numberLong":"86400000"}}', new Date(86400000)],
    ['$date relaxed', '{"$date":"1970-01-02T00:00:00Z"}', new Date(86400000)],
    ['$regularExpression', '{"$regularExpression":{"pattern":"^a","options":"i"}}', new BSONRegExp('^a', 'i')],
    ['$timestamp', '{"$timestamp":{"t":1,"i":2}}', new Timestamp({ t: 1, i: 2 })],
  ])('%s becomes its BSON value', (_case, text, value) => {
    expect(parseExtendedJson(text)).toEqual(value);
  });

  test.each([
    ['$numberInt that is no number (EJSON alone reads it as 0: a TTL of 0)', '{"a":{"$numberInt":"x"}}', '{"$numberInt":"x"} at offset 5 is not a valid Extended JSON $numberInt: expected a 32-bit integer in a string'],
    ['$numberInt out of range', '{"a":{"$numberInt":"2147483648"}}', 'expected a 32-bit integer in a string'],
    ['$numberLong with a fraction', '{"a":{"$numberLong":"1.5"}}', 'expected a 64-bit integer in a string'],
    ['$numberDouble that is no number (EJSON alone reads it as NaN)', '{"a":{"$numberDouble":"abc"}}', 'is not a valid Extended JSON $numberDouble: expected a decimal number'],
    ['$date that is no date', '{"a":{"$date":"yesterday"}}', 'is not a valid Extended JSON $date: expected an ISO-8601 date'],
    ['$date whose milliseconds are no integer', '{"a":{"$date":{"$numberLong":"x"}}}', 'is not a valid Extended JSON $date: expected a 64-bit integer in a string'],
    ['$oid of the wrong length', '{"a":{"$oid":"65a0"}}', 'expected 24 hex digits'],
    ['$binary with a bad subtype', '{"a":{"$binary":{"base64":"AAAA","subType":"zz"}}}', 'is not a valid Extended JSON $binary'],
    ['$timestamp with a negative increment', '{"a":{"$timestamp":{"t":1,"i":-1}}}', 'expected an unsigned 32-bit integer'],
    ['$numberDecimal that is no number', '{"a":{"$numberDecimal":"one"}}', 'is not a valid Extended JSON $numberDecimal'],
  ])('%s is refused', (_case, text, message) => {
    expect(() => parseExtendedJson(text)).toThrow(message);
  });

  test('a wrapper key beside another key is a document', () => {
    const parsed = parseExtendedJson('{"$numberInt":"1","$comment":"x"}') as OrderedDoc;
    expect(parsed).toBeInstanceOf(Map);
    expect(toCanonicalJson(parsed)).toBe('{"$numberInt":"1","$comment":"x"}');
  });
});
