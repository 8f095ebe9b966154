// End to end, the failure paths of the bundled action (dist/, or BUILD_IMAGE_DIST): each bad input
// or unreachable server ends in one error naming what to fix, a registry that cannot be read before
// the push only costs the size report, and the post step logs out whatever happened in main.
// Run `pnpm build` first: this tests the bundle, not the sources.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lockEngine } from '../../../test/support/engine-lock.js';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { type ActionRun, type Workspace, createWorkspace, inputsWithDefaults, runAction } from './support/action-runner.js';
import { failingRegistry } from './support/failing-registry.js';

const execFileAsync = promisify(execFile);
const docker = async (...args: string[]) => (await execFileAsync('docker', args)).stdout.trim();
const explain = (run: ActionRun) => `exit ${run.exitCode}\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-2000)}`;
const errors = (run: ActionRun) => run.annotations.filter((a) => a.level === 'error').map((a) => a.message);
const auths = async (workspace: Workspace) => {
  const text = await readFile(path.join(workspace.dockerConfig, 'config.json'), 'utf8').catch(() => '{}');
  return (JSON.parse(text) as { auths?: Record<string, unknown> }).auths ?? {};
};

describeWithServices(['docker', 'registry'], 'build-image action, bundled: failures name what to fix', () => {
  const registry = () => serviceVar('TEST_REGISTRY');
  const namespace = `e2e-fail-${randomBytes(4).toString('hex')}`;
  let workspace: Workspace;
  let inputs: Record<string, string>;
  let unlock: (() => void) | undefined;

  beforeAll(async () => {
    // It builds: no other test may prune BuildKit meanwhile.
    unlock = await lockEngine();
    const baseImage = await docker('image', 'inspect', '--format', '{{index .RepoDigests 0}}', serviceVar('TEST_BASE_IMAGE'));
    workspace = await createWorkspace();
    inputs = await inputsWithDefaults({
      context: 'sample-service',
      image: `${registry()}/${namespace}/sample`,
      targets: 'production=production',
      'build-args': `BASE_IMAGE=${baseImage}`,
      'cache-mounts': 'off',
    });
  });
  afterAll(() => unlock?.());

  test.each<[string, Record<string, string>, Record<string, string>, RegExp]>([
    ['`builder` naming no builder', { builder: 'nosuch' }, {}, /^Input `builder`: there is no buildx builder `nosuch`/],
    ['`context` that does not exist (not blamed on `file`)', { context: 'nope' }, {}, /^Input `context`: "nope" does not exist in the workspace/],
    ['an engine that does not answer', {}, { DOCKER_HOST: 'unix:///tmp/build-image-no-engine.sock' }, /^Cannot reach the Docker engine at DOCKER_HOST=unix:\/\/\/tmp\/build-image-no-engine\.sock: .*docker\/setup-buildx-action\) and pass its name in `builder`\.$/],
    ['a `flavour-suffixes` typo', { 'flavour-suffixes': 'productoin=' }, {}, /^Input `flavour-suffixes`: `productoin` is not a flavour of `targets`\. Name one of the flavours built: production\.$/],
  ])('%s: one error naming it, before anything is built', async (_, given, env, message) => {
    const run = await runAction(workspace, 'main', { inputs: { ...inputs, ...given }, env });
    expect(run.exitCode, explain(run)).toBe(1);
    expect(errors(run)).toEqual([expect.stringMatching(message)]);
    expect(run.stdout).not.toContain('docker buildx bake');
  });

  test('a registry host that does not resolve fails at once, naming `registry` (no retries)', async () => {
    const run = await runAction(workspace, 'main', { inputs: { ...inputs, push: 'false', registry: 'nosuch-host.invalid', username: 'ci', password: 'pw-unused' } });
    expect(run.exitCode, explain(run)).toBe(1);
    expect(errors(run)).toEqual([expect.stringMatching(/^Input `registry`: registry host `nosuch-host\.invalid` does not resolve \(.*\)\. Check the host name in `registry`/)]);
    expect(run.annotations.filter((a) => /retrying/.test(a.message))).toEqual([]);
    expect(run.durationMs).toBeLessThan(10_000);
  });

  test('after a failed build the post step still logs out; after a main step that did nothing it does nothing', async () => {
    const file = 'sample-service/Dockerfile.fails';
    await writeFile(path.join(workspace.dir, file), 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE} AS production\nRUN --network=none sh -c \'exit 4\'\n');
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const run = await runAction(workspace, 'main', { inputs: { ...inputs, file, push: 'false', cache: 'none', registry: registry(), username: 'ci', password } });
    expect(run.exitCode, explain(run)).toBe(1);
    expect(await auths(workspace)).toHaveProperty(registry());

    const post = await runAction(workspace, 'post', { inputs, state: run.state });
    expect(post.exitCode, explain(post)).toBe(0);
    expect(post.annotations).toEqual([]);
    expect(await auths(workspace)).not.toHaveProperty(registry());

    const early = await runAction(workspace, 'main', { inputs: { ...inputs, cache: 'fast' } });
    const idle = await runAction(workspace, 'post', { inputs, state: early.state });
    expect(idle.exitCode, explain(idle)).toBe(0);
    expect(idle.annotations).toEqual([]);
    expect(idle.stdout).toContain('Nothing to do');
  });

  test('a registry answering 503 to the lookups before the push: a warning naming it, the push goes on, pushed bytes unknown', async () => {
    // The real registry behind a proxy that answers 503 to every manifest read of the image repository
    // until the bake starts (its first request is the cache import from `<image>-cache`): the lookups
    // before the push fail, the build and the push do not.
    let refused = 0;
    let bakeStarted = false;
    const proxy = await failingRegistry(registry(), (req) => {
      const url = req.url ?? '';
      if (/-cache\//.test(url)) bakeStarted = true;
      const fail = !bakeStarted && (req.method === 'GET' || req.method === 'HEAD') && /\/manifests\//.test(url);
      if (fail) refused++;
      return fail;
    });
    try {
      const { host } = proxy;
      const run = await runAction(workspace, 'main', { inputs: { ...inputs, image: `${host}/${namespace}/lookup`, push: 'true' } });
      expect(run.exitCode, explain(run)).toBe(0);
      expect(refused).toBeGreaterThan(1);
      const warnings = run.annotations.filter((a) => a.level === 'warning' && a.message.startsWith('Cannot tell which layers'));
      expect(warnings).toEqual([expect.objectContaining({ message: expect.stringContaining(`${host} could not be read before the push`) })]);
      expect(run.outputs['digest-production']).toMatch(/^sha256:/);
      expect(run.summary).toMatch(/\| production \| .* \| unknown \| /);
    } finally {
      proxy.close();
    }
  });
});
