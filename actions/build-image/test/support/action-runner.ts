// Runs the bundled build-image action the way the GitHub runner does: `node dist/main.cjs`, then
// `node dist/post.cjs`, with INPUT_* variables (dashes kept), GITHUB_OUTPUT / GITHUB_STEP_SUMMARY /
// GITHUB_STATE files, STATE_* for the post step, and a workspace that is a real git repository.
// Shared by the end-to-end test and the benchmark.
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { actionNode } from '../../../../test/support/action-node.js';
import { removeAfterTestFile } from '../../../../test/support/temp-dirs.js';

const execFileAsync = promisify(execFile);
export const actionDir = fileURLToPath(new URL('../../', import.meta.url));
/** The bundle run: the committed dist/, or BUILD_IMAGE_DIST (a bundle of the sources built elsewhere, to try them before `pnpm build`). */
const distDir = process.env.BUILD_IMAGE_DIST || path.join(actionDir, 'dist');
export const sampleServiceDir = fileURLToPath(new URL('../../../../test/fixtures/sample-service/', import.meta.url));

export interface Annotation {
  level: 'warning' | 'error' | 'notice';
  properties: Record<string, string>;
  message: string;
}

export interface ActionRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  annotations: Annotation[];
  durationMs: number;
}

/** A throwaway git repository standing in for the checked-out workspace. */
export interface Workspace {
  dir: string;
  /** Where the sample service was copied, relative to `dir`. */
  service: string;
  runnerTemp: string;
  dockerConfig: string;
  commits: string[];
}

let commitClock = Date.parse('2024-05-01T12:00:00Z') / 1000;

async function git(dir: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await execFileAsync('git', args, { cwd: dir, env: { ...process.env, ...env } });
  return stdout.trim();
}

/** Commits everything with a fixed author and a clock that only moves forward, so commit times are known. */
export async function commitAll(workspace: Workspace, message: string): Promise<string> {
  commitClock += 60;
  const date = `${commitClock} +0000`;
  await git(workspace.dir, ['add', '-A']);
  await git(workspace.dir, ['-c', 'user.name=CI', '-c', 'user.email=ci@example.invalid', 'commit', '-q', '--allow-empty', '-m', message], {
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
  });
  const sha = await git(workspace.dir, ['rev-parse', 'HEAD']);
  workspace.commits.push(sha);
  return sha;
}

/** A workspace with the sample service in `sample-service/`, committed once on `master`. */
export async function createWorkspace(): Promise<Workspace> {
  const root = await mkdtemp(path.join(tmpdir(), 'build-image-e2e-'));
  // Workspaces are made in beforeAll hooks, where no afterAll can be registered.
  removeAfterTestFile(root);
  const dir = path.join(root, 'workspace');
  const workspace: Workspace = { dir, service: 'sample-service', runnerTemp: path.join(root, 'runner-temp'), dockerConfig: path.join(root, 'docker-config'), commits: [] };
  await mkdir(dir, { recursive: true });
  await mkdir(workspace.runnerTemp, { recursive: true });
  await mkdir(workspace.dockerConfig, { recursive: true });
  await cp(sampleServiceDir, path.join(dir, workspace.service), { recursive: true });
  await git(dir, ['init', '-q', '-b', 'master']);
  await commitAll(workspace, 'sample service');
  return workspace;
}

/** Parses `name<<delimiter` blocks of GITHUB_OUTPUT / GITHUB_STATE files. */
export function parseFileCommands(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '');
    if (!match) continue;
    const [, name, delimiter] = match as unknown as [string, string, string];
    const end = lines.indexOf(delimiter, i + 1);
    values[name] = lines.slice(i + 1, end).join('\n');
    i = end;
  }
  return values;
}

const unescapeData = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
const unescapeProperty = (s: string) => unescapeData(s).replace(/%3A/g, ':').replace(/%2C/g, ',');

/** `::warning file=x,line=3::message` workflow commands printed on stdout. */
export function parseAnnotations(stdout: string): Annotation[] {
  const annotations: Annotation[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^::(warning|error|notice)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!match) continue;
    const properties: Record<string, string> = {};
    for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
      const eq = pair.indexOf('=');
      properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1));
    }
    annotations.push({ level: match[1] as Annotation['level'], properties, message: unescapeData(match[3] ?? '') });
  }
  return annotations;
}

export interface RunOptions {
  inputs: Record<string, string>;
  /** Defaults: a push of the last commit to master, the default branch. */
  eventName?: string;
  ref?: string;
  sha?: string;
  event?: Record<string, unknown>;
  /** STATE_* values for the post step (what main saved). */
  state?: Record<string, string>;
  env?: Record<string, string>;
}

/** Runs `node dist/<entry>.cjs` as the runner would; the environment holds only what a runner sets. */
export async function runAction(workspace: Workspace, entry: 'main' | 'post', options: RunOptions): Promise<ActionRun> {
  const files = await mkdtemp(path.join(workspace.runnerTemp, `${entry}-`));
  const outputFile = path.join(files, 'output');
  const stateFile = path.join(files, 'state');
  const summaryFile = path.join(files, 'summary');
  const eventFile = path.join(files, 'event.json');
  for (const file of [outputFile, stateFile, summaryFile]) await writeFile(file, '');
  const sha = options.sha ?? workspace.commits.at(-1) ?? '';
  const ref = options.ref ?? 'refs/heads/master';
  const event = options.event ?? {
    ref,
    before: workspace.commits.at(-2) ?? '0'.repeat(40),
    after: sha,
    repository: { default_branch: 'master', html_url: 'https://github.com/org/sample-service' },
  };
  await writeFile(eventFile, JSON.stringify(event));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    DOCKER_HOST: process.env.DOCKER_HOST ?? '',
    DOCKER_CONFIG: workspace.dockerConfig,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: workspace.dir,
    GITHUB_EVENT_NAME: options.eventName ?? 'push',
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_REF: ref,
    GITHUB_SHA: sha,
    GITHUB_REPOSITORY: 'org/sample-service',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STATE: stateFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: workspace.runnerTemp,
    RUNNER_OS: 'Linux',
    ...options.env,
  };
  // The runner passes every input, defaults included, with the name upper-cased and dashes kept.
  for (const [name, value] of Object.entries(options.inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value;

  const started = Date.now();
  const child = spawn(actionNode(), [path.join(distDir, `${entry}.cjs`)], { cwd: workspace.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  return {
    exitCode,
    stdout,
    stderr,
    outputs: parseFileCommands(await readFile(outputFile, 'utf8')),
    state: parseFileCommands(await readFile(stateFile, 'utf8')),
    summary: await readFile(summaryFile, 'utf8'),
    annotations: parseAnnotations(stdout),
    durationMs: Date.now() - started,
  };
}

/** The inputs as the runner fills them from action.yml defaults, overridden by `given`. */
export async function inputsWithDefaults(given: Record<string, string>): Promise<Record<string, string>> {
  const { parse } = await import('yaml');
  const action = parse(await readFile(path.join(actionDir, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.inputs)) inputs[name] = String(spec.default ?? '');
  return { ...inputs, ...given };
}
