import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as cache from '@actions/cache';
import * as core from '@actions/core';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { builderPlatformOf, cacheMountKey, hashDirectory, nativePlatformOf, parseDockerfile, resolveCacheMounts } from '@org/image-build';
import { describeCacheMountKey, restoreCacheMounts, runKeyOf, saveCacheMounts } from '../src/cache-mounts.js';
import type { Inputs } from '../src/context.js';
import { dockerOrThrow } from '../src/docker.js';
import type { BuildPlan } from '../src/plan.js';
import type { CacheMountState } from '../src/state.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';

vi.mock('../src/docker.js', async (importOriginal) => ({ ...(await importOriginal<typeof import('../src/docker.js')>()), dockerOrThrow: vi.fn() }));
vi.mock('@actions/cache', () => ({ saveCache: vi.fn(), restoreCache: vi.fn(), isFeatureAvailable: vi.fn(() => true) }));
vi.mock('@actions/core', async (importOriginal) => ({ ...(await importOriginal<typeof import('@actions/core')>()), info: vi.fn(), warning: vi.fn() }));

const temp = useTempDirs();

const INSPECT = 'Name:          default\nDriver:        docker\n\nNodes:\nName:             default\nStatus:           running\nPlatforms:        linux/arm64, linux/amd64, linux/amd64/v2\n';

