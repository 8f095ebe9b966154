import { access, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { classifyRegistryError } from '@org/image-build';
import { describe, expect, test, vi } from 'vitest';
import { BakeRunError, registryHost, runBake } from '../src/build.js';
import { docker, errorLines } from '../src/docker.js';
import type { BuildPlan } from '../src/plan.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';

const temp = useTempDirs();

vi.mock('../src/docker.js', async (importOriginal) => ({ ...(await importOriginal<typeof import('../src/docker.js')>()), docker: vi.fn() }));

const failure = (messages: string[], exitCode = 1) => new BakeRunError({ statuses: [], messages, metadata: {}, exitCode, attempts: 1 });

describe('what a failed bake is retried on', () => {
  // buildx's plain lines after a failed bake (docker 26.1 / buildx 0.13 wording).
  test.each<[string, string[], 'retryable' | 'auth' | 'other']>([
    ['registry 503 during the push', ['ERROR: failed to solve: failed to push 127.0.0.1:15000/x/app:sha-1: unexpected status from PUT request to http://127.0.0.1:15000/v2/x/app/manifests/sha-1: 503 Service Unavailable'], 'retryable'],
    ['rate limited', ['ERROR: failed to solve: failed to push ghcr.io/org/app:latest: unexpected status: 429 Too Many Requests'], 'retryable'],
    ['refused credentials', ['ERROR: failed to solve: failed to push ghcr.io/org/app:latest: unexpected status from HEAD request: 403 Forbidden'], 'auth'],
    ['a RUN that failed is never retried', ['ERROR: failed to solve: process "/bin/sh -c make" did not complete successfully: exit code: 2'], 'other'],
    ['warnings are not the error', ['WARNING: local cache import at /x not found', 'ERROR: failed to solve: dockerfile parse error on line 3'], 'other'],
  ])('%s', (_, messages, kind) => {
    expect(classifyRegistryError(failure(messages).message).kind).toBe(kind);
  });

  test('without ERROR lines the message still says what exited', () => {
    expect(failure([], 137).message).toBe('docker buildx bake exited with 137');
  });
});

test.each([
  ['ERROR: a\nplain\nERROR: b', 'ERROR: a / ERROR: b'],
  ['one\ntwo\nthree\nfour', 'two / three / four'],
  ['Error response from daemon: login attempt to http://x/v2/ failed with status: 401 Unauthorized\n', 'Error response from daemon: login attempt to http://x/v2/ failed with status: 401 Unauthorized'],
])('errorLines(%j)', (text, expected) => {
  expect(errorLines(text)).toBe(expected);
});

test.each([
  ['ghcr.io/org/app', 'ghcr.io'],
  ['127.0.0.1:15000/ns/app', '127.0.0.1:15000'],
  ['localhost/app', 'localhost'],
  ['org/app', 'docker.io'],
  ['app', 'docker.io'],
])('registryHost(%s) = %s', (image, host) => {
  expect(registryHost(image)).toBe(host);
});

describe('runBake leaves no file with credentials behind', () => {
  const proxy = 'http://proxyuser:s3cretpw@127.0.0.1:3128';
  async function planIn(dir: string): Promise<BuildPlan> {
    const workDir = path.join(dir, 'build-image');
    const bakeFile = path.join(workDir, 'bake.json');
    const metadataFile = path.join(workDir, 'bake-metadata.json');
    return {
      flavours: [{ name: 'production', stage: 'production', image: '127.0.0.1:15000/org/app' }],
      cache: {},
      secretFiles: [{ id: 'pip.conf', content: 'index-url = https://u:pw@pypi/simple\n', mountTarget: '/etc/pip.conf' }],
      secretsDir: path.join(workDir, 'secrets'),
      definition: {
        group: { default: { targets: ['production'] } },
        target: { production: { args: { HTTP_PROXY: proxy, http_proxy: proxy }, output: ['type=image,push=true'], attest: [], 'cache-to': ['type=registry,ref=127.0.0.1:15000/org/app-cache:production-master,mode=max'] } },
      },
      bakeFile,
      metadataFile,
      bakeArgs: ['buildx', 'bake', '--file', bakeFile],
      workDir,
    } as unknown as BuildPlan;
  }

  test.each([
    ['after a build that succeeded', 0],
    ['after a build that failed', 1],
  ])('%s', async (_, exitCode) => {
    const dir = await temp.make('bi-bake-');
    const plan = await planIn(dir);
    let seenDuringBuild = '';
    const bakes: Array<{ output: string[]; 'cache-to'?: string[] }> = [];
    vi.mocked(docker).mockImplementation(async () => {
      seenDuringBuild = await readFile(plan.bakeFile, 'utf8');
      bakes.push((JSON.parse(seenDuringBuild) as { target: Record<string, { output: string[]; 'cache-to'?: string[] }> }).target.production!);
      await writeFile(plan.metadataFile, '{"production":{"containerimage.digest":"sha256:1"}}');
      return { exitCode, stdout: '', stderr: '' };
    });
    const run = runBake(plan, [proxy]);
    if (exitCode === 0) expect((await run).metadata).toEqual({ production: { 'containerimage.digest': 'sha256:1' } });
    else await expect(run).rejects.toBeInstanceOf(BakeRunError);
    // Built into the cache first (exporting the cache); pushed only after that bake succeeded.
    expect(bakes.map((bake) => bake.output)).toEqual(exitCode === 0 ? [['type=cacheonly'], ['type=image,push=true']] : [['type=cacheonly']]);
    expect(bakes.map((bake) => bake['cache-to']?.length ?? 0)).toEqual(exitCode === 0 ? [1, 0] : [1]);
    // The bake file did carry the proxy to buildx, and is gone with the secret files and the metadata.
    expect(seenDuringBuild).toContain(proxy);
    expect(seenDuringBuild).toContain(`id=pip.conf,src=${path.join(plan.secretsDir, 'pip.conf')}`);
    await expect(access(plan.bakeFile)).rejects.toThrow(/ENOENT/);
    expect(await readdir(plan.workDir)).toEqual([]);
  });
});

describe('a local cache that cannot be put in place', () => {
  test('is a warning: the images built are still pushed', async () => {
    const dir = await temp.make('bi-swap-');
    const workDir = path.join(dir, 'build-image');
    // The cache's place is under a regular file: the rename into it fails (ENOTDIR), not as a race would.
    await writeFile(path.join(dir, 'not-a-dir'), '');
    const next = path.join(dir, 'export-new');
    await mkdir(next);
    const plan = {
      flavours: [{ name: 'production', stage: 'production', image: '127.0.0.1:15000/org/app' }],
      cache: { production: { localSwap: { next, current: path.join(dir, 'not-a-dir', 'cache') } } },
      secretFiles: [],
      secretsDir: path.join(workDir, 'secrets'),
      definition: { group: { default: { targets: ['production'] } }, target: { production: { args: {}, output: ['type=image,push=true'], attest: [] } } },
      bakeFile: path.join(workDir, 'bake.json'),
      metadataFile: path.join(workDir, 'bake-metadata.json'),
      bakeArgs: ['buildx', 'bake'],
      workDir,
    } as unknown as BuildPlan;
    const outputs: string[][] = [];
    vi.mocked(docker).mockImplementation(async () => {
      outputs.push((JSON.parse(await readFile(plan.bakeFile, 'utf8')) as { target: { production: { output: string[] } } }).target.production.output);
      await writeFile(plan.metadataFile, '{"production":{"containerimage.digest":"sha256:2"}}');
      return { exitCode: 0, stdout: '', stderr: '' };
    });
    // core.warning writes a workflow command to stdout.
    let written = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((written += String(chunk)), true));
    try {
      expect((await runBake(plan, [])).metadata).toEqual({ production: { 'containerimage.digest': 'sha256:2' } });
    } finally {
      write.mockRestore();
    }
    expect(outputs).toEqual([['type=cacheonly'], ['type=image,push=true']]);
    expect(written).toMatch(/^::warning::The local cache at .*not-a-dir\/cache was not updated: .*ENOTDIR.*; the next build starts without it\.$/m);
  });
});
