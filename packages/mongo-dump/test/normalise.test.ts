import { describe, expect, test } from 'vitest';
import {
  metadataJson,
  normaliseCollectionOptions,
  normaliseIndex,
  specFromMetadata,
} from '../src/internal/normalise.js';
import { parseExtendedJson, toCanonicalJson, type OrderedDoc } from '../src/internal/ordered.js';
import { recordedSpecs } from './recorded-catalog.js';

const COLLATION_EN_2 =
  '"collation":{"locale":"en","caseLevel":false,"caseFirst":"off","strength":{"$numberInt":"2"},' +
  '"numericOrdering":false,"alternate":"non-ignorable","maxVariable":"punct","normalization":false,"backwards":false}';
const ICU_COLLATION =
  '{"locale":"en","caseLevel":false,"caseFirst":"off","strength":2,"numericOrdering":false,"alternate":"non-ignorable",' +
  '"maxVariable":"punct","normalization":false,"backwards":false,"version":"57.1"}';
const int = (n: number) => `{"$numberInt":"${n}"}`;

describe('index normalisation (listIndexes entries of MongoDB 7)', () => {
  test.each([
    ['_id index', '{"v":2,"key":{"_id":1},"name":"_id_"}', `{"key":{"_id":${int(1)}},"name":"_id_"}`],
    [
      'compound key keeps its order',
      '{"v":2,"key":{"customer":1,"created":-1},"name":"c"}',
      `{"key":{"customer":${int(1)},"created":${int(-1)}},"name":"c"}`,
    ],
    [
      'integer-like and dotted numeric key fields keep their order',
      '{"v":2,"key":{"lines.2":1,"lines.10":1,"2":-1,"1":1},"name":"n"}',
      `{"key":{"lines.2":${int(1)},"lines.10":${int(1)},"2":${int(-1)},"1":${int(1)}},"name":"n"}`,
    ],
    [
      'options listed before key move after key and name',
      '{"v":2,"unique":true,"key":{"number":1},"name":"number_1"}',
      `{"key":{"number":${int(1)}},"name":"number_1","unique":true}`,
    ],
    ['sparse', '{"v":2,"key":{"c":1},"name":"c_1","sparse":true}', `{"key":{"c":${int(1)}},"name":"c_1","sparse":true}`],
    [
      'TTL',
      '{"v":2,"key":{"expiresAt":1},"name":"ttl","expireAfterSeconds":3600}',
      `{"key":{"expiresAt":${int(1)}},"name":"ttl","expireAfterSeconds":${int(3600)}}`,
    ],
    [
      'partial filter keeps its own field order',
      '{"v":2,"key":{"s":1},"name":"p","partialFilterExpression":{"status":{"$in":["open"]},"amount":{"$gt":100}}}',
      `{"key":{"s":${int(1)}},"name":"p","partialFilterExpression":{"status":{"$in":["open"]},"amount":{"$gt":${int(100)}}}}`,
    ],
    [
      'collation loses only the ICU version; options sorted',
      `{"v":2,"key":{"email":1},"name":"email_1","unique":true,"collation":${ICU_COLLATION}}`,
      `{"key":{"email":${int(1)}},"name":"email_1",${COLLATION_EN_2},"unique":true}`,
    ],
    [
      '2dsphere keeps its index version',
      '{"v":2,"key":{"home":"2dsphere"},"name":"home_2dsphere","2dsphereIndexVersion":3}',
      `{"key":{"home":"2dsphere"},"name":"home_2dsphere","2dsphereIndexVersion":${int(3)}}`,
    ],
    [
      'text index: weights, language fields and version kept, sorted',
      '{"v":2,"key":{"_fts":"text","_ftsx":1},"name":"t","weights":{"name":10,"bio":1},"default_language":"english","language_override":"language","textIndexVersion":3}',
      `{"key":{"_fts":"text","_ftsx":${int(1)}},"name":"t","default_language":"english","language_override":"language",` +
        `"textIndexVersion":${int(3)},"weights":{"name":${int(10)},"bio":${int(1)}}}`,
    ],
    ['hashed', '{"v":2,"key":{"sku":"hashed"},"name":"h"}', '{"key":{"sku":"hashed"},"name":"h"}'],
    ['wildcard', '{"v":2,"key":{"$**":1},"name":"$**_1"}', `{"key":{"$**":${int(1)}},"name":"$**_1"}`],
    ['ns of MongoDB <= 4.2 dropped', '{"v":2,"key":{"a":1},"name":"a_1","ns":"shop.orders"}', `{"key":{"a":${int(1)}},"name":"a_1"}`],
    ['index version 1 dropped like 2', '{"v":1,"key":{"a":1},"name":"a_1"}', `{"key":{"a":${int(1)}},"name":"a_1"}`],
    [
      'clustered _id index',
      '{"v":2,"key":{"_id":1},"name":"_id_","unique":true,"clustered":true}',
      `{"key":{"_id":${int(1)}},"name":"_id_","clustered":true,"unique":true}`,
    ],
    [
      'a double key direction stays a double',
      '{"v":2,"key":{"score":{"$numberDouble":"-1.0"}},"name":"s"}',
      '{"key":{"score":{"$numberDouble":"-1.0"}},"name":"s"}',
    ],
  ])('%s', (_case, listed, expected) => {
    expect(toCanonicalJson(normaliseIndex(parseExtendedJson(listed) as OrderedDoc))).toBe(expected);
  });
});

