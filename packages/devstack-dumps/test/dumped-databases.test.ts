import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DumpSetFileError } from '@org/dump-set';
import { describe, expect, test } from 'vitest';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { dumpedDatabases } from '../src/internal/dumped-databases.js';

describe('the databases of a dump set directory', () => {
  const temp = useTempDirs();

  test('names come from the files; hidden entries and a missing engine folder are skipped', async () => {
    const dir = await temp.make('dumped-dbs-');
    for (const file of ['mysql/shop.sql', 'mysql/shop.schema.json', 'mysql/.old.sql', 'mongo/lms/a.bson', 'mongo/.lms.partial-1/a.bson']) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), '');
    }
    expect(await dumpedDatabases(dir)).toEqual({ mysql: ['shop'], mongo: ['lms'] });
    const mongoOnly = await temp.make('dumped-dbs-');
    await mkdir(path.join(mongoOnly, 'mongo', 'lms'), { recursive: true });
    await writeFile(path.join(mongoOnly, 'mongo', 'lms', 'a.bson'), '');
    expect(await dumpedDatabases(mongoOnly)).toEqual({ mysql: [], mongo: ['lms'] });
  });

  test.each([
    ['a missing directory', async (dir: string) => path.join(dir, 'nonexistent')],
    ['a file instead of a directory', async (dir: string) => {
      await writeFile(path.join(dir, 'file'), '');
      return path.join(dir, 'file');
    }],
  ])('%s is named as such (not read as a dump without databases)', async (_case, make) => {
    const target = await make(await temp.make('dumped-dbs-'));
    const error = await dumpedDatabases(target).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(DumpSetFileError);
    expect(error).toMatchObject({ code: 'dump-dir-missing', message: `dump set directory ${target} does not exist or is not a directory; pass a directory written by dump or pull` });
  });

  test('a file outside the layout (here a file where the mongo folder should be) is named', async () => {
    const dir = await temp.make('dumped-dbs-');
    await writeFile(path.join(dir, 'mongo'), '');
    await expect(dumpedDatabases(dir)).rejects.toThrow(`dump set ${dir}: mongo is not part of the dump set layout`);
  });
});
