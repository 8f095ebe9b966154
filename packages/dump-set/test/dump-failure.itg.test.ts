import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { dumpSet, type DumpSources } from '../src/index.js';
import { ScratchDatabases, seedSource } from './support.js';

// The failure used to race the other engine's writes into the staging directory: in most runs the
// `.partial-` directory stayed behind, progress went on after the error, or ENOTEMPTY replaced it.
const RUNS = 6;

describeWithServices(['mysql', 'mongo'], 'dumpSet when one engine fails', () => {
  let scratch: ScratchDatabases;
  let work: string;
  let source: string;

  beforeAll(async () => {
    scratch = new ScratchDatabases(serviceVar('TEST_MYSQL_URL'), serviceVar('TEST_MONGO_URL'));
    work = await mkdtemp(path.join(tmpdir(), 'dump-set-failure-'));
    source = scratch.name('src');
    await seedSource(scratch, source);
    // Enough documents that the Mongo side is still writing when the MySQL side fails, and vice versa.
    const db = (await scratch.mongoClient()).db(source);
    for (const name of ['c1', 'c2', 'c3', 'c4']) {
      await db.collection(name).insertMany(Array.from({ length: 2000 }, (_, i) => ({ i, pad: 'x'.repeat(200) })));
    }
    const mysql = await scratch.mysqlConnection();
    await mysql.query(`CREATE TABLE \`${source}\`.bulk (id int PRIMARY KEY, pad varchar(200) NOT NULL)`);
    for (let batch = 0; batch < 20; batch++) {
      const rows = Array.from({ length: 1000 }, (_, i) => [batch * 1000 + i, 'x'.repeat(200)]);
      await mysql.query(`INSERT INTO \`${source}\`.bulk (id, pad) VALUES ?`, [rows]);
    }
  });
  afterAll(async () => {
    await scratch?.dropAll();
    await rm(work, { recursive: true, force: true });
  });

  test.each([
    ['MySQL data table', (): DumpSources => ({ mysql: { url: scratch.mysqlUrl, databases: [source], dataTables: ['no_such_table'] }, mongo: { url: scratch.mongoUrl, databases: [source], dataCollections: ['c1', 'c2', 'c3', 'c4'] } }), /data table `no_such_table` does not exist/],
    ['Mongo data collection', (): DumpSources => ({ mysql: { url: scratch.mysqlUrl, databases: [source], dataTables: ['catalog_item', 'bulk'] }, mongo: { url: scratch.mongoUrl, databases: [source], dataCollections: ['no_such_coll'] } }), /data collection "no_such_coll" does not exist/],
  ])('a nonexistent %s: its error, every time, and nothing left beside the output', async (_case, sources, message) => {
    for (let run = 0; run < RUNS; run++) {
      const parent = await mkdtemp(path.join(work, 'run-'));
      const progress: string[] = [];
      const error = await dumpSet(sources(), path.join(parent, 'out'), { onProgress: (line) => progress.push(line) }).then(
        () => new Error('the dump succeeded'),
        (caught: unknown) => caught as Error,
      );
      expect(error.message, `run ${run}`).toMatch(message);
      const linesAtError = progress.length;
      await sleep(200);
      expect(progress.length, `run ${run}: progress after the error`).toBe(linesAtError);
      // No `.out.partial-*` staging directory, no `out`, no `out.checksums.json`.
      expect(await readdir(parent), `run ${run}`).toEqual([]);
    }
  });
});
