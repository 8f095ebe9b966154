import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { cacheScopes, describeCachePlan, parseCacheMode, planCache, registryCacheRef, swapLocalCache } from '../src/index.js';
import type { CachePlanOptions, GitContext } from '../src/index.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';

const temp = useTempDirs();

const push: GitContext = {
  eventName: 'push',
  ref: 'refs/heads/feature/x',
  sha: 'a'.repeat(40),
  defaultBranch: 'master',
  commitTime: '2024-01-01T00:00:00Z',
  repoUrl: 'https://github.com/org/app',
};
const pr: GitContext = { ...push, eventName: 'pull_request', ref: 'refs/pull/7/merge', prNumber: 7, prBaseRef: 'release/1' };
const flavour = { name: 'devstack', stage: 'dev', image: 'reg.local/app-dev' };
const opts = (over: Partial<CachePlanOptions>): CachePlanOptions => ({
  mode: 'registry',
  flavour,
  image: 'reg.local/app',
  git: push,
  push: true,
  ghaAvailable: false,
  localDir: '/cache',
  ...over,
});
const REG_TO = 'mode=max,image-manifest=true,oci-mediatypes=true,ignore-error=true';
const master: GitContext = { ...push, ref: 'refs/heads/master' };
const tag: GitContext = { ...push, ref: 'refs/tags/v1.2.3' };
// gha scopes and local dirs were `<flavour>-<scope>` (`devstack-pr-7`), shared by every image of a
// repository or runner and ambiguous at the `-`; they are now `<image name>-<flavour>-<scope>-<hash of
// (image, service, flavour, scope)>`, so these expectations name the new format.
const GHA_PR = 'app-devstack-pr-7-c9c5f2e2cfd5';
const GHA_MASTER = 'app-devstack-master-ad7f8c613aaf';
/** The local export goes to a staging dir with a random suffix of its own (see 'staging dirs'). */
const staging = (dir: string): string => expect.stringMatching(new RegExp(`^type=local,dest=${dir}-new-[0-9a-f]{8},mode=max,ignore-error=true$`));

test.each<[string, GitContext, { own?: string; read: string[] }]>([
  ['branch push', push, { own: 'feature-x-217d2bf5', read: ['feature-x-217d2bf5', 'master'] }],
  ['default branch', { ...push, ref: 'refs/heads/master' }, { own: 'master', read: ['master'] }],
  ['pull request', pr, { own: 'pr-7', read: ['pr-7', 'release-1-c216c692', 'master'] }],
  // A tag may point at an old commit: it reads the default branch's cache and writes no scope.
  ['tag push reads the default scope and writes none', { ...push, ref: 'refs/tags/v1.0.0' }, { read: ['master'] }],
  ['any other ref: the same', { ...push, eventName: 'workflow_dispatch', ref: 'refs/remotes/x' }, { read: ['master'] }],
])('cacheScopes: %s', (_, git, expected) => {
  expect(cacheScopes(git)).toEqual(expected);
});

describe('scope names never collide (caches are not shared by accident)', () => {
  const scopeOf = (ref: string) => cacheScopes({ ...push, ref: `refs/heads/${ref}` }).own!;
  test('branches that sanitize alike get different scopes; valid names stay as they are', () => {
    expect(scopeOf('feature-a')).toBe('feature-a');
    expect(scopeOf('feature/a')).toMatch(/^feature-a-[0-9a-f]{8}$/);
    expect(scopeOf('feature_a')).toBe('feature_a');
    expect(new Set([scopeOf('feature-a'), scopeOf('feature/a'), scopeOf('feature//a'), scopeOf('feature@a')]).size).toBe(4);
    // The same branch always gets the same scope (builds of one branch share it).
    expect(scopeOf('feature/a')).toBe(scopeOf('feature/a'));
  });

  test('long names that differ only after 128 characters get different, valid cache refs', () => {
    const long = 'x'.repeat(130);
    const [a, b] = [`${long}a`, `${long}b`].map((ref) => registryCacheRef('reg.local/app', 'devstack', scopeOf(ref)));
    expect(a).not.toBe(b);
    for (const ref of [a!, b!]) expect(ref.split(':')[1]!.length).toBeLessThanOrEqual(128);
  });

  test('inline mode reads the branch tags the build pushes, named as tags are', () => {
    const plan = planCache(opts({ mode: 'inline', git: { ...push, ref: 'refs/heads/feature/a' } }));
    expect(plan.from[0]).toBe('type=registry,ref=reg.local/app-dev:feature-a');
  });
});

