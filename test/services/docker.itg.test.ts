import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { lockEngine } from '../support/engine-lock.js';
import { describeWithServices, serviceVar } from '../support/services.js';

const execFileAsync = promisify(execFile);

/** Runs the docker CLI (argument array, no shell) and returns stdout and stderr together. */
async function docker(args: string[]): Promise<string> {
  const { stdout, stderr } = await execFileAsync('docker', args, { maxBuffer: 64 * 1024 * 1024 });
  return `${stdout}${stderr}`;
}

interface BuildStep {
  name: string;
  cached: boolean;
}

/** The RUN steps of a `--progress=plain` log, each with whether BuildKit reported it CACHED. */
function runSteps(log: string): BuildStep[] {
  const names = new Map<string, string>();
  const cached = new Set<string>();
  for (const line of log.split('\n')) {
    const header = /^#(\d+) (\[[^\]]+\] RUN .*)$/.exec(line);
    if (header?.[1] && header[2]) names.set(header[1], header[2]);
    const hit = /^#(\d+) CACHED$/.exec(line);
    if (hit?.[1]) cached.add(hit[1]);
  }
  return [...names].map(([id, name]) => ({ name, cached: cached.has(id) }));
}

const manifestTypes = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

async function registryHas(registry: string, repository: string, tag: string): Promise<boolean> {
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Accept: manifestTypes },
  });
  return response.status === 200;
}

describeWithServices(['docker', 'registry'], 'Docker engine with buildx and the registry of the harness', () => {
  // This test prunes the shared BuildKit; other test files that rely on its cache hold the same lock.
  let unlock: (() => void) | undefined;
  beforeAll(async () => {
    unlock = await lockEngine();
  });
  afterAll(() => unlock?.());

  it('rebuilds from a registry cache (mode=max) after `docker builder prune -af`, reporting RUN steps CACHED', async () => {
    const base = serviceVar('TEST_BASE_IMAGE');
    const registry = serviceVar('TEST_REGISTRY');
    const server = (await docker(['version', '--format', '{{.Server.Version}}'])).trim();
    const buildx = (await docker(['buildx', 'version'])).trim();
    console.log(`[services] docker server version: ${server}; ${buildx}; base image ${base}`);

    // A fresh nonce per run: the first build can never be served by an earlier run's cache.
    const nonce = randomBytes(6).toString('hex');
    const context = await mkdtemp(join(tmpdir(), 'itg-docker-'));
    try {
      await writeFile(
        join(context, 'Dockerfile'),
        [
          'ARG BASE',
          'FROM ${BASE} AS build',
          `RUN echo ${nonce} > /stamp && ls /bin | wc -l > /applets`,
          'FROM ${BASE}',
          'COPY --from=build /stamp /applets /out/',
          'RUN cat /out/stamp /out/applets > /out/summary',
          '',
        ].join('\n'),
      );
      const image = `${registry}/itg-smoke/app:${nonce}`;
      const cache = `${registry}/itg-smoke/cache:${nonce}`;
      const common = ['buildx', 'build', '--progress=plain', '--build-arg', `BASE=${base}`];
      const withRegistryCache = [
        ...common,
        ...['--tag', image, '--push'],
        ...['--cache-to', `type=registry,ref=${cache},mode=max`, '--cache-from', `type=registry,ref=${cache}`],
        context,
      ];

      const first = await docker(withRegistryCache);
      expect(runSteps(first), first).toEqual([
        { name: expect.stringContaining('[build 2/2] RUN echo') as unknown as string, cached: false },
        { name: expect.stringContaining('[stage-1 3/3] RUN cat') as unknown as string, cached: false },
      ]);
      expect(await registryHas(registry, 'itg-smoke/app', nonce)).toBe(true);
      expect(await registryHas(registry, 'itg-smoke/cache', nonce)).toBe(true);

      await docker(['builder', 'prune', '-af']);
      const rebuilt = await docker(withRegistryCache);
      expect(rebuilt).toContain(`importing cache manifest from ${cache}`);
      const rebuiltSteps = runSteps(rebuilt);
      expect(rebuiltSteps, rebuilt).toHaveLength(2);
      expect(rebuiltSteps.every((step) => step.cached), rebuilt).toBe(true);

      // Control: after another prune, without --cache-from nothing is cached, so the hits above
      // came from the registry and not from anything prune left behind.
      await docker(['builder', 'prune', '-af']);
      const uncached = await docker([...common, '--tag', `itg-smoke-local:${nonce}`, context]);
      expect(runSteps(uncached).map((step) => step.cached), uncached).toEqual([false, false]);
    } finally {
      await rm(context, { recursive: true, force: true });
      await docker(['image', 'rm', `${registry}/itg-smoke/app:${nonce}`, `itg-smoke-local:${nonce}`]).catch(
        () => '',
      );
    }
  });
});
