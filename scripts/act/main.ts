import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadServicesEnv } from '../../test/support/services-env.js';
import { buildActArgs, onlyLists, parseCommandLine, usage } from './args.js';
import { writeRunFiles } from './env-files.js';
import { PrerequisiteError, UsageError } from './errors.js';
import { ensureJobImage } from './image.js';
import { checkDocker, locateAct, toolCacheDir } from './tools.js';
import { ensureWheelhouse } from './wheelhouse.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const log = (line: string) => process.stderr.write(`[act] ${line}\n`);

/** Harness settings: test/services/.env, with variables already in the environment winning. */
function harnessSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  const settings: Record<string, string> = { ...loadServicesEnv() };
  for (const [name, value] of Object.entries(env)) {
    if ((name.startsWith('TEST_') || name === 'DOCKER_HOST') && value !== undefined) settings[name] = value;
  }
  return settings;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Exit code of a child; a signal becomes 128 + its number, as a shell reports it. */
function runChild(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGKILL' ? 9 : 15)));
  });
}

/** `pnpm build`, through the pnpm that started us when there is one. */
async function buildBundles(env: NodeJS.ProcessEnv): Promise<void> {
  const pnpm = env.npm_execpath;
  const code =
    pnpm !== undefined && /pnpm\.c?js$/.test(pnpm)
      ? await runChild(process.execPath, [pnpm, 'run', 'build'], env)
      : await runChild('pnpm', ['run', 'build'], env);
  if (code !== 0) throw new PrerequisiteError(`\`pnpm build\` failed (exit ${code}); fix the action sources before running workflows`);
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const command = parseCommandLine(argv);
    if (command.help) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    const settings = harnessSettings(env);
    // Offline: act would otherwise ask api.nektosact.com for notices on every run.
    const runEnv: NodeJS.ProcessEnv = { ...env, ACT_DISABLE_VERSION_CHECK: '1' };
    if (!env.DOCKER_HOST && settings.DOCKER_HOST) runEnv.DOCKER_HOST = settings.DOCKER_HOST;

    const act = await locateAct(runEnv, log);
    const dockerVersion = await checkDocker(runEnv);
    log(`act ${act.version} (${act.source}: ${act.path}); Docker ${dockerVersion} at ${runEnv.DOCKER_HOST ?? 'the default socket'}`);
    const workflowPath = isAbsolute(command.workflow) ? command.workflow : join(root, command.workflow);
    if (!existsSync(workflowPath)) throw new UsageError(`the workflow ${command.workflow} does not exist; ${usage}`);

    const image = await ensureJobImage(root, runEnv, log);
    const listing = onlyLists(command.actArgs);
    // Tests that run beside others executing actions/*/dist skip the rebuild (it deletes dist/ first).
    if (listing) log('act only lists the jobs: not rebuilding the bundles or preparing wheels');
    else if (env.ORG_ACTIONS_ACT_SKIP_BUILD === '1') log('not rebuilding the bundles (ORG_ACTIONS_ACT_SKIP_BUILD=1): actions/*/dist run as they are');
    else await buildBundles(runEnv);

    const wheelhouse = listing ? undefined : await ensureWheelhouse(root, runEnv, image.ref, log);
    // Job environment: pip installs only from the host-prepared wheels (no route to PyPI from the job).
    const jobEnv: Record<string, string> = { PYTHONDONTWRITEBYTECODE: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' };
    if (wheelhouse !== undefined) Object.assign(jobEnv, { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheelhouse });
    writeRunFiles(join(root, '.tmp', 'act'), settings, jobEnv);
    const args = buildActArgs({
      workflow: command.workflow,
      job: command.job,
      image: image.ref,
      imageIsLocal: image.isLocal,
      artifactServerPort: await freePort(),
      cacheServerPath: join(toolCacheDir(env), 'act', 'cache'),
      mounts: wheelhouse === undefined ? [] : [{ path: wheelhouse, readOnly: true }],
      runId: `${Date.now()}${process.pid % 1000}`,
      actArgs: command.actArgs,
    });
    log(`job image ${image.ref}; running: act ${args.join(' ')}`);
    const started = performance.now();
    const code = await runChild(act.path, args, runEnv);
    log(`act exited with ${code} after ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return code;
  } catch (error) {
    if (error instanceof PrerequisiteError || error instanceof UsageError) {
      process.stderr.write(`pnpm act: ${error.message}\n`);
      return error instanceof UsageError ? 2 : 1;
    }
    throw error;
  }
}
