// End to end on the harness engine, from the sources: a Dockerfile that declares a proxy ARG while
// `mirrors` gives that proxy with credentials is refused in the plan, before the engine is asked
// anything; without the ARG (or without credentials) it builds, and `docker history` never shows a
// password. A declared proxy ARG is written into the history as `RUN |1 HTTP_PROXY=<value> ...`.
// The sources are bundled here (esbuild, as `pnpm build` does) into a temp dir that the action runner
// runs through BUILD_IMAGE_DIST, so this tests the fix before dist/ is rebuilt. The proxy
// (127.0.0.1:9) is never contacted: the steps run `true`.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { lockEngine } from '../../../test/support/engine-lock.js';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import type { ActionRun, Workspace } from './support/action-runner.js';

const execFileAsync = promisify(execFile);
const docker = async (...args: string[]) => (await execFileAsync('docker', args)).stdout.trim();
const explain = (run: ActionRun) => `exit ${run.exitCode}\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-2000)}`;
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Bundles src/index.ts to <dir>/main.cjs the way scripts/build.mjs bundles a .cjs action. */
async function bundleSources(dir: string): Promise<void> {
  await build({
    entryPoints: { main: path.join(root, 'actions/build-image/src/index.ts') },
    outdir: dir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    mainFields: ['module', 'main'],
    banner: { js: "const __bundle_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__bundle_import_meta_url' },
    logLevel: 'warning',
    absWorkingDir: root,
  });
}

const PASSWORD = 'Pr0xyS3cret';
const WITH_CREDENTIALS = `http-proxy=http://proxyuser:${PASSWORD}@127.0.0.1:9`;

describeWithServices(['docker'], 'build-image action, from the sources: proxy credentials never reach the image history', () => {
  const image = `lint-proxy-${randomBytes(4).toString('hex')}`;
  let runner: typeof import('./support/action-runner.js');
  let workspace: Workspace;
  let inputs: Record<string, string>;
  let dist: string;
  let unlock: (() => void) | undefined;

  /** The history of every tag the run left in the engine, one CreatedBy per line. */
  const history = async () => docker('history', '--no-trunc', '--format', '{{.CreatedBy}}', `${image}:latest`);
  const dockerfile = async (name: string, argLine: string) => {
    const file = `sample-service/Dockerfile.${name}`;
    const base = await docker('image', 'inspect', '--format', '{{index .RepoDigests 0}}', serviceVar('TEST_BASE_IMAGE'));
    // The cache-mount RUN is the slow step the lint protects; `true` touches no network.
    await writeFile(path.join(workspace.dir, file), `FROM ${base} AS production\n${argLine}RUN --mount=type=cache,target=/root/.cache/lint true\nRUN true\n`);
    return file;
  };

  beforeAll(async () => {
    // It builds: no other test may prune BuildKit meanwhile.
    unlock = await lockEngine();
    dist = await mkdtemp(path.join(tmpdir(), 'lint-build-image-dist-'));
    await bundleSources(dist);
    const previous = process.env.BUILD_IMAGE_DIST;
    process.env.BUILD_IMAGE_DIST = dist;
    try {
      runner = await import('./support/action-runner.js');
    } finally {
      if (previous === undefined) delete process.env.BUILD_IMAGE_DIST;
      else process.env.BUILD_IMAGE_DIST = previous;
    }
    workspace = await runner.createWorkspace();
    inputs = await runner.inputsWithDefaults({ context: 'sample-service', image, targets: 'production=production', push: 'false', cache: 'none', 'cache-mounts': 'off' });
  });
  afterAll(async () => {
    const tags = (await docker('image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', image).catch(() => '')).split('\n').filter(Boolean);
    if (tags.length > 0) await docker('image', 'rm', '--force', ...tags).catch(() => undefined);
    if (dist) await rm(dist, { recursive: true, force: true });
    if (workspace) await rm(path.dirname(workspace.dir), { recursive: true, force: true });
    unlock?.();
  });

  test('ARG HTTP_PROXY with a proxy that carries credentials: refused in the plan, nothing built', async () => {
    const file = await dockerfile('declared', 'ARG HTTP_PROXY\n');
    const run = await runner.runAction(workspace, 'main', { inputs: { ...inputs, file, mirrors: WITH_CREDENTIALS } });
    expect(run.exitCode, explain(run)).toBe(1);
    expect(run.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual([
      `Input \`mirrors\`: the proxy (http-proxy) carries credentials, and ${file} declares it as a build arg on line 2 (\`ARG HTTP_PROXY\`, stage \`production\`): ` +
        'a declared proxy ARG is written with its value into the image history of every later RUN, so the password would be pushed with the image. ' +
        'Delete the `ARG HTTP_PROXY` line: BuildKit passes the proxy args to RUN without it, kept out of the cache key and the history. Or give `mirrors` a proxy without credentials.',
    ]);
    // Refused in the Plan group: no lint, no builder check, no bake; the engine holds no such image.
    expect(run.stdout).not.toMatch(/::group::(Dockerfile cache lint|Builder)|docker buildx/);
    // Only the masking commands (`::add-mask::`, which the runner swallows) carry the password.
    const shown = `${run.stdout}${run.stderr}`.split('\n').filter((line) => !line.startsWith('::add-mask::'));
    expect(shown.join('\n')).not.toContain(PASSWORD);
    expect(await docker('image', 'ls', '--quiet', image)).toBe('');
  });

  test('the same ARG with a proxy without credentials builds, with the lint warning; the history holds no password', async () => {
    const file = await dockerfile('declared-plain', 'ARG HTTP_PROXY\n');
    const run = await runner.runAction(workspace, 'main', { inputs: { ...inputs, file, mirrors: 'http-proxy=http://127.0.0.1:9' } });
    expect(run.exitCode, explain(run)).toBe(0);
    expect(run.annotations).toContainEqual(expect.objectContaining({ level: 'warning', properties: expect.objectContaining({ title: 'Dockerfile cache lint: cache-busting-arg', line: '2' }) }));
    const lines = await history();
    // The declared ARG is what puts the value there: the reason a password must never be its value.
    expect(lines).toContain('HTTP_PROXY=http://127.0.0.1:9');
    expect(lines).not.toMatch(/:\/\/[^/\s]*@/);
  });

  test('credentials and no ARG: builds, and the history holds neither the proxy nor its password', async () => {
    const file = await dockerfile('undeclared', '');
    const run = await runner.runAction(workspace, 'main', { inputs: { ...inputs, file, mirrors: WITH_CREDENTIALS } });
    expect(run.exitCode, explain(run)).toBe(0);
    const lines = await history();
    expect(lines).toContain('RUN /bin/sh -c true');
    expect(lines).not.toMatch(/proxyuser|Pr0xyS3cret|127\.0\.0\.1:9/);
  });
});
