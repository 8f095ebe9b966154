// End to end: the bundled action (dist/main.cjs, then dist/post.cjs) run as the GitHub runner runs
// it, against the harness Docker engine and registry, on test/fixtures/sample-service (its base image
// is the locally built busybox, pinned by digest; its dependency step takes over 20 s).
// Run `pnpm build` first: this tests the bundle, not the sources.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lockEngine } from '../../../test/support/engine-lock.js';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { type ActionRun, type Workspace, commitAll, createWorkspace, inputsWithDefaults, runAction } from './support/action-runner.js';
import { failingRegistry } from './support/failing-registry.js';
import { type Blob, blobsUnder, isLayer, layersOf, manifest } from './support/registry.js';

const execFileAsync = promisify(execFile);
const docker = async (...args: string[]) => (await execFileAsync('docker', args, { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();

interface FlavourMetadata {
  image: string;
  digest: string;
  steps: { total: number; cached: number; run: number };
  firstMiss: { step: string; cause: { kind: string; files?: string[] }; reason: string } | null;
  pushedBytes?: number;
  pushedLayers?: number;
  stepStatus: Array<{ step: string; status: string; durationMs: number }>;
}
const metadataOf = (run: ActionRun) => (JSON.parse(run.outputs.metadata ?? '{}') as { flavours: Record<string, FlavourMetadata> }).flavours;
const isDependencyStep = (step: string) => step.includes('install-deps requirements');

/** Log of a failed run, for the assertion message. */
const explain = (run: ActionRun) => `exit ${run.exitCode}\n${run.stdout.slice(-6000)}\n${run.stderr.slice(-3000)}`;

/** Whether the ProgressLog shows the cache import of `ref` finishing without an error. */
function importedCache(stdout: string, ref: string): boolean {
  const started = new RegExp(`^#(\\d+) \\[\\w+\\] importing cache manifest from ${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').exec(stdout);
  return started !== null && new RegExp(`^#${started[1]} DONE`, 'm').test(stdout) && !new RegExp(`^#${started[1]} ERROR`, 'm').test(stdout);
}

describeWithServices(['docker', 'registry'], 'build-image action, bundled, against the local engine and registry', () => {
  const registry = () => serviceVar('TEST_REGISTRY');
  const namespace = `e2e-${randomBytes(4).toString('hex')}`;
  const image = () => `${registry()}/${namespace}/sample`;
  let workspace: Workspace;
  let baseImage: string;
  let inputs: Record<string, string>;
  let cold: ActionRun;
  let warm: ActionRun;
  let unlock: (() => void) | undefined;

  beforeAll(async () => {
    // These tests prune the engine's BuildKit: no other locking test may use it meanwhile.
    unlock = await lockEngine();
    // The locally built base image, pinned by its digest as the lint asks.
    baseImage = await docker('image', 'inspect', '--format', '{{index .RepoDigests 0}}', serviceVar('TEST_BASE_IMAGE'));
    expect(baseImage).toMatch(/@sha256:[0-9a-f]{64}$/);
    workspace = await createWorkspace();
    inputs = await inputsWithDefaults({ context: 'sample-service', image: image(), 'build-args': `BASE_IMAGE=${baseImage}` });
  });
  afterAll(() => unlock?.());

  test('a cold build pushes both flavours; without a cache service it warns once about cache mounts', async () => {
    await docker('builder', 'prune', '-af');
    cold = await runAction(workspace, 'main', { inputs });
    expect(cold.exitCode, explain(cold)).toBe(0);

    const flavours = metadataOf(cold);
    for (const [flavour, repository] of [['devstack', `${namespace}/sample-dev`], ['production', `${namespace}/sample`]] as const) {
      const pushed = await manifest(registry(), repository, `sha-${workspace.commits[0]?.slice(0, 7)}`);
      expect(pushed?.digest, flavour).toBe(cold.outputs[`digest-${flavour}`]);
      expect((await manifest(registry(), repository, 'latest'))?.digest).toBe(pushed?.digest);
      // Cold: the dependency installation really ran, and took the >= 20 s the fixture promises.
      const install = flavours[flavour]?.stepStatus.find((s) => s.step.startsWith('deps ') && isDependencyStep(s.step));
      expect(install).toMatchObject({ status: 'run' });
      expect(install?.durationMs).toBeGreaterThanOrEqual(20_000);
    }
    expect(cold.outputs.tags?.split('\n')).toContain(`${image()}-dev:master`);
    // Build args appear in the metadata output as fingerprints only: a value may be a token.
    const { buildArgs } = JSON.parse(cold.outputs.metadata ?? '{}') as { buildArgs: Record<string, Record<string, string>> };
    expect(buildArgs.devstack?.BASE_IMAGE).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(cold.outputs.metadata).not.toContain(baseImage);
    expect(cold.summary).toContain('| Flavour | Steps | Cached | Run | First cache miss |');
    // The first build of a new image: each flavour's first miss is told as such, not as a changed instruction
    // (the steps the flavours share are reported CACHED under the second one, which proves no earlier cache).
    for (const flavour of ['devstack', 'production']) {
      expect(flavours[flavour]?.firstMiss?.reason, flavour).toMatch(/no step was cached|no cache to use yet|first build/);
    }

    const cacheWarnings = cold.annotations.filter((a) => /Actions cache service is not available/.test(a.message));
    expect(cacheWarnings).toHaveLength(1);
    // No cache service, so no build record: the report has no previous build, which only a debug line says
    // (the record itself is exercised under act's cache server, test/act/e2e.itg.test.ts).
    expect(cold.stdout).toMatch(/^::debug::No build record: the Actions cache service is not available/m);
    // The sample Dockerfile follows the lint's rules: no finding.
    expect(cold.annotations.filter((a) => a.properties.title?.startsWith('Dockerfile cache lint'))).toEqual([]);

    const post = await runAction(workspace, 'post', { inputs, state: cold.state });
    expect(post.exitCode, explain(post)).toBe(0);
    expect(post.annotations).toEqual([]);
  });

  test('after a code-only change and a prune, the rebuild imports the registry cache and pushes only the changed layers', async () => {
    const before = await blobsUnder(registry(), `${namespace}/`);
    const oldLayers = {
      production: await layersOf(registry(), `${namespace}/sample`, 'master'),
      devstack: await layersOf(registry(), `${namespace}/sample-dev`, 'master'),
    };
    const greeting = path.join(workspace.dir, 'sample-service/src/greeting.txt');
    await writeFile(greeting, `${await readFile(greeting, 'utf8')}A line added by the end-to-end test.\n`);
    await commitAll(workspace, 'code change');
    await docker('builder', 'prune', '-af');

    warm = await runAction(workspace, 'main', { inputs });
    expect(warm.exitCode, explain(warm)).toBe(0);
    for (const flavour of ['devstack', 'production']) expect(importedCache(warm.stdout, `${image()}-cache:${flavour}-master`), flavour).toBe(true);

    const flavours = metadataOf(warm);
    const after = await blobsUnder(registry(), `${namespace}/`);
    const newLayers = [...after.values()].filter((b) => isLayer(b) && !before.has(b.digest));
    const changedLayers = new Set<string>();
    for (const [flavour, repository, codeCopy] of [
      ['devstack', `${namespace}/sample-dev`, 'dev 1/2 COPY src/ ./src/'],
      ['production', `${namespace}/sample`, 'production 1/1 COPY src/ ./src/'],
    ] as const) {
      const report = flavours[flavour];
      // Every dependency step came from the imported cache (the engine's own cache was pruned).
      const dependencySteps = report?.stepStatus.filter((s) => isDependencyStep(s.step)) ?? [];
      expect(dependencySteps.length).toBeGreaterThan(0);
      for (const step of dependencySteps) expect(step.status, step.step).toBe('cached');
      expect(report?.firstMiss).toMatchObject({ step: codeCopy, cause: { kind: 'context-files', files: ['src/greeting.txt'] } });

      // Only the layers from the code COPY on differ; the registry received exactly those.
      const layers = await layersOf(registry(), repository, 'master');
      const changed = layers.filter((l: Blob) => !oldLayers[flavour].some((o) => o.digest === l.digest));
      expect(layers.length).toBe(oldLayers[flavour].length);
      expect(layers.slice(0, layers.length - changed.length)).toEqual(oldLayers[flavour].slice(0, layers.length - changed.length));
      expect(changed.length).toBe(report?.steps.run);
      expect(report?.pushedLayers).toBe(changed.length);
      for (const layer of changed) changedLayers.add(layer.digest);
    }
    // The registry (images and cache) gained exactly the changed layers, nothing else: no dependency
    // layer was pushed again (each is hundreds of KiB; the code layers are tiny). The two flavours'
    // code COPY layers may be the same blob.
    expect(new Set(newLayers.map((b) => b.digest))).toEqual(changedLayers);
    expect(newLayers.reduce((sum, b) => sum + b.size, 0)).toBeLessThan(64 * 1024);
  });

  test('building the same commit again (pruned, logged in) gives identical digests; the password stays out of every log', async () => {
    await docker('builder', 'prune', '-af');
    const password = `pw-${randomBytes(8).toString('hex')}`;
    // The harness registry takes any credentials: this exercises the stdin login and the logout.
    const again = await runAction(workspace, 'main', { inputs: { ...inputs, registry: registry(), username: 'ci', password } });
    expect(again.exitCode, explain(again)).toBe(0);
    expect(again.outputs['digest-devstack']).toBe(warm.outputs['digest-devstack']);
    expect(again.outputs['digest-production']).toBe(warm.outputs['digest-production']);
    expect(metadataOf(again).production?.steps.run).toBe(0);
    // The same images again: nothing was new to the repository.
    for (const flavour of ['devstack', 'production']) expect({ flavour, bytes: metadataOf(again)[flavour]?.pushedBytes, layers: metadataOf(again)[flavour]?.pushedLayers }).toEqual({ flavour, bytes: 0, layers: 0 });

    const logged = `${again.stdout}\n${again.stderr}`.split('\n').filter((line) => line.includes(password));
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expect(line).toBe(`::add-mask::${password}`);
    const config = await readFile(path.join(workspace.dockerConfig, 'config.json'), 'utf8');
    expect(JSON.parse(config).auths).toHaveProperty(registry());

    const post = await runAction(workspace, 'post', { inputs, state: again.state });
    expect(post.exitCode, explain(post)).toBe(0);
    expect(JSON.parse(await readFile(path.join(workspace.dockerConfig, 'config.json'), 'utf8')).auths ?? {}).not.toHaveProperty(registry());
  });

  test('a registry answering 503 to a manifest push is retried, and the push completes', async () => {
    // The real registry behind a proxy that fails the first 4 image manifest PUTs (not the cache's):
    // BuildKit itself tries a PUT 4 times (1, 2, 4 s apart), so the first bake fails; the action's retry must succeed.
    let injected = 0;
    const proxy = await failingRegistry(registry(), (req) => {
      const fail = req.method === 'PUT' && /\/manifests\/sha-/.test(req.url ?? '') && injected < 4;
      if (fail) injected++;
      return fail;
    });
    try {
      const proxied = `${proxy.host}/${namespace}/retried`;
      const run = await runAction(workspace, 'main', { inputs: { ...inputs, image: proxied, targets: 'production=production' } });
      expect(run.exitCode, explain(run)).toBe(0);
      expect(injected).toBe(4);
      const retries = run.annotations.filter((a) => /The registry failed .*503.*; retrying the bake/.test(a.message));
      expect(retries).toHaveLength(1);
      const pushed = await manifest(registry(), `${namespace}/retried`, `sha-${workspace.commits.at(-1)?.slice(0, 7)}`);
      expect(pushed?.digest).toBe(run.outputs['digest-production']);
    } finally {
      proxy.close();
    }
  });

  test('a Dockerfile with `COPY . .` before the install gets the lint annotation on that line', async () => {
    const file = 'sample-service/Dockerfile.copy-first';
    const copyLine = (await readFile(path.join(workspace.dir, file), 'utf8')).split('\n').indexOf('COPY . .') + 1;
    expect(copyLine).toBeGreaterThan(0);
    const run = await runAction(workspace, 'main', {
      inputs: { ...inputs, file, targets: 'production=production', push: 'false', cache: 'none', 'cache-mounts': 'off' },
    });
    expect(run.exitCode, explain(run)).toBe(0);
    const lint = run.annotations.filter((a) => a.properties.title?.startsWith('Dockerfile cache lint'));
    expect(lint).toEqual([
      {
        level: 'warning',
        properties: { title: 'Dockerfile cache lint: copy-context-before-install', file, line: String(copyLine) },
        message: expect.stringContaining('copies the whole context before the dependency installation'),
      },
    ]);
  });

  test('with `lint: error` the same finding is an error annotation and the step fails before building', async () => {
    const file = 'sample-service/Dockerfile.copy-first';
    const run = await runAction(workspace, 'main', { inputs: { ...inputs, file, targets: 'production=production', push: 'false', lint: 'error' } });
    expect(run.exitCode).toBe(1);
    expect(run.annotations.map((a) => [a.level, a.properties.title ?? ''])).toEqual([
      ['error', 'Dockerfile cache lint: copy-context-before-install'],
      ['error', ''],
    ]);
    expect(run.annotations[1]?.message).toMatch(/^The Dockerfile cache lint found 1 problem in sample-service\/Dockerfile.copy-first/);
    expect(run.stdout).not.toContain('docker buildx bake');
  });

  test('a failing RUN fails the step with one error naming the flavour and the step; the summary shows it', async () => {
    const file = 'sample-service/Dockerfile.broken';
    await writeFile(path.join(workspace.dir, file), 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE} AS production\nRUN --network=none sh -c \'echo broken on purpose >&2; exit 3\'\n');
    const run = await runAction(workspace, 'main', { inputs: { ...inputs, file, targets: 'production=production', push: 'false', cache: 'none', 'cache-mounts': 'off' } });
    expect(run.exitCode).toBe(1);
    const errors = run.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/^The build of production failed at `production 2\/2 RUN .*exit 3'`: process .* did not complete successfully: exit code: 3$/);
    expect(run.stdout).toMatch(/^#\d+ broken on purpose$/m);
    expect(run.summary).toMatch(/\| production \| 1 \| 0 \| 1 \| .* \| failed: /);
  });

  test('a pushing build whose devstack fails publishes nothing, not even the production image that built', async () => {
    const file = 'sample-service/Dockerfile.half';
    await writeFile(
      path.join(workspace.dir, file),
      'ARG BASE_IMAGE\nFROM ${BASE_IMAGE} AS production\nRUN --network=none sh -c \'echo built > /built\'\nFROM production AS dev\nRUN --network=none sh -c \'echo tests fail >&2; exit 3\'\n',
    );
    const half = `${namespace}/half`;
    const run = await runAction(workspace, 'main', { inputs: { ...inputs, file, image: `${registry()}/${half}`, targets: 'devstack=dev,production=production', cache: 'none', 'cache-mounts': 'off' } });
    expect(run.exitCode, explain(run)).toBe(1);
    expect(run.annotations.filter((a) => a.level === 'error')[0]?.message).toMatch(/^The build of devstack failed at `dev 1\/1 RUN /);
    for (const tag of ['latest', 'master', `sha-${workspace.commits.at(-1)?.slice(0, 7)}`]) {
      expect(await manifest(registry(), half, tag), `${half}:${tag}`).toBeUndefined();
      expect(await manifest(registry(), `${half}-dev`, tag), `${half}-dev:${tag}`).toBeUndefined();
    }
    expect(run.stdout).not.toContain('Every flavour built; pushing them.');
  });

  test('a bad input fails with one error naming it, before anything is built', async () => {
    const run = await runAction(workspace, 'main', { inputs: { ...inputs, cache: 'fast' } });
    expect(run.exitCode).toBe(1);
    expect(run.annotations).toEqual([{ level: 'error', properties: {}, message: expect.stringMatching(/^Input `cache`: `fast` is not a cache backend/) }]);
    expect(run.stdout).not.toContain('docker buildx bake');
  });
});
