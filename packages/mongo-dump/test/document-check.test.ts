import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BSONRegExp, Int32, serialize } from 'bson';
import { describe, expect, test } from 'vitest';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { loadMongo, MongoDumpDirectoryError, MongoInexactDocumentError } from '../src/index.js';
import { documentProblem } from '../src/internal/document-check.js';
import { checkBsonFile } from '../src/internal/dump-directory.js';
import { metadataJson } from '../src/internal/normalise.js';

/** A BSON element: type byte, NUL-terminated name, value bytes. */
const element = (type: number, name: string | Buffer, value: Buffer) => Buffer.concat([Buffer.from([type]), Buffer.from(name), Buffer.from([0]), value]);
/** A BSON document of the given elements (length, elements, terminator): hand-built, so any bytes can be made. */
const document = (...elements: Buffer[]) => {
  const body = Buffer.concat(elements);
  const bytes = Buffer.alloc(4 + body.length + 1);
  bytes.writeInt32LE(bytes.length, 0);
  body.copy(bytes, 4);
  return bytes;
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
};
const int64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return b;
};
const cstring = (text: string | Buffer) => Buffer.concat([Buffer.from(text), Buffer.from([0])]);
const string = (bytes: Buffer) => Buffer.concat([int32(bytes.length + 1), bytes, Buffer.from([0])]);
const id = element(0x10, '_id', int32(7));
const oid = Buffer.from('65a000000000000000000001', 'hex');

describe('documents that would not load exactly are refused, each with what cannot be kept', () => {
  test.each<[string, Buffer, string]>([
    ['a date of int64 max (a "never expires" sentinel)', document(id, element(0x09, 'expires', int64(9223372036854775807n))), 'field "expires" holds the date 9223372036854775807 ms since 1970, outside the range of JavaScript dates'],
    ['a date of -6.2e16 ms', document(id, element(0x09, 'born', int64(-62000000000000000n))), 'field "born" holds the date -62000000000000000 ms since 1970, outside the range'],
    ['regex flags out of alphabetical order', document(id, element(0x0b, 're', Buffer.concat([cstring('^a'), cstring('mi')]))), 'field "re" holds a regular expression with flags "mi", which the JavaScript driver writes in alphabetical order ("im")'],
    ['BSON undefined', document(id, element(0x06, 'gone', Buffer.alloc(0))), 'field "gone" holds BSON undefined'],
    ['a DBPointer', document(id, element(0x0c, 'ptr', Buffer.concat([string(Buffer.from('db.c')), oid]))), 'field "ptr" holds a DBPointer'],
    ['duplicate field names', document(id, element(0x10, 'a', int32(1)), element(0x10, 'a', int32(2))), 'field "a" appears more than once in its document'],
    ['duplicate names in a nested document', document(id, element(0x03, 'sub', document(element(0x10, 'x', int32(1)), element(0x10, 'x', int32(1))))), 'field "sub.x" appears more than once'],
    ['a string that is not UTF-8', document(id, element(0x02, 's', string(Buffer.from([0x61, 0xff, 0x62])))), 'field "s" holds a string that is not valid UTF-8'],
    ['a field name that is not UTF-8', document(id, element(0x10, Buffer.from([0x6b, 0xc3]), int32(1))), 'is not valid UTF-8'],
    ['an out-of-range date inside an array', document(id, element(0x04, 'list', document(element(0x09, '0', int64(-(2n ** 63n)))))), 'field "list.0" holds the date -9223372036854775808 ms'],
  ])('%s', (_case, bytes, detail) => {
    const problem = documentProblem(bytes);
    expect(problem).toMatchObject({ kind: 'inexact', id: '7' });
    expect(problem?.detail).toContain(detail);
  });

  test.each<[string, Buffer]>([
    ['an ordinary document', Buffer.from(serialize(new Map<string, unknown>([['_id', new Int32(7)], ['2', 'b'], ['1', 'a'], ['at', new Date(8.64e15)], ['re', new BSONRegExp('x', 'im')]])))],
    ['dates at the edges of the JS range', document(id, element(0x09, 'max', int64(8640000000000000n)), element(0x09, 'min', int64(-8640000000000000n)))],
    ['sorted regex flags', document(id, element(0x0b, 're', Buffer.concat([cstring('^a'), cstring('imsx')])))],
    // The deserializer turns these into DBRef objects; they must load as the documents they are.
    ['a DBRef with extra fields', document(id, element(0x03, 'owner', document(element(0x02, '$ref', string(Buffer.from('users'))), element(0x07, '$id', oid), element(0x10, 'extra', int32(1)))))],
    ['a DBRef with $db inside an array', document(id, element(0x04, 'refs', document(element(0x03, '0', document(element(0x02, '$ref', string(Buffer.from('c'))), element(0x10, '$id', int32(5)), element(0x02, '$db', string(Buffer.from('other'))))))))],
    ['a top-level document shaped like a DBRef', document(id, element(0x02, '$ref', string(Buffer.from('c'))), element(0x10, '$id', int32(9)))],
    ['nested documents and arrays with integer-like names', Buffer.from(serialize(new Map<string, unknown>([['_id', new Int32(7)], ['m', new Map<string, unknown>([['2', new Map<string, unknown>([['b', 1], ['1', [[1, 2], new Map([['10', 'x'], ['9', 'y']])]]])], ['1', 'a']])]])))],
  ])('%s loads as it is', (_case, bytes) => {
    expect(documentProblem(bytes)).toBeUndefined();
  });

  test('a damaged document (an unknown type byte where the first element starts) is told apart from an inexact one', () => {
    const bytes = document(id, element(0x02, 's', string(Buffer.from('x'))));
    bytes[4] = 0x55;
    expect(documentProblem(bytes)).toMatchObject({ kind: 'damaged', detail: expect.stringContaining('it is not a valid BSON document') });
  });
});

