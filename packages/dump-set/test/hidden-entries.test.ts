import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { verifyDumpSet } from '../src/index.js';
import { readDumpSetContents } from '../src/internal/layout.js';

const metadata = (collection: string) => `{"indexes":[{"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"collectionName":"${collection}","type":"collection"}`;
const schema = `${JSON.stringify({ format: 1, tables: [] })}\n`;

describe('hidden entries are no part of a dump set (the dumpers skip them too)', () => {
  const temp = useTempDirs();

  test.each<[string, Record<string, string>]>([
    ['a leftover staging folder of an interrupted mongo dump', { 'mongo/.shop.partial-0a1b2c/users.bson': '', 'mongo/.shop.partial-0a1b2c/users.metadata.json': metadata('users') }],
    ['a hidden mongo database folder', { 'mongo/.old/users.bson': '', 'mongo/.old/users.metadata.json': metadata('users') }],
    ['hidden MySQL files', { 'mysql/.shop.sql': 'DROP TABLE x;\n', 'mysql/.shop.schema.json': schema }],
    ['hidden files in a mongo database folder and at the top', { 'mongo/shop/.DS_Store': 'x', '.DS_Store': 'x', 'mysql/.DS_Store': 'x' }],
  ])('%s is skipped: not listed, not loaded', async (_case, hidden) => {
    const dir = await temp.make('dump-set-hidden-');
    const files: Record<string, string> = {
      'mysql/shop.sql': 'CREATE TABLE `a` (`id` int NOT NULL);\n',
      'mysql/shop.schema.json': schema,
      'mongo/shop/users.bson': '',
      'mongo/shop/users.metadata.json': metadata('users'),
      ...hidden,
    };
    for (const [relative, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
      await writeFile(path.join(dir, relative), content);
    }
    const contents = await readDumpSetContents(dir);
    expect(contents.files).toEqual(['mongo/shop/users.bson', 'mongo/shop/users.metadata.json', 'mysql/shop.schema.json', 'mysql/shop.sql']);
    expect([...contents.mongo.keys()]).toEqual(['shop']);
    expect([...contents.mysql.keys()]).toEqual(['shop']);
    await expect(verifyDumpSet(dir)).resolves.toMatchObject({ verifiedBy: 'layout' });
  });
});
