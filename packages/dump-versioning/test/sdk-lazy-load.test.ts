import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const probe = fileURLToPath(new URL('fixtures/sdk-load-probe.ts', import.meta.url));

// The action bundle is split on src/internal/aws-sdk.ts: nothing else may load the SDK at runtime.
test('the filesystem store path never loads the AWS SDK; the first S3 request does', async () => {
  const { NODE_EXTRA_CA_CERTS: _slowStart, ...env } = process.env;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', probe], {
    cwd: repoRoot,
    env: { ...env, AWS_ACCESS_KEY_ID: 'probe-key', AWS_SECRET_ACCESS_KEY: 'probe-secret', AWS_REGION: 'us-east-1', AWS_MAX_ATTEMPTS: '1' },
    timeout: 60_000,
  });
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { published: number; verified: boolean; afterFilesystem: string[]; afterS3: string[]; s3Error?: string };
  expect(report).toMatchObject({ published: 2, verified: true, afterFilesystem: [] });
  // The probe can see the SDK being loaded (otherwise an empty list above would prove nothing).
  expect(report.afterS3.some((module) => module.includes('@aws-sdk/client-s3'))).toBe(true);
  expect(report.s3Error).toBeDefined();
}, 60_000);