beforeEach(() => {
  vi.stubEnv('ACTIONS_CACHE_URL', 'http://127.0.0.1:1/');
  vi.stubEnv('ACTIONS_RUNTIME_TOKEN', 'token');
  vi.mocked(cache.restoreCache).mockResolvedValue(undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.clearAllMocks();
});

describe('pure parts', () => {
  test.each([
    ['the first platform is the native one', INSPECT, 'linux/arm64'],
    ['a platform set by hand is marked with *', 'Platforms: linux/amd64*, linux/arm64*\n', 'linux/amd64'],
    ['a builder not started lists none', 'Name: ci\nDriver: docker-container\nStatus: inactive\n', undefined],
  ])('nativePlatformOf: %s', (_, output, expected) => {
    expect(nativePlatformOf(output)).toBe(expected);
  });

  test.each([
    ['its native platform', INSPECT, 'x64', 'linux/arm64'],
    ['none listed: the runner\'s, as Docker spells it', 'Status: inactive\n', 'x64', 'linux/amd64'],
  ])('builderPlatformOf: %s', (_, output, arch, expected) => {
    expect(builderPlatformOf(output, arch)).toBe(expected);
  });

  test.each([
    [{ GITHUB_RUN_ID: '123', GITHUB_RUN_ATTEMPT: '2' }, /^123-2$/],
    [{ GITHUB_RUN_ID: '123' }, /^123-1$/],
    [{}, /^local-\d+$/],
  ])('runKeyOf %j', (env, expected) => {
    expect(runKeyOf(env)).toMatch(expected);
  });

  const mounts = resolveCacheMounts(parseDockerfile('FROM a\nARG TARGETARCH\nRUN --mount=type=cache,id=apk-$TARGETARCH,target=/var/cache/apk true'), { buildPlatform: 'linux/amd64' }).mounts;
  test.each([
    ['lockfiles', [{ path: 'requirements.txt', content: 'x' }], /keyed by the lockfiles the build reads \(requirements\.txt\): a dependency change gives a new key\.$/],
    ['run', [], /keyed by this run \(lockfiles: none .*\): the newest cache of the same mounts is restored, and saved again when the build changed it\.$/],
  ])('describeCacheMountKey says why the key is %s-based', (_, lockfiles, why) => {
    const key = { ...cacheMountKey('p', mounts, lockfiles, '5-1'), lockfiles: lockfiles.map((l) => l.path) };
    const line = describeCacheMountKey(mounts, key);
    expect(line).toMatch(/^Cache mounts: \/var\/cache\/apk \(id apk-amd64\); key p-[0-9a-f]{16}-/);
    expect(line).toMatch(why);
  });
});

describe('restoreCacheMounts', () => {
  async function restore(dockerfile: string, files: Record<string, string>, inputs: Partial<Inputs> = {}): Promise<CacheMountState | undefined> {
    const root = await temp.make('bi-cm-keys-');
    const contextDir = path.join(root, 'ctx');
    for (const [file, content] of Object.entries({ Dockerfile: dockerfile, ...files })) {
      await mkdir(path.dirname(path.join(contextDir, file)), { recursive: true });
      await writeFile(path.join(contextDir, file), content);
    }
    const plan = { model: parseDockerfile(dockerfile), contextDir, workDir: path.join(root, 'build-image') } as BuildPlan;
    const given = { cacheMounts: 'auto', buildArgs: {}, platforms: [], builder: '', file: 'Dockerfile', ...inputs } as Inputs;
    return restoreCacheMounts(plan, given, path.join(root, 'runner-temp'), nativePlatformOf(INSPECT)!, { GITHUB_RUN_ID: '77', GITHUB_RUN_ATTEMPT: '1' });
  }

  // docker init's Python Dockerfile: the install reads requirements.txt through a bind mount.
  const PIP = 'FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip --mount=type=bind,source=requirements.txt,target=requirements.txt pip install -r requirements.txt\n';
  const APT = 'FROM debian:12\nRUN --mount=type=cache,target=/var/cache/apt apt-get update\n';

  test.each([
    ['a bind-mounted lockfile keys the mounts', PIP, { 'requirements.txt': 'flask==3\n' }, 'lockfiles', /^build-image-mounts-.*-[0-9a-f]{16}-[0-9a-f]{16}$/],
    ['no lockfile: a key of this run, restored by the mounts prefix', APT, {}, 'run', /^build-image-mounts-.*-[0-9a-f]{16}-run-77-1$/],
  ])('%s', async (_, dockerfile, files, keyedBy, key) => {
    const state = await restore(dockerfile, files);
    expect(state).toMatchObject({ keyedBy, key: expect.stringMatching(key) });
    const [, exact, restoreKeys] = vi.mocked(cache.restoreCache).mock.calls[0]!;
    expect(exact).toBe(state!.key);
    expect(state!.key.startsWith(restoreKeys![0]!)).toBe(true);
  });

  test.each([
    ['the native platform of the builder', [], ['apk-arm64']],
    ['every platform built', ['linux/amd64', 'linux/arm64'], ['apk-amd64', 'apk-arm64']],
  ])('ids with $TARGETARCH are expanded for %s', async (_, platforms, ids) => {
    const state = await restore('FROM alpine:3\nARG TARGETARCH\nRUN --mount=type=cache,id=apk-$TARGETARCH,target=/var/cache/apk apk add curl\n', {}, { platforms });
    expect(state?.mounts.map((m) => m.id)).toEqual(ids);
    expect(core.warning).not.toHaveBeenCalled();
  });

  test('a mount whose variable the build alone knows is left out with one warning on its line', async () => {
    const state = await restore('FROM alpine:3\nRUN --mount=type=cache,id=apk-$TARGETARCH,target=/var/cache/apk --mount=type=cache,id=pip,target=/root/.cache/pip true\n', {}, {
      platforms: ['linux/amd64', 'linux/arm64'],
    });
    expect(state?.mounts.map((m) => m.id)).toEqual(['pip']);
    expect(core.warning).toHaveBeenCalledOnce();
    expect(core.warning).toHaveBeenCalledWith(expect.stringContaining('`id=apk-$TARGETARCH` (Dockerfile line 2) is not kept'), expect.objectContaining({ file: 'Dockerfile', startLine: 2 }));
  });

  test('nothing to restore when no mount can be kept', async () => {
    expect(await restore('FROM alpine:3\nRUN --mount=type=cache,target=$CACHE true\n', {})).toBeUndefined();
    expect(cache.restoreCache).not.toHaveBeenCalled();
  });
});

describe('saveCacheMounts keyed by run', () => {
  test.each([
    ['the build changed what was restored: saved under this run', 'new wheel', true],
    ['unchanged since the restore: nothing saved', 'old wheel', false],
  ])('%s', async (_, content, saved) => {
    const root = await temp.make('bi-cm-save-');
    const restoredDir = path.join(root, 'restored');
    await mkdir(path.join(restoredDir, 'pip'), { recursive: true });
    await writeFile(path.join(restoredDir, 'pip', 'wheel'), 'old wheel');
    const state: CacheMountState = {
      key: 'build-image-mounts-x-run-78-1',
      keyedBy: 'run',
      matchedKey: 'build-image-mounts-x-run-77-1',
      restoredHash: (await hashDirectory(restoredDir)).hash,
      dir: path.join(root, 'mounts'),
      workDir: path.join(root, 'build-image', 'cache-mounts'),
      mounts: [],
      helperImage: 'busybox',
    };
    vi.mocked(dockerOrThrow).mockImplementation(async (args: string[]) => {
      const dest = args.find((arg) => arg.startsWith('type=local,dest='))!.slice('type=local,dest='.length);
      await mkdir(path.join(dest, 'pip'), { recursive: true });
      await writeFile(path.join(dest, 'pip', 'wheel'), content);
      return '';
    });
    await saveCacheMounts(state);
    expect(vi.mocked(cache.saveCache).mock.calls).toEqual(saved ? [[[state.dir], state.key]] : []);
  });
});
