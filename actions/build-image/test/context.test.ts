import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cacheScopes, computeTags, defaultPush } from '@org/image-build';
import { describe, expect, test } from 'vitest';
import { changedFiles, getInputs, readRunContext, sensitiveValues } from '../src/context.js';
import type { GitRunner } from '../src/context.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';

const temp = useTempDirs();

const read = (values: Record<string, string>) => (name: string) => values[name] ?? '';

describe('getInputs', () => {
  test('defaults: one flavour per default target, push auto, lint warn, provenance off', () => {
    expect(getInputs(read({}))).toEqual({
      context: '.',
      file: 'Dockerfile',
      targets: [{ name: 'devstack', stage: 'dev' }, { name: 'production', stage: 'production' }],
      image: '',
      flavourSuffixes: {},
      push: 'auto',
      registry: '',
      username: '',
      password: '',
      platforms: [],
      buildArgs: {},
      secrets: [],
      cache: 'auto',
      cacheMounts: 'auto',
      mirrors: { proxyArgs: {}, secrets: [], sensitiveValues: [] },
      tags: [],
      lint: 'warn',
      provenance: 'false',
      builder: '',
    });
  });

  test.each<[string, Record<string, string>, Record<string, unknown>]>([
    ['file defaults to the context', { context: 'services/lms' }, { context: 'services/lms', file: 'services/lms/Dockerfile' }],
    ['an explicit file wins', { context: 'svc', file: 'docker/prod.Dockerfile' }, { file: 'docker/prod.Dockerfile' }],
    ['targets in order, one per line', { targets: 'production=production\ndevstack=dev' }, { targets: [{ name: 'production', stage: 'production' }, { name: 'devstack', stage: 'dev' }] }],
    ['image and suffixes', { image: 'ghcr.io/org/lms', 'flavour-suffixes': 'devstack=-devstack' }, { image: 'ghcr.io/org/lms', flavourSuffixes: { devstack: '-devstack' } }],
    ['push true', { push: 'true' }, { push: true }],
    ['push FALSE', { push: 'FALSE' }, { push: false }],
    ['login', { registry: 'ghcr.io', username: 'bot', password: ' s3cret ' }, { registry: 'ghcr.io', username: 'bot', password: ' s3cret ' }],
    ['platforms', { platforms: 'linux/amd64, linux/arm64' }, { platforms: ['linux/amd64', 'linux/arm64'] }],
    ['build args keep commas and =', { 'build-args': 'A=1,2\nB=x=y' }, { buildArgs: { A: '1,2', B: 'x=y' } }],
    ['secrets', { secrets: 'npm_token=abc=\n' }, { secrets: [{ id: 'npm_token', content: 'abc=', mountTarget: '/run/secrets/npm_token' }] }],
    ['cache and cache mounts', { cache: 'registry', 'cache-mounts': 'off' }, { cache: 'registry', cacheMounts: 'off' }],
    ['mirrors become proxy args', { mirrors: 'https-proxy=http://proxy:3128' }, { mirrors: expect.objectContaining({ proxyArgs: { HTTPS_PROXY: 'http://proxy:3128', https_proxy: 'http://proxy:3128' } }) }],
    ['extra tags', { tags: 'stable\nedge, stable' }, { tags: ['stable', 'edge'] }],
    ['lint and provenance', { lint: 'error', provenance: 'mode=max' }, { lint: 'error', provenance: 'mode=max' }],
    ['builder', { builder: 'ci-builder' }, { builder: 'ci-builder' }],
  ])('%s', (_, values, expected) => {
    expect(getInputs(read(values))).toMatchObject(expected);
  });

  test.each<[Record<string, string>, RegExp]>([
    [{ context: '/abs' }, /^Input `context`: "\/abs" must be a directory inside the workspace/],
    [{ context: '../other' }, /^Input `context`:/],
    [{ file: '../Dockerfile' }, /^Input `file`:/],
    [{ targets: 'devstack' }, /^Input `targets`: `devstack` is not a key=value pair/],
    [{ targets: 'Dev=dev' }, /^Input `targets`: flavour `Dev` is not a valid name/],
    [{ image: 'ghcr.io/org/App:1.0' }, /^Input `image`: `ghcr.io\/org\/App:1.0` is not an image name/],
    [{ 'flavour-suffixes': 'devstack=DEV' }, /^Input `flavour-suffixes`:/],
    [{ 'flavour-suffixes': 'devstak=-dev' }, /^Input `flavour-suffixes`: `devstak` is not a flavour of `targets`\. Name one of the flavours built: devstack, production\.$/],
    [{ targets: 'production=production', 'flavour-suffixes': 'devstack=-dev' }, /^Input `flavour-suffixes`: `devstack` is not a flavour of `targets`\. Name one of the flavours built: production\.$/],
    [{ push: 'sometimes' }, /^Input `push`: expected true, false or auto/],
    [{ username: 'bot', password: 'x' }, /^Input `registry`: `username`\/`password` are set but `registry` is empty/],
    [{ registry: 'ghcr.io', username: 'bot' }, /^Input `password`: is empty while the other credential is set/],
    [{ registry: 'ghcr.io', password: 'x' }, /^Input `username`:/],
    [{ platforms: 'amd64' }, /^Input `platforms`: `amd64` is not a platform/],
    [{ 'build-args': 'SOURCE_DATE_EPOCH=1' }, /^Input `build-args`: SOURCE_DATE_EPOCH is set from the commit time/],
    [{ secrets: 'just-a-token' }, /^Input `secrets`: line 1 is not `id=value`/],
    [{ secrets: 'pip.conf=x' }, /^Input `secrets`: id `pip.conf` is used by the `mirrors` input/],
    [{ cache: 'fast' }, /^Input `cache`: `fast` is not a cache backend/],
    [{ 'cache-mounts': 'on' }, /^Input `cache-mounts`: expected one of auto, off/],
    [{ mirrors: 'maven=http://m' }, /^Input `mirrors`: `maven` is not a known mirror/],
    [{ tags: 'ghcr.io/org/app:stable' }, /^Input `tags`: .* not a full reference/],
    [{ lint: 'strict' }, /^Input `lint`:/],
    [{ provenance: 'yes' }, /^Input `provenance`:/],
    [{ builder: 'my builder' }, /^Input `builder`:/],
    [{ mirrors: 'http://proxyuser:s3cretpw@127.0.0.1:3128' }, /^Input `mirrors`: `http:\/\/\*\*\*@127\.0\.0\.1:3128` is not a key=value pair/],
    [{ mirrors: 'https-proxy=http://proxyuser:s3cretpw@127.0.0.1:3128', provenance: 'mode=max' }, /^Input `provenance`: mode=max records every build arg .*`mirrors` proxy \(https-proxy\).*Use `provenance: mode=min`/],
  ])('rejects %j', (values, message) => {
    expect(() => getInputs(read(values))).toThrow(message);
  });

  test.each([
    ['mode=min', 'http-proxy=http://proxyuser:s3cretpw@127.0.0.1:3128'],
    ['mode=max', 'http-proxy=http://127.0.0.1:3128'],
  ])('provenance %s with mirrors %j is accepted', (provenance, mirrors) => {
    expect(getInputs(read({ provenance, mirrors })).provenance).toBe(provenance);
  });

  test('a secret without an id is not echoed in the error', () => {
    expect(() => getInputs(read({ secrets: 'ghp_topsecretvalue' }))).toThrow(expect.objectContaining({ message: expect.not.stringContaining('topsecret') }));
  });

  test('sensitive values: password, secret values, mirror credentials', () => {
    const inputs = getInputs(read({ registry: 'ghcr.io', username: 'bot', password: 'pw1', secrets: 'a=s1', mirrors: 'pip=https://u:mirrorpw@pypi.internal/simple' }));
    expect(sensitiveValues(inputs)).toEqual(expect.arrayContaining(['pw1', 's1', 'mirrorpw']));
  });

  test('a percent-escaped proxy password is masked as written, decoded, and with the URL as given', () => {
    const raw = 'http://alice:pr0xyP%40ss@proxy1.internal:3128';
    const inputs = getInputs(read({ mirrors: `http-proxy=${raw}` }));
    expect(sensitiveValues(inputs)).toEqual(expect.arrayContaining([raw, 'pr0xyP%40ss', 'pr0xyP@ss']));
  });
});

