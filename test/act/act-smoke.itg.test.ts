import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serviceVar } from '../support/services.js';
import { describeWithAct, prepareAct } from './support.js';

const root = new URL('../..', import.meta.url).pathname;

// The job checks what act and the workflows need from the job image, and that the host's loopback
// servers are reachable from the job container (act's default network is the host's).
const smokeWorkflow = `name: act-smoke
on: push
jobs:
  smoke:
    runs-on: ubuntu-latest
    steps:
      - run: node --version && git --version && docker buildx version
      - name: MinIO on the host loopback
        run: curl -fsS -o /dev/null -w 'minio-health=%{http_code}\\n' "\${{ vars.TEST_S3_ENDPOINT }}/minio/health/live"
      - name: the harness engine through the mounted socket
        run: echo "engine=$(docker version --format '{{.Server.Version}}')"
      - name: secrets come from the generated secret file, masked
        run: test -n "\${{ secrets.TEST_S3_SECRET_ACCESS_KEY }}" && echo "secret=\${{ secrets.TEST_S3_SECRET_ACCESS_KEY }}"
`;

describeWithAct(['docker', 's3'], 'pnpm act on the harness engine', () => {
  let dir: string;
  beforeAll(async () => {
    await prepareAct();
    dir = mkdtempSync(join(tmpdir(), 'act-smoke-'));
    writeFileSync(join(dir, 'smoke.yml'), smokeWorkflow);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a trivial ubuntu-latest job in the offline job image', () => {
    const started = performance.now();
    const result = spawnSync('pnpm', ['act', '--workflow', join(dir, 'smoke.yml')], {
      cwd: root,
      // No `pnpm build`: it deletes actions/*/dist, which other tests may be running right now.
      env: { ...process.env, ORG_ACTIONS_ACT_SKIP_BUILD: '1' },
      encoding: 'utf8',
      timeout: 280_000,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    console.log(`pnpm act (smoke job) took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(result.status, output).toBe(0);
    expect(output).toContain(`| ${process.version}`);
    expect(output).toMatch(/\| git version \d/);
    expect(output).toMatch(/\| github\.com\/docker\/buildx \d/);
    expect(output).toContain('| minio-health=200');
    expect(output).toMatch(/\| engine=\d+\.\d+/);
    expect(output).toContain('| secret=***');
    expect(output).not.toContain(serviceVar('TEST_S3_SECRET_ACCESS_KEY'));
    expect(output).toContain('Job succeeded');
  });
});
