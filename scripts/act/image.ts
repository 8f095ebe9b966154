import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PrerequisiteError } from './errors.js';
import type { Log } from './tools.js';

const run = promisify(execFile);

export interface JobImage {
  ref: string;
  isLocal: boolean;
}

/**
 * The job image for `runs-on: ubuntu-latest`. ORG_ACTIONS_ACT_IMAGE names another one (e.g. a public act
 * image on a machine that can pull); otherwise test/act/build-image loads, pulls or builds the offline
 * image for the current recipe and prints its ref.
 */
export async function ensureJobImage(root: string, env: NodeJS.ProcessEnv, log: Log): Promise<JobImage> {
  const override = env.ORG_ACTIONS_ACT_IMAGE;
  if (override !== undefined && override !== '') {
    const isLocal = await run('docker', ['image', 'inspect', override], { env }).then(
      () => true,
      () => false,
    );
    log(`job image ${override} (ORG_ACTIONS_ACT_IMAGE; ${isLocal ? 'present in the engine' : 'act will pull it'})`);
    return { ref: override, isLocal };
  }
  const script = join(root, 'test', 'act', 'build-image');
  const ref = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [script], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last !== '') resolve(last);
      else reject(new PrerequisiteError(`the job image is not ready: test/act/build-image exited with ${code} (its error is above)`));
    });
  });
  return { ref, isLocal: true };
}