describe('planCache', () => {
  test.each<[string, Partial<CachePlanOptions>, { backends: string[]; from: string[]; to: string[] }]>([
    [
      'registry on a branch',
      {},
      {
        backends: ['registry'],
        from: ['type=registry,ref=reg.local/app-cache:devstack-feature-x-217d2bf5', 'type=registry,ref=reg.local/app-cache:devstack-master'],
        to: [`type=registry,ref=reg.local/app-cache:devstack-feature-x-217d2bf5,${REG_TO}`],
      },
    ],
    [
      'gha on a pull request',
      { mode: 'gha', git: pr },
      {
        backends: ['gha'],
        from: [`type=gha,scope=${GHA_PR}`, 'type=gha,scope=app-devstack-release-1-c216c692-a17c54051d65', `type=gha,scope=${GHA_MASTER}`],
        to: [`type=gha,scope=${GHA_PR},mode=max,ignore-error=true`],
      },
    ],
    [
      'inline reads the pushed branch tags',
      { mode: 'inline' },
      { backends: ['inline'], from: ['type=registry,ref=reg.local/app-dev:feature-x', 'type=registry,ref=reg.local/app-dev:master'], to: ['type=inline'] },
    ],
    ['none', { mode: 'none' }, { backends: [], from: [], to: [] }],
    [
      'auto while pushing = registry',
      { mode: 'auto' },
      {
        backends: ['registry'],
        from: ['type=registry,ref=reg.local/app-cache:devstack-feature-x-217d2bf5', 'type=registry,ref=reg.local/app-cache:devstack-master'],
        to: [`type=registry,ref=reg.local/app-cache:devstack-feature-x-217d2bf5,${REG_TO}`],
      },
    ],
    [
      'auto on a PR with GitHub cache: own scope in gha, base scopes from the registry',
      { mode: 'auto', git: pr, push: false, ghaAvailable: true },
      {
        backends: ['gha', 'registry'],
        from: [`type=gha,scope=${GHA_PR}`, 'type=registry,ref=reg.local/app-cache:devstack-release-1-c216c692', 'type=registry,ref=reg.local/app-cache:devstack-master'],
        to: [`type=gha,scope=${GHA_PR},mode=max,ignore-error=true`],
      },
    ],
    [
      'registry on a tag: reads the default branch, writes nothing',
      { git: tag },
      { backends: ['registry'], from: ['type=registry,ref=reg.local/app-cache:devstack-master'], to: [] },
    ],
    ['gha on a tag: reads the default branch, writes nothing', { mode: 'gha', git: tag }, { backends: ['gha'], from: [`type=gha,scope=${GHA_MASTER}`], to: [] }],
    ['local on a tag: reads the default branch, writes nothing', { mode: 'local', git: tag }, { backends: ['local'], from: [`type=local,src=/cache/${GHA_MASTER}`], to: [] }],
    [
      'auto on the default branch without pushing: only the own scope, no registry',
      { mode: 'auto', git: master, push: false },
      { backends: ['local'], from: [`type=local,src=/cache/${GHA_MASTER}`], to: [staging(`/cache/${GHA_MASTER}`)] },
    ],
    [
      'auto on a tag without pushing: the default branch from the registry, nothing written',
      { mode: 'auto', git: tag, push: false },
      { backends: ['local', 'registry'], from: ['type=registry,ref=reg.local/app-cache:devstack-master'], to: [] },
    ],
    [
      'auto on a PR without GitHub cache: own scope in a local dir',
      { mode: 'auto', git: pr, push: false },
      {
        backends: ['local', 'registry'],
        from: [`type=local,src=/cache/${GHA_PR}`, 'type=registry,ref=reg.local/app-cache:devstack-release-1-c216c692', 'type=registry,ref=reg.local/app-cache:devstack-master'],
        to: [staging(`/cache/${GHA_PR}`)],
      },
    ],
  ])('%s', (_, over, expected) => {
    const plan = planCache(opts(over));
    expect({ backends: plan.backends, from: plan.from, to: plan.to }).toEqual(expected);
  });

  test('every write goes to the own scope only', () => {
    for (const mode of ['registry', 'gha', 'local'] as const) {
      const plan = planCache(opts({ mode, git: pr }));
      expect(plan.to).toHaveLength(1);
      expect(plan.to[0]).toContain('pr-7');
      expect(plan.to[0]).toContain('ignore-error=true');
    }
  });

  test('a tag build never writes, whatever the backend (the default branch keeps its cache)', () => {
    for (const mode of ['registry', 'gha', 'local', 'auto'] as const) {
      const plan = planCache(opts({ mode, git: tag }));
      expect(plan.to, mode).toEqual([]);
      expect(plan.localSwap, mode).toBeUndefined();
    }
  });

  test.each<[string, Partial<CachePlanOptions>, string | RegExp]>([
    ['registry on a branch', {}, 'reads registry reg.local/app-cache:devstack-feature-x-217d2bf5, registry reg.local/app-cache:devstack-master; writes registry reg.local/app-cache:devstack-feature-x-217d2bf5'],
    ['auto on master without pushing names no registry', { mode: 'auto', git: master, push: false }, new RegExp(`^reads local /cache/${GHA_MASTER}; writes local /cache/${GHA_MASTER}-new-[0-9a-f]{8}$`)],
    ['a tag', { git: tag }, 'reads registry reg.local/app-cache:devstack-master; writes nothing'],
    ['none', { mode: 'none' }, 'none'],
  ])('describeCachePlan: %s', (_, over, expected) => {
    if (typeof expected === 'string') expect(describeCachePlan(planCache(opts(over)))).toBe(expected);
    else expect(describeCachePlan(planCache(opts(over)))).toMatch(expected);
  });

  test('local needs a directory; a bad mode names the input', () => {
    expect(() => planCache(opts({ mode: 'local', localDir: undefined }))).toThrow(/Input `cache`: the local cache needs a directory/);
    expect(() => parseCacheMode('s3')).toThrow(/Input `cache`: `s3` is not a cache backend/);
    expect(parseCacheMode('')).toBe('auto');
  });

  test('cache refs stay valid tags for long branch names', () => {
    const ref = registryCacheRef('r/app', 'devstack', `x/${'y'.repeat(300)}`);
    expect(ref.split(':')[1]).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/);
  });
});

