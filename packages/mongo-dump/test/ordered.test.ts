import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Binary, deserialize, Double, Int32, Long, ObjectId, serialize } from 'bson';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { countBsonDocuments } from '../src/internal/dump-directory.js';
import { MongoDumpDirectoryError } from '../src/internal/errors.js';
import { parseExtendedJson, readBsonDocument, toCanonicalJson, type OrderedDoc } from '../src/internal/ordered.js';

describe('field order of BSON documents', () => {
  const indexKey = new Map<string, unknown>([
    ['2', new Int32(1)],
    ['1', new Int32(-1)],
    ['z', new Int32(1)],
  ]);

  test('the plain deserializer reorders integer-like keys (why we do not use it)', () => {
    expect(Object.keys(deserialize(serialize(indexKey)))).toEqual(['1', '2', 'z']);
  });

  test('readBsonDocument keeps the BSON order, also in nested documents and arrays', () => {
    const bytes = serialize(new Map<string, unknown>([['key', indexKey], ['list', [new Map([['10', 'a'], ['9', 'b']])]]]));
    const doc = readBsonDocument(bytes);
    expect([...(doc.get('key') as OrderedDoc).keys()]).toEqual(['2', '1', 'z']);
    expect([...((doc.get('list') as unknown[])[0] as OrderedDoc).keys()]).toEqual(['10', '9']);
    expect(Buffer.from(serialize(doc)).equals(Buffer.from(bytes))).toBe(true);
  });

  test('canonical JSON keeps the order and the numeric types', () => {
    const doc = new Map<string, unknown>([
      ['2', new Int32(1)],
      ['1', new Double(1)],
      ['0', Long.fromNumber(1)],
    ]);
    const json = toCanonicalJson(doc);
    expect(json).toBe('{"2":{"$numberInt":"1"},"1":{"$numberDouble":"1.0"},"0":{"$numberLong":"1"}}');
    expect(toCanonicalJson(parseExtendedJson(json))).toBe(json);
  });

  test('operator documents stay documents, type wrappers become values', () => {
    const parsed = parseExtendedJson('{"a":{"$gt":{"$numberInt":"5"}},"b":{"$oid":"64b7f0000000000000000000"},"c":{"$date":{"$numberLong":"0"}}}') as OrderedDoc;
    expect(parsed.get('a')).toBeInstanceOf(Map);
    expect(parsed.get('b')).toBeInstanceOf(ObjectId);
    expect(parsed.get('c')).toEqual(new Date(0));
  });

  test('invalid JSON is reported with its offset', () => {
    expect(() => parseExtendedJson('{"a":1,}')).toThrow(/offset 7/);
  });

  // Keys that JS would reorder, dotted paths and `$` operators; values of every numeric width.
  const key = fc.oneof(fc.constantFrom('0', '1', '2', '10', '_id', 'a', 'b.2', '$gt', 'é'), fc.string({ minLength: 1, maxLength: 6 }));
  const leaf = fc.oneof(
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => new Int32(n)),
    fc.double({ noNaN: true }).map((n) => new Double(n)),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Long.fromBigInt(n)),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 8 }).map((bytes) => new Binary(bytes)),
    fc.date({ noInvalidDate: true }),
  );
  const { doc } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, leaf, tie('doc'), fc.array(tie('value'), { maxLength: 3 })),
    doc: fc
      .uniqueArray(fc.tuple(key, tie('value')), { maxLength: 5, selector: ([name]) => name })
      .map((fields) => new Map(fields.filter(([name]) => !name.includes('\0')))),
  }));

  test('property: BSON -> ordered -> BSON and -> canonical JSON -> BSON are byte-exact', () => {
    fc.assert(
      fc.property(doc, (generated) => {
        const bytes = Buffer.from(serialize(generated as OrderedDoc));
        const read = readBsonDocument(bytes);
        expect(Buffer.from(serialize(read)).equals(bytes)).toBe(true);
        const reparsed = parseExtendedJson(toCanonicalJson(read)) as OrderedDoc;
        expect(Buffer.from(serialize(reparsed)).equals(bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('.bson file framing', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mongo-dump-bson-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const one = Buffer.from(serialize({ _id: 1 }));

  test.each([
    ['empty', Buffer.alloc(0), 0],
    ['three documents', Buffer.concat([one, one, one]), 3],
  ])('%s file', async (name, content, count) => {
    const path = join(dir, `${name}.bson`);
    await writeFile(path, content);
    expect(await countBsonDocuments(path)).toBe(count);
  });

  test.each([
    ['truncated', Buffer.concat([one, one.subarray(0, 5)]), /stray bytes/],
    ['bad length', Buffer.from([1, 0, 0, 0, 0]), /document length 1 at byte 0/],
    ['missing terminator', Buffer.concat([one.subarray(0, one.length - 1), Buffer.from([7])]), /no terminator/],
  ])('%s file is refused', async (name, content, problem) => {
    const path = join(dir, `${name}.bson`);
    await writeFile(path, content);
    const error = await countBsonDocuments(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MongoDumpDirectoryError);
    expect((error as Error).message).toMatch(problem);
    expect((error as Error).message).toContain(path);
  });
});