describe('the pre-load check reads every document of a file', () => {
  const temp = useTempDirs();

  test.each<[string, Buffer[], typeof MongoDumpDirectoryError | typeof MongoInexactDocumentError, string]>([
    [
      'a damaged second document',
      [document(id), Object.assign(document(element(0x10, '_id', int32(8)), element(0x02, 's', string(Buffer.from('x')))), { 4: 0x55 })],
      MongoDumpDirectoryError,
      'document 2 at byte 14 of collection "shop.orders": it is not a valid BSON document (',
    ],
    [
      'a date sentinel in the first document',
      [document(id, element(0x09, 'expires', int64(9223372036854775807n)))],
      MongoInexactDocumentError,
      'document 1 (_id 7) of collection "shop.orders" in ',
    ],
  ])('%s is refused, naming the file, collection and document', async (_case, documents, type, message) => {
    const dir = await temp.make('mdump-check-');
    const file = join(dir, 'orders.bson');
    await writeFile(file, Buffer.concat(documents));
    const error = await checkBsonFile(file, 'shop.orders').then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(type);
    expect(error?.message).toContain(message);
    expect(error?.message).toContain(file);
  });

  test('loadMongo refuses such a dump before it connects (nothing is created)', async () => {
    const dir = await temp.make('mdump-check-');
    await mkdir(join(dir, 'mongo', 'shop'), { recursive: true });
    await writeFile(join(dir, 'mongo', 'shop', 'orders.metadata.json'), metadataJson({ name: 'orders', type: 'collection', options: new Map(), indexes: [] }));
    await writeFile(join(dir, 'mongo', 'shop', 'orders.bson'), document(id, element(0x0b, 're', Buffer.concat([cstring('^a'), cstring('mi')]))));
    // Port 1: were it reached, the error would be one of connecting.
    const error = await loadMongo({ url: 'mongodb://127.0.0.1:1', dir }).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(MongoInexactDocumentError);
    expect(error?.message).toMatch(/^document 1 \(_id 7\) of collection "shop.orders" in .*orders\.bson cannot be loaded without changing it: field "re" holds a regular expression with flags "mi", .*; fix that document in the source database and dump again, or load this dump with mongorestore/);
  });
});