describe('collection option normalisation (listCollections options of MongoDB 7)', () => {
  test.each([
    ['none', '{}', '{}'],
    ['capped, sorted', '{"size":4096,"capped":true,"max":10}', `{"capped":true,"max":${int(10)},"size":${int(4096)}}`],
    [
      'validator keeps its own order',
      '{"validator":{"$jsonSchema":{"required":["b","a"]}},"validationLevel":"moderate","validationAction":"warn"}',
      '{"validationAction":"warn","validationLevel":"moderate","validator":{"$jsonSchema":{"required":["b","a"]}}}',
    ],
    ['collation loses the ICU version', `{"collation":${ICU_COLLATION}}`, `{${COLLATION_EN_2}}`],
    [
      'time series with TTL',
      '{"timeseries":{"timeField":"t","metaField":"m","granularity":"hours","bucketMaxSpanSeconds":2592000},"expireAfterSeconds":{"$numberLong":"60"}}',
      `{"expireAfterSeconds":{"$numberLong":"60"},"timeseries":{"timeField":"t","metaField":"m","granularity":"hours","bucketMaxSpanSeconds":${int(2592000)}}}`,
    ],
    [
      'clustered index loses v',
      '{"clusteredIndex":{"v":2,"key":{"_id":1},"name":"_id_","unique":true}}',
      `{"clusteredIndex":{"key":{"_id":${int(1)}},"name":"_id_","unique":true}}`,
    ],
    [
      'view pipeline keeps $sort key order',
      '{"viewOn":"orders","pipeline":[{"$sort":{"2":1,"1":-1}}]}',
      `{"pipeline":[{"$sort":{"2":${int(1)},"1":${int(-1)}}}],"viewOn":"orders"}`,
    ],
  ])('%s', (_case, listed, expected) => {
    expect(toCanonicalJson(normaliseCollectionOptions(parseExtendedJson(listed) as OrderedDoc))).toBe(expected);
  });
});

const ID_INDEX = `{"key":{"_id":${int(1)}},"name":"_id_"}`;

