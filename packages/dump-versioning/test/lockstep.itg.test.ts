import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { fingerprintMigrations, gitAncestry, publish, resolve, verify, type PublishStep, type Store } from '../src/index.js';
import { backends, describeBackend, makeDumpDir, makeLinearRepo, sampleDump } from './support.js';

const STEPS: PublishStep[] = ['blob', 'blobs', 'migrations', 'version', 'checked', 'commit', 'ref'];
/** A different one-migration record per commit index, so every crash publish writes a new record. */
const migrationsAt = (i: number) => ({ fingerprint: fingerprintMigrations([{ app: 'shop', name: `000${i}_step`, sha256: String(i).repeat(64) }]) });

class InjectedCrash extends Error {}

for (const backend of backends) {
  describeBackend(backend, 'lockstep publish', () => {
    let store: Store;
    let reopen: () => Store;
    let repo: { dir: string; commits: string[] };
    let dumps: string[];

    beforeAll(async () => {
      ({ store, reopen } = await backend.open());
      repo = await makeLinearRepo(8);
      dumps = await Promise.all(repo.commits.map((_, i) => makeDumpDir(sampleDump(`c${i}`))));
    });
    afterAll(async () => {
      await store.close();
      await backend.cleanup();
      await Promise.all([repo.dir, ...dumps].map((dir) => rm(dir, { recursive: true, force: true })));
    });

    test('8 publishers for 8 commits of one linear history race; the ref ends at the newest commit every round', async () => {
      const ancestry = gitAncestry(repo.dir);
      for (let round = 0; round < 10; round++) {
        const branch = `race-${round}`;
        // Each publisher has its own store handle (own client/connection pool), as separate CI runs would.
        const handles = repo.commits.map(() => reopen());
        const results = await Promise.all(
          // Three distinct migrations records, so several publishers create the same record at once.
          repo.commits.map((commit, i) => publish({ store: handles[i]!, service: 'race', dir: dumps[i]!, source: { commit, branch }, ancestry, migrations: migrationsAt(i % 3) })),
        );
        await Promise.all(handles.map((handle) => handle.close()));
        const ref = await resolve({ store, service: 'race', branch });
        expect(ref.commit, `round ${round}`).toBe(repo.commits[7]);
        expect(ref.version).toBe(results[7]!.version);
        expect(ref.entry.migrations).toEqual(migrationsAt(7 % 3));
        // Every publisher whose ref was not moved says why (an older run finishing late).
        for (const result of results.filter((r) => r.ref.outcome === 'not-advanced')) {
          expect(result.warnings.map((warning) => warning.code)).toEqual(['ref-is-newer']);
        }
      }
      const report = await verify({ store, service: 'race' });
      expect(report.problems).toEqual([]);
      expect(report.checked).toMatchObject({ versions: 8, commits: 8, refs: 10, migrations: 3 });
    });

    test.each(STEPS)('a crash after step "%s" leaves a verifiable store and a re-run completes', async (step) => {
      const service = `crash-${step}`;
      const ancestry = gitAncestry(repo.dir);
      const base = await publish({ store, service, dir: dumps[0]!, source: { commit: repo.commits[0]!, branch: 'master' }, ancestry, migrations: migrationsAt(0) });
      const crashing = publish({
        store,
        service,
        dir: dumps[1]!,
        source: { commit: repo.commits[1]!, branch: 'master' },
        ancestry,
        migrations: migrationsAt(1),
        afterStep: (reached) => {
          if (reached === step) throw new InjectedCrash(`crash after ${step}`);
        },
      });
      await expect(crashing).rejects.toThrow(InjectedCrash);
      const afterCrash = await verify({ store, service });
      expect(afterCrash.problems).toEqual([]);
      // Until the ref step completed, the ref still names the previous publish.
      const refAfterCrash = await resolve({ store, service, branch: 'master' });
      expect(refAfterCrash.commit).toBe(step === 'ref' ? repo.commits[1] : repo.commits[0]);
      if (step !== 'ref') expect(refAfterCrash.version).toBe(base.version);

      const rerun = await publish({ store, service, dir: dumps[1]!, source: { commit: repo.commits[1]!, branch: 'master' }, ancestry, migrations: migrationsAt(1) });
      expect(rerun.ref.outcome).toBe(step === 'ref' ? 'unchanged' : 'advanced');
      // The record survives from the crashed run once its step completed; the re-run only reuses it.
      expect(rerun.migrationsRecord?.created).toBe(STEPS.indexOf(step) < STEPS.indexOf('migrations'));
      const resolved = await resolve({ store, service, branch: 'master' });
      expect(resolved).toMatchObject({ commit: repo.commits[1], version: rerun.version });
      expect(resolved.entry.migrations).toEqual(migrationsAt(1));
      expect((await verify({ store, service })).problems).toEqual([]);
    });

    test('an older run finishing late leaves the ref alone and says so; undecidable ancestry never moves it', async () => {
      const ancestry = gitAncestry(repo.dir);
      const source = (i: number) => ({ commit: repo.commits[i]!, branch: 'late' });
      await publish({ store, service: 'late', dir: dumps[5]!, source: source(5), ancestry });
      const late = await publish({ store, service: 'late', dir: dumps[2]!, source: source(2), ancestry });
      expect(late.ref).toEqual({ outcome: 'not-advanced', previous: { commit: repo.commits[5], version: expect.any(String) }, reason: expect.stringMatching(/names a newer commit/) });
      expect(late.warnings[0]?.message).toMatch(/left at .* already names a newer commit/);
      expect(late.warnings[0]?.fatal).toBe(false);
      // The commit index still records the late commit, so resolve finds it.
      expect((await resolve({ store, service: 'late', commit: repo.commits[2]! })).distance).toBe(0);

      const unknown = 'd'.repeat(40);
      const undecided = await publish({ store, service: 'late', dir: dumps[6]!, source: { commit: unknown, branch: 'late' }, ancestry });
      expect(undecided.ref.outcome).toBe('not-advanced');
      expect(undecided.warnings[0]?.code).toBe('ancestry-undecided');
      expect(undecided.warnings[0]?.message).toContain(unknown);
      expect((await resolve({ store, service: 'late', branch: 'late' })).commit).toBe(repo.commits[5]);
    });
  });
}
