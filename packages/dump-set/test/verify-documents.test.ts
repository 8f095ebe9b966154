import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MongoDumpDirectoryError, MongoInexactDocumentError } from '@org/mongo-dump';
import { describe, expect, test } from 'vitest';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { verifyDumpSet } from '../src/index.js';

const metadata = '{"indexes":[{"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"collectionName":"users","type":"collection"}';
/** A BSON document of hand-built elements (this package does not depend on bson). */
const document = (...elements: Buffer[]) => {
  const body = Buffer.concat(elements);
  const bytes = Buffer.alloc(4 + body.length + 1);
  bytes.writeInt32LE(bytes.length, 0);
  body.copy(bytes, 4);
  return bytes;
};
const int32Id = (n: number) => Buffer.concat([Buffer.from('\x10_id\0', 'latin1'), Buffer.from(Int32Array.of(n).buffer)]);
// {_id: 1, name: "a"}
const good = document(int32Id(1), Buffer.from('\x02name\0\x02\0\0\0a\0', 'latin1'));
const damaged = Buffer.from(good);
damaged[4] = 0x55; // the type byte of the first element: framing still valid
// {_id: 2, expires: Date(int64 max)}, a "never expires" sentinel no JS Date holds
const sentinel = document(int32Id(2), Buffer.from('\x09expires\0', 'latin1'), Buffer.from(BigInt64Array.of(2n ** 63n - 1n).buffer));

describe('without a checksum list, the pre-load check reads every document', () => {
  const temp = useTempDirs();

  test.each<[string, Buffer, typeof MongoDumpDirectoryError | typeof MongoInexactDocumentError, string]>([
    ['a damaged document whose framing is valid', Buffer.concat([good, damaged]), MongoDumpDirectoryError, `document 2 at byte ${good.length} of collection "shop.users": it is not a valid BSON document (`],
    ['a document that would not load exactly', Buffer.concat([good, sentinel]), MongoInexactDocumentError, 'document 2 (_id 2) of collection "shop.users" in '],
  ])('%s is refused, naming the file', async (_case, bson, type, message) => {
    const dir = await temp.make('dump-set-docs-');
    await mkdir(path.join(dir, 'mongo', 'shop'), { recursive: true });
    await writeFile(path.join(dir, 'mongo', 'shop', 'users.metadata.json'), metadata);
    await writeFile(path.join(dir, 'mongo', 'shop', 'users.bson'), bson);
    const error = await verifyDumpSet(dir).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(type);
    expect(error?.message).toContain(message);
    expect(error?.message).toContain(path.join(dir, 'mongo', 'shop', 'users.bson'));
  });
});