describe('metadata JSON of the recorded MongoDB 7 catalog', () => {
  const specs = recordedSpecs();

  test('system collections are left out and the rest is sorted by name', () => {
    expect(specs.map((spec) => spec.name)).toEqual([
      'audit_log',
      'big_spenders',
      'customers',
      'order_totals',
      'orders',
      'products',
      'stocks',
      'weather',
    ]);
  });

  test.each([
    [
      'orders',
      `{"indexes":[${ID_INDEX},{"key":{"coupon":${int(1)}},"name":"coupon_1","sparse":true},` +
        `{"key":{"customer":${int(1)},"created":${int(-1)}},"name":"customer_1_created_-1"},` +
        `{"key":{"expiresAt":${int(1)}},"name":"expiresAt_1","expireAfterSeconds":${int(3600)}},` +
        `{"key":{"number":${int(1)}},"name":"number_1","unique":true},` +
        `{"key":{"lines.2":${int(1)},"lines.10":${int(1)},"2":${int(-1)}},"name":"numeric_paths"},` +
        `{"key":{"status":${int(1)},"amount":${int(1)}},"name":"open_by_amount","partialFilterExpression":{"status":{"$in":["open","pending"]},"amount":{"$gt":${int(100)}}}}],` +
        '"collectionName":"orders","type":"collection"}',
    ],
    [
      'audit_log',
      `{"options":{"capped":true,"max":${int(5000)},"size":${int(1048576)}},"indexes":[${ID_INDEX}],"collectionName":"audit_log","type":"collection"}`,
    ],
    [
      'customers',
      '{"options":{"validationAction":"error","validationLevel":"strict","validator":{"$jsonSchema":{"bsonType":"object",' +
        '"required":["email","name"],"properties":{"email":{"bsonType":"string"},"name":{"bsonType":"string"}}}}},' +
        `"indexes":[${ID_INDEX},{"key":{"email":${int(1)}},"name":"email_1",${COLLATION_EN_2},"unique":true},` +
        `{"key":{"home":"2dsphere"},"name":"home_2dsphere","2dsphereIndexVersion":${int(3)}},` +
        `{"key":{"_fts":"text","_ftsx":${int(1)}},"name":"name_text_bio_text","default_language":"english",` +
        `"language_override":"language","textIndexVersion":${int(3)},"weights":{"bio":${int(1)},"name":${int(10)}}}],` +
        '"collectionName":"customers","type":"collection"}',
    ],
    [
      'products',
      `{"options":{${COLLATION_EN_2}},"indexes":[{"key":{"_id":${int(1)}},"name":"_id_",${COLLATION_EN_2}},` +
        `{"key":{"attributes.$**":${int(1)}},"name":"attributes.$**_1",${COLLATION_EN_2}},` +
        `{"key":{"name":${int(1)}},"name":"name_1",${COLLATION_EN_2}}],"collectionName":"products","type":"collection"}`,
    ],
    [
      'stocks',
      `{"options":{"clusteredIndex":{"key":{"_id":${int(1)}},"name":"_id_","unique":true}},` +
        `"indexes":[{"key":{"_id":${int(1)}},"name":"_id_","clustered":true,"unique":true}],"collectionName":"stocks","type":"collection"}`,
    ],
    [
      'weather',
      '{"options":{"expireAfterSeconds":{"$numberLong":"86400"},"timeseries":{"timeField":"timestamp","metaField":"metadata",' +
        `"granularity":"hours","bucketMaxSpanSeconds":${int(2592000)}}},` +
        `"indexes":[{"key":{"metadata":${int(1)},"timestamp":${int(1)}},"name":"metadata_1_timestamp_1"}],"collectionName":"weather","type":"timeseries"}`,
    ],
    [
      'order_totals',
      '{"options":{"pipeline":[{"$match":{"status":"paid"}},{"$group":{"_id":"$customer","total":{"$sum":"$amount"}}},' +
        `{"$sort":{"total":${int(-1)},"_id":${int(1)}}}],"viewOn":"orders"},"indexes":[],"collectionName":"order_totals","type":"view"}`,
    ],
    [
      'big_spenders',
      `{"options":{"pipeline":[{"$match":{"total":{"$gt":${int(1000)}}}}],"viewOn":"order_totals"},` +
        '"indexes":[],"collectionName":"big_spenders","type":"view"}',
    ],
  ])('%s', (name, expected) => {
    const spec = specs.find((candidate) => candidate.name === name);
    expect(spec && metadataJson(spec)).toBe(expected);
  });

  test.each(specs.map((spec) => [spec.name, spec] as const))('%s: reading our metadata back gives the same bytes', (name, spec) => {
    const reread = specFromMetadata(name, parseExtendedJson(metadataJson(spec)));
    expect(typeof reread === 'string' ? reread : metadataJson(reread)).toBe(metadataJson(spec));
  });

  test('a mongodump-written metadata file (uuid, v, server field order) reads as the same collection', () => {
    const mongodumpWritten =
      '{"indexes":[{"v":{"$numberInt":"2"},"unique":true,"key":{"number":{"$numberInt":"1"}},"name":"number_1"},' +
      '{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],' +
      '"uuid":"d8cd41dc793f4ea6869d5d00d63e31f3","collectionName":"orders","type":"collection"}';
    const spec = specFromMetadata('orders', parseExtendedJson(mongodumpWritten));
    expect(typeof spec === 'string' ? spec : metadataJson(spec)).toBe(
      `{"indexes":[${ID_INDEX},{"key":{"number":${int(1)}},"name":"number_1","unique":true}],"collectionName":"orders","type":"collection"}`,
    );
  });

  test.each([
    ['not an object', '[]', 'metadata is not a JSON object'],
    ['index without key', '{"indexes":[{"name":"a"}]}', '"indexes" must be an array of index documents with a non-empty "key"'],
    ['index with an empty key', '{"indexes":[{"key":{},"name":"a"}]}', '"indexes" must be an array of index documents with a non-empty "key"'],
    ['index without a name', '{"indexes":[{"key":{"a":1}}]}', 'index 1 of "indexes" has no "name" (a non-empty string)'],
    ['index with a numeric name', '{"indexes":[{"key":{"a":1},"name":"a_1"},{"key":{"b":1},"name":7}]}', 'index 2 of "indexes" has no "name" (a non-empty string)'],
    ['two indexes of one name', '{"indexes":[{"key":{"a":1},"name":"x"},{"key":{"b":1},"name":"x"}]}', 'two indexes are named "x"'],
    ['an unknown type', '{"indexes":[],"type":"table"}', '"type" is "table"; expected "collection", "view" or "timeseries"'],
    ['a type that is no string', '{"indexes":[],"type":1}', '"type" is {"$numberInt":"1"}; expected "collection", "view" or "timeseries"'],
    ['options not an object', '{"options":[],"indexes":[]}', '"options" must be an object'],
    ['name mismatch', '{"indexes":[],"collectionName":"other"}', 'collectionName "other" does not match the collection "orders" the file name stands for (file names escape collection names as mongodump does)'],
  ])('bad metadata: %s', (_case, text, problem) => {
    expect(specFromMetadata('orders', parseExtendedJson(text))).toBe(problem);
  });
});