describe('swapLocalCache', () => {
  test('replaces the old export with the new one, and does nothing without a new one', async () => {
    const root = await temp.make('ib-swap-');
    const current = path.join(root, 'devstack-master');
    const next = `${current}-new-0123abcd`;
    await mkdir(current);
    await writeFile(path.join(current, 'old-blob'), 'old');
    expect(await swapLocalCache({ next, current })).toBe(false);
    expect(await readdir(current)).toEqual(['old-blob']);
    await mkdir(next);
    await writeFile(path.join(next, 'index.json'), '{}');
    expect(await swapLocalCache({ next, current })).toBe(true);
    expect(await readdir(root)).toEqual(['devstack-master']);
    expect(await readFile(path.join(current, 'index.json'), 'utf8')).toBe('{}');
  });
});

// gha scopes and local cache dirs share one namespace per repository (gha) or runner (tool cache):
// they must name the image and stay apart where `<flavour>-<scope>` did not.
describe('gha scopes and local dirs are per image and never collide', () => {
  const ws = (name: string) => ({ image: `registry/org/${name}`, flavour: { ...flavour, image: `registry/org/${name}-dev` } });
  const at = (ref: string) => ({ ...push, ref: `refs/heads/${ref}` });
  const names = (over: Partial<CachePlanOptions>) => ({
    gha: planCache(opts({ mode: 'gha', ...over })).to[0],
    local: planCache(opts({ mode: 'local', ...over })).localSwap?.current,
  });

  test.each<[string, Partial<CachePlanOptions>, Partial<CachePlanOptions>]>([
    // Both logged `writes gha devstack-feature-x-217d2bf5` and replaced each other's cache.
    ['two images, same flavour and branch', ws('ws1'), ws('ws2')],
    // `web` + `worker-x` and `web-worker` + `x` both joined to `web-worker-x`.
    ['a hyphen moved between flavour and branch', { flavour: { ...flavour, name: 'web' }, git: at('worker-x') }, { flavour: { ...flavour, name: 'web-worker' }, git: at('x') }],
    // Without `image` the service (repository and Dockerfile) is what tells two builds apart.
    ['no image, two Dockerfiles', { image: '', service: 'org/app:ws1/Dockerfile' }, { image: '', service: 'org/app:ws2/Dockerfile' }],
  ])('%s: different gha scopes and local dirs', (_, a, b) => {
    const [x, y] = [names(a), names(b)];
    expect(x.gha).not.toBe(y.gha);
    expect(x.local).not.toBe(y.local);
  });

  test.each<[string, Partial<CachePlanOptions>, string]>([
    ['branch with a slash', { ...ws('ws1'), git: push }, 'ws1-devstack-feature-x-217d2bf5-748512db9253'],
    ['default branch', { git: master }, 'app-devstack-master-ad7f8c613aaf'],
    ['pull request', { git: pr }, 'app-devstack-pr-7-c9c5f2e2cfd5'],
  ])('%s: the same inputs always give the same name (builds of one scope share it)', (_, over, name) => {
    expect(names(over)).toEqual(names(over));
    expect(names(over).gha).toBe(`type=gha,scope=${name},mode=max,ignore-error=true`);
    expect(names(over).local).toBe(`/cache/${name}`);
  });

  test.each<[string, string]>([
    ['a 300-character branch', `x/${'y'.repeat(300)}`],
    ['a long image name', 'main'],
  ])('%s: names stay short, valid and free of commas', (_, branch) => {
    const image = `registry/org/${'s'.repeat(120)}`;
    const { gha, local } = names({ image, flavour: { ...flavour, image }, git: at(branch) });
    const scope = /scope=([^,]+),/.exec(gha!)![1]!;
    for (const name of [scope, path.basename(local!)]) expect(name).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}-[0-9a-f]{12}$/);
  });

  test.each<[string, Partial<CachePlanOptions>]>([
    ['local', { mode: 'local', git: master }],
    ['auto without the Actions cache', { mode: 'auto', push: false, git: pr }],
  ])('%s: two plans of one scope stage their exports in different dirs next to the cache', (_, over) => {
    const [a, b] = [planCache(opts(over)).localSwap!, planCache(opts(over)).localSwap!];
    expect(a.current).toBe(b.current);
    expect(a.next).not.toBe(b.next);
    // Same parent: the rename into place stays atomic.
    for (const swap of [a, b]) expect(swap.next).toMatch(new RegExp(`^${swap.current}-new-[0-9a-f]{8}$`));
  });
});

