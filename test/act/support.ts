import { execFileSync } from 'node:child_process';
import { describe } from 'vitest';
import { locateAct } from '../../scripts/act/tools.js';
import { type ServiceName, describeWithServices } from '../support/services.js';

const buildImage = new URL('./build-image', import.meta.url).pathname;

/**
 * `describeWithServices` for tests that run `pnpm act`. On a GitHub runner they are skipped with a
 * printed reason: there `.github/workflows/e2e.yml` runs the same jobs natively, and building the job
 * image needs root (debootstrap, chroot), which the test process does not have.
 */
export function describeWithAct(services: ServiceName[], title: string, body: () => void): void {
  if (process.env.GITHUB_ACTIONS === 'true') {
    console.warn(`[skip] ${title}: on GitHub Actions the e2e workflow runs these jobs natively`);
    describe.skip(title, body);
    return;
  }
  describeWithServices(services, title, body);
}

/**
 * Makes sure act and the job image exist before a test runs `pnpm act`: on a fresh machine building them
 * takes minutes (Go build, debootstrap, apt), which belongs in a hook with its own time limit rather than
 * in the test's. Safe to call from several test files at once (build-image takes a lock).
 */
export async function prepareAct(): Promise<void> {
  await locateAct(process.env, (line) => console.log(`[act] ${line}`));
  execFileSync('bash', [buildImage], { env: process.env, stdio: ['ignore', 'ignore', 'inherit'], timeout: 290_000 });
}
