/**
 * Runs the bundled refresh-dumps action (action.yml's runs.main, dist/main.mjs) the way the GitHub runner
 * does: every input as an `INPUT_<NAME>` variable (upper-cased, dashes kept, defaults from action.yml filled
 * in), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, GITHUB_SHA, GITHUB_WORKSPACE, GITHUB_EVENT_PATH and RUNNER_TEMP.
 * Used by the end-to-end test, the benchmark and `pnpm demo`.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { fixtureDataCollections, fixtureDataTables, fixtureMigrateCommand } from '../../../../test/support/fixture-history.js';
import { actionNode } from '../../../../test/support/action-node.js';

export const actionDir = fileURLToPath(new URL('../../', import.meta.url));

interface ActionYaml {
  inputs: Record<string, { default?: string }>;
  runs: { main: string };
}

const actionYaml = (): ActionYaml => parse(readFileSync(join(actionDir, 'action.yml'), 'utf8')) as ActionYaml;
/** The bundle to run: the runner's (action.yml's runs.main), or REFRESH_DUMPS_BUNDLE (a bundle built elsewhere, e.g. a release artifact). */
export const bundledAction = process.env.REFRESH_DUMPS_BUNDLE ?? join(actionDir, actionYaml().runs.main);

const repoRoot = join(actionDir, '..', '..');
/** Source directories esbuild bundles into the action's dist/. */
const bundledSources = ['actions/refresh-dumps/src', ...['action-inputs', 'dump-set', 'dump-versioning', 'mysql-dump', 'mongo-dump'].map((name) => `packages/${name}/src`)];

/** Fails (naming the newer file) when the bundle is older than a source it bundles: run `pnpm build`. */
export async function assertBundleCurrent(): Promise<void> {
  let built: number;
  try {
    built = statSync(bundledAction).mtimeMs;
  } catch {
    throw new Error(`${bundledAction} does not exist; run \`pnpm build\` first`);
  }
  for (const dir of bundledSources) {
    const entries = await readdir(join(repoRoot, dir), { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const file = join(entry.parentPath, entry.name);
      if ((await stat(file)).mtimeMs > built) throw new Error(`${file} is newer than ${bundledAction}; run \`pnpm build\` first`);
    }
  }
}

/** Input defaults as action.yml declares them (the runner passes every input, defaulted or not). */
export function actionDefaults(): Record<string, string> {
  return Object.fromEntries(Object.entries(actionYaml().inputs).map(([name, input]) => [name, input.default ?? '']));
}

export interface ActionRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  /** GITHUB_OUTPUT as the action left it (the raw records `outputs` is parsed from). */
  outputFile: string;
  /** The job summary the action wrote (HTML/markdown). */
  summary: string;
  /** `::error::` lines of stdout, without the prefix. */
  errors: string[];
  warnings: string[];
  durationMs: number;
}

export interface RunActionOptions {
  inputs: Record<string, string>;
  sha: string;
  workspace: string;
  /** Webhook payload written to GITHUB_EVENT_PATH; default: a push to master of a repository whose default branch is master. */
  event?: unknown;
  /** Extra environment (PATH with the fixture venv, AWS credentials, ...). */
  env?: NodeJS.ProcessEnv;
  /** The triggering ref (GITHUB_REF) and event name; default a push to refs/heads/master. */
  ref?: string;
  eventName?: string;
  timeoutMs?: number;
  /** Called with the action's process once started (to watch its output or signal it, as a cancelled run's runner does). */
  onSpawn?: (child: ChildProcess) => void;
}

/** GITHUB_OUTPUT's `name<<delimiter ... delimiter` records. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!match) continue;
    const [, name, delimiter] = match;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
    outputs[name!] = value.join('\n');
  }
  return outputs;
}

const commandLines = (stdout: string, command: string) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith(`::${command}`))
    .map((line) => line.replace(/^::[a-z]+[^:]*::/, ''));

export async function runAction(options: RunActionOptions): Promise<ActionRun> {
  const home = await mkdtemp(join(tmpdir(), 'refresh-dumps-run-'));
  try {
    const files = { output: join(home, 'output'), summary: join(home, 'summary'), event: join(home, 'event.json') };
    await Promise.all([writeFile(files.output, ''), writeFile(files.summary, '')]);
    const event = options.event ?? { ref: 'refs/heads/master', repository: { full_name: 'org/fixture-app', default_branch: 'master' } };
    await writeFile(files.event, JSON.stringify(event));
    const inputs = { ...actionDefaults(), ...options.inputs };
    const inputEnv = Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]));
    // A clean environment like a runner's: nothing of the caller's INPUT_*/GITHUB_* leaks in.
    const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('INPUT_') && !key.startsWith('GITHUB_')));
    const env = {
      ...base,
      ...options.env,
      ...inputEnv,
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: files.output,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_EVENT_PATH: files.event,
      GITHUB_EVENT_NAME: options.eventName ?? 'push',
      GITHUB_SHA: options.sha,
      GITHUB_REF: options.ref ?? 'refs/heads/master',
      GITHUB_REF_NAME: (options.ref ?? 'refs/heads/master').replace(/^refs\/(heads|tags)\//, ''),
      GITHUB_REPOSITORY: 'org/fixture-app',
      GITHUB_WORKSPACE: options.workspace,
      RUNNER_TEMP: home,
    };
    const started = performance.now();
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        actionNode(),
        [bundledAction],
        { cwd: options.workspace, env, timeout: options.timeoutMs ?? 15 * 60_000, maxBuffer: 256 * 1024 * 1024 },
        (error, out, err) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
      );
      options.onSpawn?.(child);
    });
    const durationMs = performance.now() - started;
    const outputFile = await readFile(files.output, 'utf8');
    return {
      exitCode: code,
      stdout,
      stderr,
      outputs: parseOutputFile(outputFile),
      outputFile,
      summary: await readFile(files.summary, 'utf8'),
      errors: commandLines(stdout, 'error'),
      warnings: commandLines(stdout, 'warning'),
      durationMs,
    };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * The action's inputs for the fixture Django app (test/support/fixture-history.ts): its migrate command
 * (which also ensures the Mongo indexes), one MySQL and one Mongo database, its data tables and collections.
 */
export function fixtureInputs(options: { mysqlUrl: string; mongoUrl: string; database: string; store: string; service?: string }): Record<string, string> {
  return {
    service: options.service ?? 'shop',
    migrate: fixtureMigrateCommand,
    'mysql-url': options.mysqlUrl,
    'mysql-databases': options.database,
    'data-tables': fixtureDataTables.join(','),
    'mongo-url': options.mongoUrl,
    'mongo-databases': options.database,
    'data-collections': fixtureDataCollections.join(','),
    store: options.store,
  };
}

/** The environment a job step has after putting the fixture venv on PATH. */
export function fixtureVenvEnv(python: string): NodeJS.ProcessEnv {
  return { PATH: `${dirname(python)}${delimiter}${process.env.PATH ?? ''}`, PYTHONDONTWRITEBYTECODE: '1' };
}
