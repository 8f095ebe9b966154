import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync, appendFileSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { PrerequisiteError } from './errors.js';

const run = promisify(execFile);

export const actModule = 'github.com/nektos/act';
export const actVersion = 'v0.2.87';
const installHint = `install act ${actVersion} (https://nektosact.com/installation/, or \`go install ${actModule}@${actVersion}\`)`;

export type Log = (line: string) => void;

/** `${ORG_ACTIONS_TOOL_CACHE:-$HOME/.cache/org-actions}`, the harness's tool cache. */
export function toolCacheDir(env: NodeJS.ProcessEnv): string {
  return env.ORG_ACTIONS_TOOL_CACHE || join(env.HOME ?? '/root', '.cache', 'org-actions');
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function findOnPath(name: string, pathVariable: string | undefined): string | undefined {
  for (const dir of (pathVariable ?? '').split(delimiter)) {
    if (dir !== '' && isExecutableFile(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The version `act --version` prints, or undefined when the file is not a working act. */
async function actVersionOf(binary: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(binary, ['--version'], { timeout: 15_000 });
    return /^act version (\S+)/m.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

export interface ActBinary {
  path: string;
  version: string;
  /** How it was found: ACT_BINARY, PATH, the tool cache, or built just now. */
  source: 'ACT_BINARY' | 'PATH' | 'tool cache' | 'built';
}

/**
 * Finds act: ACT_BINARY (when set, nothing else is tried), PATH, the tool cache, else builds it with Go
 * into the tool cache. Throws PrerequisiteError with what to install when none of these works.
 */
export async function locateAct(env: NodeJS.ProcessEnv, log: Log): Promise<ActBinary> {
  const explicit = env.ACT_BINARY;
  if (explicit !== undefined && explicit !== '') {
    const version = isExecutableFile(explicit) ? await actVersionOf(explicit) : undefined;
    if (version === undefined) {
      throw new PrerequisiteError(`ACT_BINARY=${explicit} is not a working act executable: ${installHint} and point ACT_BINARY at it, or unset ACT_BINARY`);
    }
    return { path: explicit, version, source: 'ACT_BINARY' };
  }
  const candidates: Array<[string | undefined, ActBinary['source']]> = [
    [findOnPath('act', env.PATH), 'PATH'],
    [join(toolCacheDir(env), 'bin', 'act'), 'tool cache'],
  ];
  for (const [path, source] of candidates) {
    if (path === undefined || !isExecutableFile(path)) continue;
    const version = await actVersionOf(path);
    if (version !== undefined) return { path, version, source };
  }
  const go = findOnPath('go', env.PATH);
  if (go === undefined) {
    throw new PrerequisiteError(`act is not installed: ${installHint}, or install Go >= 1.21 so \`pnpm act\` can build it`);
  }
  return { ...(await buildAct(go, env, log)), source: 'built' };
}

/**
 * Builds act with `go install` into a temporary GOBIN and moves it into the tool cache, so an interrupted
 * build never leaves a binary that looks installed. Some Go proxies refuse the module's version list (403),
 * which `go install module@version` can trip over; a wrapper module that `go get`s the exact version and
 * builds the package is the fallback.
 */
async function buildAct(go: string, env: NodeJS.ProcessEnv, log: Log): Promise<{ path: string; version: string }> {
  const toolCache = toolCacheDir(env);
  for (const dir of ['bin', 'logs', 'tmp']) mkdirSync(join(toolCache, dir), { recursive: true });
  const logFile = join(toolCache, 'logs', 'act.log');
  writeFileSync(logFile, '');
  const work = mkdtempSync(join(toolCache, 'tmp', 'act-build-'));
  const goEnv = { ...env, GOFLAGS: `${env.GOFLAGS ?? ''} -buildvcs=false`.trim() };
  const step = async (args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}) => {
    appendFileSync(logFile, `\n$ go ${args.join(' ')}  (in ${cwd})\n`);
    try {
      const { stdout, stderr } = await run(go, args, { cwd, env: { ...goEnv, ...extraEnv }, maxBuffer: 64 * 1024 * 1024 });
      appendFileSync(logFile, stdout + stderr);
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      appendFileSync(logFile, `${stdout}${stderr}\n(failed)\n`);
      throw error;
    }
  };
  const started = performance.now();
  try {
    let built: string;
    log(`building act ${actVersion} with \`go install ${actModule}@${actVersion}\` into ${toolCache}/bin (about a minute cold; log ${logFile})`);
    try {
      await step(['install', `${actModule}@${actVersion}`], work, { GOBIN: work });
      built = join(work, 'act');
    } catch {
      log('go install failed; building from a wrapper module (go mod init; go get; go build)');
      const module = join(work, 'wrapper');
      mkdirSync(module);
      await step(['mod', 'init', 'actbuild'], module);
      await step(['get', `${actModule}@${actVersion}`], module);
      built = join(module, 'act');
      await step(['build', '-trimpath', '-o', built, actModule], module);
    }
    const version = await actVersionOf(built);
    if (version === undefined) throw new Error(`${built} does not run`);
    const target = join(toolCache, 'bin', 'act');
    renameSync(built, target);
    log(`built act ${version} in ${((performance.now() - started) / 1000).toFixed(0)} s: ${target}`);
    return { path: target, version };
  } catch {
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join(' | ');
    throw new PrerequisiteError(`building act ${actVersion} with Go failed (log ${logFile}: ${tail}); ${installHint}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Fails with one line unless a Docker engine answers at DOCKER_HOST (or the default socket). */
export async function checkDocker(env: NodeJS.ProcessEnv): Promise<string> {
  const where = env.DOCKER_HOST || 'the default socket (DOCKER_HOST is not set)';
  try {
    const { stdout } = await run('docker', ['version', '--format', '{{.Server.Version}}'], { env, timeout: 20_000 });
    return stdout.trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PrerequisiteError(
        'the docker CLI is not installed: install Docker Engine with buildx (Debian: `apt-get install docker.io docker-buildx`, or `sudo pnpm services:install`)',
      );
    }
    throw new PrerequisiteError(`Docker does not answer at ${where}: start the engine (\`pnpm services:up\` starts the harness one) or set DOCKER_HOST`);
  }
}
