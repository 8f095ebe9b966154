import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cp, mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { lockEngine } from '../../../test/support/engine-lock.js';
import {
  extractArgs,
  extractDockerfile,
  findCacheMounts,
  hashDirectory,
  helperImageFor,
  injectArgs,
  injectDockerfile,
  mountDirName,
  parseDockerfile,
  shouldSaveCacheMounts,
} from '../src/index.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';

const temp = useTempDirs();

const run = promisify(execFile);
const HELPER = 'local/image-build-helper:itg';

/** A helper image made from the host's static busybox, so the test needs no registry. */
async function importHelperImage(): Promise<void> {
  const root = await temp.make('ib-helper-');
  await mkdir(path.join(root, 'bin'));
  await cp('/bin/busybox', path.join(root, 'bin/busybox'));
  await symlink('busybox', path.join(root, 'bin/sh'));
  await new Promise<void>((resolve, reject) => {
    const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const docker = spawn('docker', ['import', '-', HELPER], { stdio: ['pipe', 'ignore', 'inherit'] });
    tar.stdout.pipe(docker.stdin);
    docker.on('error', reject);
    docker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker import exited ${code}`))));
  });
}

describeWithServices(['docker'], 'cache mount extract/inject against the real engine', () => {
  // Other test files prune the engine's build cache (cache mounts included) while they hold the lock.
  let unlock: (() => void) | undefined;
  beforeAll(async () => {
    unlock = await lockEngine();
    await importHelperImage();
  });
  afterAll(() => unlock?.());

  test('restored files reach the mount, the build sees them, and new content comes back out', async () => {
    const work = await temp.make('ib-xfer-');
    const cacheId = `ib-itg-${randomBytes(6).toString('hex')}`;
    // The app's Dockerfile: reads what was restored and adds to the cache, like a package manager would.
    const appDockerfile = `FROM ${HELPER}
RUN --network=none --mount=type=cache,id=${cacheId},target=/root/.cache/pip sh -c 'cat /root/.cache/pip/restored.txt > /seen.txt && echo wheel > /root/.cache/pip/new.whl'
`;
    const mounts = findCacheMounts(parseDockerfile(appDockerfile));
    expect(mounts.map((m) => m.id)).toEqual([cacheId]);
    const dirName = mountDirName(mounts[0]!);

    // 1. "Restore": a directory as @actions/cache would put it back.
    const restored = path.join(work, 'restored');
    await mkdir(path.join(restored, dirName), { recursive: true });
    await writeFile(path.join(restored, dirName, 'restored.txt'), 'from a previous runner\n');
    const restoredHash = (await hashDirectory(restored)).hash;

    // 2. Inject it into BuildKit's cache mount.
    await mkdir(path.join(work, 'inject'));
    await writeFile(path.join(work, 'inject/Dockerfile'), injectDockerfile(mounts, HELPER));
    await run('docker', injectArgs({ dockerfile: path.join(work, 'inject/Dockerfile'), context: restored, nonce: randomUUID() }));

    // 3. Extracting right away gives back exactly what was restored: nothing to save.
    const extract = path.join(work, 'extract');
    await mkdir(extract);
    await writeFile(path.join(extract, 'Dockerfile'), extractDockerfile(mounts, HELPER));
    const first = path.join(work, 'out1');
    await run('docker', extractArgs({ dockerfile: path.join(extract, 'Dockerfile'), context: extract, outputDir: first, nonce: randomUUID() }));
    const firstHash = await hashDirectory(first);
    expect(firstHash.hash).toBe(restoredHash);
    expect(shouldSaveCacheMounts(firstHash, restoredHash)).toBe(false);

    // 4. The app build reads the injected file through the mount and writes a new one.
    await mkdir(path.join(work, 'app'));
    await writeFile(path.join(work, 'app/Dockerfile'), appDockerfile);
    const appOut = path.join(work, 'app-out');
    // Not --no-cache: that would hand the RUN an empty cache mount. The cache id is new per test run.
    await run('docker', ['buildx', 'build', '--output', `type=local,dest=${appOut}`, path.join(work, 'app')]);
    expect(await readFile(path.join(appOut, 'seen.txt'), 'utf8')).toBe('from a previous runner\n');

    // 5. The next extract carries the new content: save.
    const second = path.join(work, 'out2');
    await run('docker', extractArgs({ dockerfile: path.join(extract, 'Dockerfile'), context: extract, outputDir: second, nonce: randomUUID() }));
    expect(await readFile(path.join(second, dirName, 'new.whl'), 'utf8')).toBe('wheel\n');
    const secondHash = await hashDirectory(second);
    expect(secondHash.files).toBe(2);
    expect(shouldSaveCacheMounts(secondHash, restoredHash)).toBe(true);
  });
});

describeWithServices(['docker'], 'cache mounts of the sample service move to another runner through extract/inject', () => {
  // A prune by another test between the build and the extract would empty the mount.
  let unlock: (() => void) | undefined;
  beforeAll(async () => {
    unlock = await lockEngine();
  });
  afterAll(() => unlock?.());
  const sample = path.join(import.meta.dirname, '../../../test/fixtures/sample-service');

  test('after a dependency change, the restored wheel cache leaves only the new package to build', async () => {
    const base = (await run('docker', ['image', 'inspect', '--format', '{{index .RepoDigests 0}}', process.env.TEST_BASE_IMAGE ?? 'localhost/org-actions/busybox:1.35.0'])).stdout.trim();
    const work = await temp.make('ib-sample-');
    const context = path.join(work, 'context');
    await cp(sample, context, { recursive: true });
    // Each "runner" gets a cache id of its own (an empty mount) and a declared ARG with a fresh value
    // (a build cache miss) instead of a `docker builder prune`, which would disturb other tests
    // using the same engine.
    let runner = '';
    const dockerfileOf = async () => {
      runner = `ib-itg-${randomBytes(6).toString('hex')}`;
      const text = (await readFile(path.join(sample, 'Dockerfile'), 'utf8'))
        .replaceAll('id=sample-service-wheels', `id=${runner}`)
        .replace('FROM base AS deps\n', 'FROM base AS deps\nARG TEST_RUNNER\n');
      await writeFile(path.join(context, 'Dockerfile'), text);
      return parseDockerfile(text);
    };
    const build = async () =>
      run(
        'docker',
        ['buildx', 'build', '--progress=plain', '--build-arg', `BASE_IMAGE=${base}`, '--build-arg', `TEST_RUNNER=${runner}`, '--target', 'deps', '--output', 'type=cacheonly', context],
        { maxBuffer: 64 * 1024 * 1024 },
      );
    const installSummary = (log: string) => /install-deps: (\d+) built, (\d+) from the wheel cache/.exec(log)?.slice(1).map(Number);

    // First runner: a cold build fills the mount; its post step extracts it.
    const first = await dockerfileOf();
    const firstMounts = findCacheMounts(first);
    // The helpers run in the Dockerfile's own base image: nothing else is needed.
    const helper = helperImageFor(first, firstMounts, { BASE_IMAGE: base });
    expect(helper).toBe(base);
    expect(installSummary((await build()).stderr)).toEqual([8, 0]);
    await writeFile(path.join(work, 'extract.Dockerfile'), extractDockerfile(firstMounts, helper!));
    const saved = path.join(work, 'saved');
    await run('docker', extractArgs({ dockerfile: path.join(work, 'extract.Dockerfile'), context: work, outputDir: saved, nonce: randomUUID() }));
    expect((await hashDirectory(saved)).files).toBe(8);

    // Next runner: an empty mount, a changed lockfile, the saved contents injected first. Mount
    // directories are named by id, so the saved dir is renamed as a restore under another id would be.
    const second = await dockerfileOf();
    const secondMounts = findCacheMounts(second);
    await rename(path.join(saved, mountDirName(firstMounts[0]!)), path.join(saved, mountDirName(secondMounts[0]!)));
    await writeFile(path.join(context, 'requirements.txt'), `${await readFile(path.join(context, 'requirements.txt'), 'utf8')}acme-extra==0.1.0\n`);
    await writeFile(path.join(work, 'inject.Dockerfile'), injectDockerfile(secondMounts, helper!));
    await run('docker', injectArgs({ dockerfile: path.join(work, 'inject.Dockerfile'), context: saved, nonce: randomUUID() }));
    expect(installSummary((await build()).stderr)).toEqual([1, 8]);
  });
});
