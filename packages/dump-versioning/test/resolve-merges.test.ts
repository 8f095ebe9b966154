import { execFileSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { useTempDirs } from '../../../test/support/temp-dirs.js';
import { openStore, publish, resolve } from '../src/index.js';
import { makeDumpDir, sampleDump } from './support.js';

// resolve with ancestors 'all' (what status/provision use) on a history with a merged side branch.
describe('resolve through every parent', () => {
  const temp = useTempDirs();

  async function history() {
    const dir = await temp.make('dv-merges-');
    let tick = 0;
    // Commit times one minute apart, in the order made: the side branch's commits are the newest.
    const git = (...args: string[]) => {
      tick++;
      const date = `2026-01-01T10:${String(tick).padStart(2, '0')}:00Z`;
      return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } }).trim();
    };
    const commit = async (file: string) => {
      await writeFile(path.join(dir, file), file);
      git('add', '-A');
      git('commit', '-q', '-m', file);
      return git('rev-parse', 'HEAD');
    };
    git('init', '-q', '-b', 'master');
    const m0 = await commit('m0');
    const m1 = await commit('m1');
    git('checkout', '-q', '-b', 'side', m0);
    for (let i = 0; i < 5; i++) await commit(`side${i}`);
    git('checkout', '-q', 'master');
    git('merge', '-q', '--no-ff', '--no-edit', 'side');
    const head = git('rev-parse', 'HEAD');
    return { dir, m0, m1, head };
  }

  test('finds the newest published ancestor through a merge; when side-branch commits fill the search, the first-parent chain still answers', async () => {
    const { dir, m0, m1, head } = await history();
    const store = openStore(await temp.make('dv-merges-store-'));
    const dump = await makeDumpDir(sampleDump('merges'));
    try {
      await publish({ store, service: 'svc', dir: dump, source: { commit: m0, branch: 'master' }, ancestry: async () => true });
      expect(await resolve({ store, service: 'svc', repoDir: dir, commit: head, ancestors: 'all' })).toMatchObject({ commit: m0, ancestors: 'all', distance: 7 });
      await publish({ store, service: 'svc', dir: dump, source: { commit: m1, branch: 'side-ref' }, ancestry: async () => true });
      expect(await resolve({ store, service: 'svc', repoDir: dir, commit: head, ancestors: 'all' })).toMatchObject({ commit: m1, distance: 6 });
      // Only 4 commits may be searched: the merge and 3 side-branch commits, none published. The first-parent
      // chain (merge, m1) finds m1.
      expect(await resolve({ store, service: 'svc', repoDir: dir, commit: head, ancestors: 'all', maxDistance: 3 })).toMatchObject({ commit: m1, distance: 1 });
    } finally {
      await store.close();
      await rm(dump, { recursive: true, force: true });
    }
  });
});
