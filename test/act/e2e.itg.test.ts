import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { list, openStore, readManifest } from '../../packages/dump-versioning/src/index.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { lockEngine } from '../support/engine-lock.js';
import { serviceVar } from '../support/services.js';
import { describeWithAct, prepareAct } from './support.js';

// The two jobs of .github/workflows/e2e.yml, run the way a developer runs them (`pnpm act --job ...`)
// against the harness servers; then what they published is read back from MinIO and the registry.

const root = new URL('../..', import.meta.url).pathname;

interface ActRun {
  output: string;
  /** Step outputs act logged (`::set-output:: name=value`), first line of each value; later steps win. */
  outputs: Record<string, string>;
  /** The same per step, by the step's name (`⭐ Run Main <name>`). */
  stepOutputs: Record<string, Record<string, string>>;
  seconds: number;
}

function outputsByStep(output: string): Record<string, Record<string, string>> {
  const steps: Record<string, Record<string, string>> = {};
  let step = '';
  for (const line of output.split('\n')) {
    const started = /⭐ Run Main (.*)$/.exec(line);
    if (started) step = started[1]!.trim();
    const set = /::set-output:: ([\w-]+)=(.*)$/.exec(line);
    if (set) (steps[step] ??= {})[set[1]!] = set[2]!;
  }
  return steps;
}

/**
 * `pnpm act --job <job>`, using the committed actions/<name>/dist (`pnpm check-dist` keeps it current):
 * `pnpm build` deletes dist/ first, which would break other tests running the bundles at the same time.
 */
