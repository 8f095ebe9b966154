import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { NotFoundError, diff, gitAncestry, list, prune, publish, pull, verify, type PublishResult, type Store } from '../src/index.js';
import { backends, describeBackend, makeDumpDir, makeLinearRepo } from './support.js';

const DAY = 86_400_000;

for (const backend of backends) {
  describeBackend(backend, 'diff and prune', () => {
    let store: Store;
    let repo: { dir: string; commits: string[] };
    const dirs: string[] = [];
    const published: PublishResult[] = [];

    beforeAll(async () => {
      ({ store } = await backend.open());
      repo = await makeLinearRepo(4);
      // Four versions published 30 days ago; mysql/shared.sql is the same in all of them.
      for (let i = 0; i < 4; i++) {
        const dir = await makeDumpDir({ 'mysql/shared.sql': 'CREATE TABLE shared (id int);\n', [`mysql/app.sql`]: `CREATE TABLE t${i} (id int);\n`, ...(i === 3 ? { 'mongo/app/new.bson': 'x' } : {}) });
        dirs.push(dir);
        const now = () => new Date(Date.now() - 30 * DAY + i * 1000);
        published.push(await publish({ store, service: 'ret', dir, source: { commit: repo.commits[i]!, branch: 'master' }, ancestry: gitAncestry(repo.dir), now }));
      }
    });
    afterAll(async () => {
      await store.close();
      await backend.cleanup();
      await Promise.all([repo.dir, ...dirs].map((dir) => rm(dir, { recursive: true, force: true })));
    });

    test('diff names added, removed and changed files and runs the detail hook on verified bytes', async () => {
      const result = await diff({
        store,
        service: 'ret',
        from: published[2]!.version,
        to: published[3]!.version,
        detail: async (context) => ({ before: (await context.readFile('from', 'mysql/app.sql')).toString(), after: (await context.readFile('to', 'mysql/app.sql')).toString() }),
      });
      expect(result.added.map((file) => file.path)).toEqual(['mongo/app/new.bson']);
      expect(result.removed).toEqual([]);
      expect(result.changed.map((change) => change.path)).toEqual(['mysql/app.sql']);
      expect(result.unchanged).toBe(1);
      expect(result.details).toEqual({ before: 'CREATE TABLE t2 (id int);\n', after: 'CREATE TABLE t3 (id int);\n' });
    });

    test('prune is a dry run by default, then keeps the newest N per branch and every shared blob', async () => {
      const plan = await prune({ store, service: 'ret', keep: 2, graceMs: 0 });
      expect(plan.dryRun).toBe(true);
      expect(plan.keptVersions).toEqual([published[2]!.version, published[3]!.version].sort());
      expect(plan.deleted.versions).toHaveLength(2);
      expect(plan.deleted.commits).toHaveLength(2);
      // Only the two app.sql blobs of the dropped versions go; shared.sql is still referenced.
      expect(plan.deleted.blobs).toHaveLength(2);
      expect((await list({ store, service: 'ret' })).versions).toHaveLength(4);

      const done = await prune({ store, service: 'ret', keep: 2, graceMs: 0, yes: true });
      expect(done.deleted).toEqual(plan.deleted);
      expect((await list({ store, service: 'ret' })).versions.map((version) => version.version).sort()).toEqual(plan.keptVersions);
      expect((await verify({ store, service: 'ret' })).problems).toEqual([]);
      const out = await mkdtemp(path.join(tmpdir(), 'dv-prune-'));
      dirs.push(out);
      await pull({ store, service: 'ret', version: published[2]!.version, out: path.join(out, 'kept') });
      await expect(pull({ store, service: 'ret', commit: repo.commits[0]!, out: path.join(out, 'gone') })).rejects.toThrow(NotFoundError);
    });

    test('a recent commit index entry and the grace period protect versions and blobs', async () => {
      const fresh = await makeDumpDir({ 'mysql/app.sql': 'CREATE TABLE fresh (id int);\n' });
      dirs.push(fresh);
      // Published now on another branch: recent, so kept even with keep=1 on master.
      const recent = await publish({ store, service: 'ret', dir: fresh, source: { commit: repo.commits[1]!, branch: 'feature' }, ancestry: gitAncestry(repo.dir) });
      const plan = await prune({ store, service: 'ret', keep: 1, graceMs: 0 });
      expect(plan.keptVersions).toContain(recent.version);
      expect(plan.keptVersions).toContain(published[3]!.version);
      expect(plan.deleted.versions).toEqual([`ret/versions/${published[2]!.version}.json`]);
      // With the default one-hour grace, nothing just written is deleted.
      expect((await prune({ store, service: 'ret', keep: 1 })).deleted.blobs).toEqual([]);
    });
  });
}