describe('concurrent swaps of one local cache', () => {
  async function exportInto(dir: string, job: string): Promise<void> {
    await mkdir(dir);
    await writeFile(path.join(dir, 'index.json'), job);
  }

  test.each([2, 3, 5])('%i jobs finishing at once: one complete export is in place, nothing else left', async (jobs) => {
    const root = await temp.make('ib-race-');
    const current = path.join(root, 'app-devstack-master-ad7f8c613aaf');
    await exportInto(current, 'previous');
    const swaps = Array.from({ length: jobs }, () => planCache(opts({ mode: 'local', git: master, localDir: root })).localSwap!);
    await Promise.all(swaps.map((swap, i) => exportInto(swap.next, `job-${i}`)));
    const swapped = await Promise.all(swaps.map((swap) => swapLocalCache(swap)));
    expect(swapped).toContain(true);
    expect(await readdir(root)).toEqual([path.basename(current)]);
    expect(await readFile(path.join(current, 'index.json'), 'utf8')).toMatch(/^job-\d$/);
  });

  test('leftovers of a job that died before its swap go once a day old; a running job’s stay', async () => {
    const root = await temp.make('ib-stale-');
    const current = path.join(root, 'app-devstack-master-ad7f8c613aaf');
    const [stale, running, otherScope] = [`${current}-new-00000000`, `${current}-new-11111111`, path.join(root, 'app-devstack-master-ad7f8c613aaf-new-x-0123456789ab')];
    for (const dir of [stale, running, otherScope]) await exportInto(dir, 'x');
    const dayAgo = new Date(Date.now() - 25 * 60 * 60 * 1000);
    for (const dir of [stale, otherScope]) await utimes(dir, dayAgo, dayAgo);
    await exportInto(`${current}-new-22222222`, 'mine');
    expect(await swapLocalCache({ current, next: `${current}-new-22222222` })).toBe(true);
    expect((await readdir(root)).sort()).toEqual([current, running, otherScope].map((dir) => path.basename(dir)).sort());
  });
});
