import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { dumpMongo, readMongoSchema } from '../src/index.js';
import { FIXTURE_DATA_COLLECTIONS, readTree, uniqueDbName, useFixtureDatabase } from './live-fixture.js';

const run = promisify(execFile);

function onPath(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const mongorestore = onPath('mongorestore');
if (!mongorestore) {
  console.warn(
    '[skip] mongorestore loads our dump: mongorestore is not on PATH (Debian 12 has no mongo-tools package; ' +
      'build it from the github.com/mongodb/mongo-tools Go module, see packages/mongo-dump/README.md)',
  );
}

describeWithServices(['mongo'], 'mongorestore loads our dump', () => {
  const source = uniqueDbName('mdump_mr_src');
  const restored = uniqueDbName('mdump_mr_dst');
  const fixture = useFixtureDatabase(source, [restored]);

  test.skipIf(!mongorestore)('the stock mongorestore restores the fixture dump, and our dump of it is the same', async () => {
    const { url, engine, work } = fixture;
    await dumpMongo({ url, databases: [source], dataCollections: FIXTURE_DATA_COLLECTIONS, outDir: join(work, 'ours') });
    // mongorestore always sends the index option `ns` and relies on `ignoreUnknownIndexOptions`, both
    // of which FerretDB 1.24 rejects, so there it restores collections and documents only.
    const indexArgs = engine.flavor === 'ferretdb' ? ['--noIndexRestore'] : [];
    await run(mongorestore as string, [
      `--uri=${url}`,
      `--nsFrom=${source}.*`,
      `--nsTo=${restored}.*`,
      ...indexArgs,
      join(work, 'ours', 'mongo'),
    ]);
    await dumpMongo({ url, databases: [restored], dataCollections: FIXTURE_DATA_COLLECTIONS, outDir: join(work, 'again') });
    const ours = await readTree(join(work, 'ours', 'mongo', source));
    const again = await readTree(join(work, 'again', 'mongo', restored));
    expect([...again.keys()]).toEqual([...ours.keys()]);
    for (const [path, bytes] of ours) {
      if (path.endsWith('.bson') || engine.flavor === 'mongodb') expect(again.get(path)?.toString('hex'), path).toBe(bytes.toString('hex'));
    }
    if (engine.flavor === 'ferretdb') {
      // Collections with their options are restored; compare everything but the indexes.
      const withoutIndexes = async (dir: string) =>
        (await readMongoSchema({ dir })).databases.flatMap((db) => db.collections.map(({ name, type, options }) => ({ name, type, options })));
      expect(await withoutIndexes(join(work, 'again'))).toEqual(await withoutIndexes(join(work, 'ours')));
    }
  });
});