function pnpmAct(job: string, actArgs: string[] = []): ActRun {
  const started = performance.now();
  const result = spawnSync('pnpm', ['act', '--job', job, ...actArgs], {
    cwd: root,
    env: { ...process.env, ORG_ACTIONS_ACT_SKIP_BUILD: '1' },
    encoding: 'utf8',
    timeout: 280_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${result.stdout}\n${result.stderr}`;
  const seconds = (performance.now() - started) / 1000;
  console.log(`pnpm act --job ${job}: exit ${result.status} after ${seconds.toFixed(1)} s`);
  expect(result.status, output.slice(-6000)).toBe(0);
  expect(output).toContain('Job succeeded');
  const outputs: Record<string, string> = {};
  for (const match of output.matchAll(/::set-output:: ([\w-]+)=(.*)$/gm)) outputs[match[1]!] = match[2]!;
  return { output, outputs, stepOutputs: outputsByStep(output), seconds };
}

async function registryDigest(repository: string, reference: string): Promise<string | null> {
  const response = await fetch(`http://${serviceVar('TEST_REGISTRY')}/v2/${repository}/manifests/${reference}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  return response.status === 200 ? response.headers.get('docker-content-digest') : null;
}

describeWithAct(['docker', 'registry'], 'pnpm act --job e2e-build-image', () => {
  let cacheServerDir: string;
  let unlock: (() => void) | undefined;
  beforeAll(async () => {
    await prepareAct();
    // The job prunes and reuses the shared BuildKit, so it holds the engine lock like the other image tests.
    unlock = await lockEngine();
    // A fresh act cache server directory: the first run finds no saved cache mounts, the second must.
    cacheServerDir = mkdtempSync(join(tmpdir(), 'act-cache-'));
  });
  afterAll(() => {
    unlock?.();
    rmSync(cacheServerDir, { recursive: true, force: true });
  });

  it('pushes both flavours, names a moved base image, and a second run restores the cache mounts the first saved through act', async () => {
    // A run id of our own gives the job its own image, base image tag and registry cache, so the first run is really cold.
    const runId = String(Date.now());
    const args = ['--cache-server-path', cacheServerDir, '--env', `GITHUB_RUN_ID=${runId}`];
    const build = 'Build and push both flavours';
    const moved = 'Build the same commit on the moved base';
    // ...and with BuildKit's own cache emptied, the dependency steps run and fill the cache mounts.
    execFileSync('docker', ['builder', 'prune', '-af'], { env: process.env, stdio: 'ignore' });
    const first = pnpmAct('e2e-build-image', args);
    expect(first.output).toContain('No saved cache mounts yet');
    const saved = /Saving (\d+) files \(.*?\) as (build-image-mounts-[\w-]+)/.exec(first.output);
    expect(saved, 'the post step saved the cache mounts').not.toBeNull();
    expect(first.output).toContain('Cache saved successfully');
    for (const [repository, digest] of [
      [`e2e/${runId}/sample-service-dev`, first.stepOutputs[build]?.['digest-devstack']],
      [`e2e/${runId}/sample-service`, first.stepOutputs[build]?.['digest-production']],
    ] as const) {
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await registryDigest(repository, digest!)).toBe(digest);
    }
    // The first build found no record and saved one; the build on the moved base read it back, and its
    // report puts each flavour's first miss down to the base image (checked by the workflow's last step).
    const recordSaved = [...first.output.matchAll(/Saved the build record as (build-image-record-v1-\S+)\./g)].map((m) => m[1]);
    expect(recordSaved).toHaveLength(3);
    expect(first.output).toContain(`Previous build record: ${recordSaved[0]} (`);
    expect(first.output).toContain(`Previous build record: ${recordSaved[1]} (`);
    const baseImage = `${serviceVar('TEST_REGISTRY')}/e2e/${runId}/base:current`;
    expect(first.output.match(new RegExp(`build-image: (devstack|production) first miss .*: base image ${baseImage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} moved \\(sha256:`, 'gm'))).toHaveLength(2);
    expect(first.stepOutputs[moved]?.['digest-production']).not.toBe(first.stepOutputs[build]?.['digest-production']);
    // Back on the first base: the first digests again (checked by the workflow), and the branch's cache is theirs.
    expect(first.output).toContain('build-image: production is ' + first.stepOutputs[build]?.['digest-production'] + ' again');

    // BuildKit forgets its cache mounts; only act's cache server still has them.
    execFileSync('docker', ['builder', 'prune', '-af'], { env: process.env, stdio: 'ignore' });
    const second = pnpmAct('e2e-build-image', args);
    expect(second.output).toContain(`Restored ${saved![1]} files`);
    expect(second.output).toMatch(new RegExp(`Restored ${saved![1]} files \\(.*?\\) from ${saved![2]}\\.`));
    // Same commit on the same base, same digests (labels carry the commit time, not the build time); the
    // record of the build on the first base was the newest, so nothing moved.
    expect(second.stepOutputs[build]?.['digest-devstack']).toBe(first.stepOutputs[build]?.['digest-devstack']);
    expect(second.stepOutputs[build]?.['digest-production']).toBe(first.stepOutputs[build]?.['digest-production']);
    expect(second.output).toContain(`Previous build record: ${recordSaved[2]} (`);
    console.log(`build-image job (three builds each): ${first.seconds.toFixed(1)} s, after a builder prune ${second.seconds.toFixed(1)} s`);
  });
});

describeWithAct(['docker', 'mysql', 'mongo', 's3'], 'pnpm act --job e2e-refresh-dumps', () => {
  beforeAll(prepareAct);

  it('publishes the fixture app dumps to MinIO; the branch ref names this commit and version', async () => {
    // A run id of our own gives the job its own store prefix (e2e/<run id>-1).
    const runId = String(Date.now());
    const run = pnpmAct('e2e-refresh-dumps', ['--env', `GITHUB_RUN_ID=${runId}`]);
    const { version, commit } = run.outputs;
    expect(version).toMatch(/^[0-9a-f]{64}$/);
    expect(commit).toBe(execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim());

    // The harness keys come as TEST_S3_*, not from the AWS credential chain, so hand the store a ready client.
    const s3Client = new S3Client({
      endpoint: serviceVar('TEST_S3_ENDPOINT'),
      region: process.env.TEST_S3_REGION ?? 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: serviceVar('TEST_S3_ACCESS_KEY_ID'), secretAccessKey: serviceVar('TEST_S3_SECRET_ACCESS_KEY') },
    });
    const store = openStore(`s3://e2e-dumps/e2e/${runId}-1`, { s3Client });
    try {
      // The workflow publishes for the branch the run is on (act: the checkout's), in a prefix of its own.
      const { refs } = await list({ store, service: 'e2eshop' });
      expect(refs).toHaveLength(1);
      expect(refs[0]).toMatchObject({ commit, version });
      const manifest = await readManifest(store, 'e2eshop', version!);
      expect(manifest.files.map((file) => file.path)).toEqual(expect.arrayContaining(['mysql/e2e_shop.sql', 'mysql/e2e_shop.schema.json']));
      expect(manifest.files.some((file) => file.path.startsWith('mongo/e2e_shop/'))).toBe(true);
    } finally {
      await store.close();
    }
    console.log(`refresh-dumps job: ${run.seconds.toFixed(1)} s, version ${version}`);
  });
});