describe('readRunContext', () => {
  const sha = 'a'.repeat(40);
  const calls: string[][] = [];
  const git: GitRunner = async (args) => {
    calls.push(args);
    if (args[0] === 'show') return '2024-05-01T12:00:00+02:00\n';
    throw new Error('unexpected');
  };
  async function env(event: Record<string, unknown>, extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
    const dir = await temp.make('bi-ctx-');
    await writeFile(path.join(dir, 'event.json'), JSON.stringify(event));
    return { GITHUB_WORKSPACE: dir, GITHUB_SHA: sha, GITHUB_EVENT_PATH: path.join(dir, 'event.json'), RUNNER_TEMP: '/tmp/rt', ...extra };
  }

  test.each<[string, Record<string, unknown>, Record<string, string>, Record<string, unknown>]>([
    [
      'push to the default branch',
      { before: 'b'.repeat(40), repository: { default_branch: 'master', html_url: 'https://github.com/org/lms' } },
      { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/master' },
      { git: { eventName: 'push', ref: 'refs/heads/master', sha, defaultBranch: 'master', commitTime: '2024-05-01T12:00:00+02:00', repoUrl: 'https://github.com/org/lms' }, previousSha: 'b'.repeat(40) },
    ],
    [
      'first push of a branch: before is all zeros',
      { before: '0'.repeat(40), repository: { default_branch: 'main' } },
      { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/feature', GITHUB_REPOSITORY: 'org/lms' },
      { git: expect.objectContaining({ defaultBranch: 'main', repoUrl: 'https://github.com/org/lms' }) },
    ],
    [
      'pull request: number and base branch',
      { number: 7, pull_request: { number: 7, base: { ref: 'develop' } }, repository: { default_branch: 'master' } },
      { GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/7/merge' },
      { git: expect.objectContaining({ eventName: 'pull_request', prNumber: 7, prBaseRef: 'develop' }) },
    ],
    [
      'tag push',
      { repository: { default_branch: 'master' } },
      { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/v1.2.3' },
      { git: expect.objectContaining({ ref: 'refs/tags/v1.2.3' }), runnerTemp: '/tmp/rt' },
    ],
  ])('%s', async (_, event, extra, expected) => {
    const context = await readRunContext(await env(event, extra), git);
    expect(context).toMatchObject(expected);
    if (!('previousSha' in expected)) expect(context.previousSha).toBeUndefined();
    expect(calls.at(-1)).toEqual(['show', '-s', '--format=%cI', sha]);
  });

  // A `schedule` payload is only `{"schedule": "<cron>"}`; GitHub runs it on the default branch.
  test('schedule: the default branch is the ref\'s branch, so the run publishes like a push to it', async () => {
    const context = await readRunContext(await env({ schedule: '0 3 * * 1' }, { GITHUB_EVENT_NAME: 'schedule', GITHUB_REF: 'refs/heads/master', GITHUB_REF_NAME: 'master' }), git);
    expect(context.git.defaultBranch).toBe('master');
    expect(context.defaultBranchUnknown).toBeUndefined();
    expect(defaultPush(context.git)).toBe(true);
    expect(computeTags(context.git).map((t) => t.name)).toContain('latest');
    expect(cacheScopes(context.git).read).toEqual(['master']);
  });

  test('the payload\'s default branch wins', async () => {
    const context = await readRunContext(await env({ repository: { default_branch: 'trunk' } }, { GITHUB_EVENT_NAME: 'schedule', GITHUB_REF: 'refs/heads/master' }), git);
    expect(context.git.defaultBranch).toBe('trunk');
  });

  test.each<[string, Record<string, unknown> | undefined, Record<string, string>]>([
    ['a payload without repository', { inputs: {} }, { GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_REF: 'refs/heads/master' }],
    ['no payload file', undefined, { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/master' }],
  ])('default branch unknown (%s): no guess, a warning saying what to set', async (_, event, extra) => {
    const environment = await env(event ?? {}, extra);
    if (event === undefined) delete environment.GITHUB_EVENT_PATH;
    const context = await readRunContext(environment, git);
    expect(context.git.defaultBranch).toBe('');
    expect(context.defaultBranchUnknown).toMatch(
      new RegExp(`^The \`${extra.GITHUB_EVENT_NAME}\` event payload does not name the repository's default branch .*refs/heads/master.*\`push: auto\` does not push.*set \`push: true\``),
    );
    expect(defaultPush(context.git)).toBe(false);
    expect(computeTags(context.git).map((t) => t.name)).not.toContain('latest');
    expect(cacheScopes(context.git).read).toEqual(['master']);
  });

  test('outside a job, and without a checkout, the error says what is missing', async () => {
    await expect(readRunContext({}, git)).rejects.toThrow(/GITHUB_WORKSPACE is not set/);
    const failing: GitRunner = async () => {
      throw new Error('fatal: not a git repository');
    };
    await expect(readRunContext(await env({}, { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/x' }), failing)).rejects.toThrow(/actions\/checkout/);
  });

  test('changed files: against `before` when known, else the parent', async () => {
    const run = await readRunContext(await env({ before: 'c'.repeat(40) }, { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/x' }), git);
    const diff: GitRunner = async (args) => (args.includes('c'.repeat(40)) ? 'svc/src/app.py\nREADME.md\n' : '');
    expect(await changedFiles(run, diff)).toEqual({ files: ['svc/src/app.py', 'README.md'] });
    const parentArgs: string[][] = [];
    const parentOnly: GitRunner = async (args) => {
      parentArgs.push(args);
      if (args[0] === 'diff') throw new Error('bad revision');
      return 'false\n';
    };
    await changedFiles({ ...run, previousSha: undefined }, parentOnly);
    expect(parentArgs[0]).toContain(`${sha}~1`);
  });

  // Only a shallow clone gets the fetch-depth advice: a first commit has nothing more to fetch.
  test.each<[string, string | undefined, boolean, RegExp]>([
    ['a shallow clone', undefined, true, /^the clone is shallow: use `fetch-depth: 2` in actions\/checkout$/],
    ['a shallow clone without the push\'s before', 'c'.repeat(40), true, /lacks the push's previous commit ccccccc: .*`fetch-depth: 0`/],
    ['the repository\'s first commit', undefined, false, /^the commit has no parent to compare with$/],
    ['a force push', 'c'.repeat(40), false, /previous commit ccccccc is not in the repository/],
  ])('changed files unknown: %s', async (_, previousSha, shallow, reason) => {
    const run = await readRunContext(await env({}, { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/x' }), git);
    const noDiff: GitRunner = async (args) => {
      if (args[0] === 'diff') throw new Error('fatal: bad revision');
      if (args.includes('--is-shallow-repository')) return `${shallow}\n`;
      throw new Error('unexpected');
    };
    const result = await changedFiles({ ...run, ...(previousSha ? { previousSha } : {}) }, noDiff);
    expect(result).toEqual({ unknown: expect.stringMatching(reason) });
  });
});
