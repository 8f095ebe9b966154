import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ActionError, InputError, type InputReader, actionsInputReader, readChoice, readString } from '@org/action-inputs';
import {
  checkProvenanceProxies,
  checkProxyConflicts,
  parseBuildArgs,
  parseBuildSecrets,
  parseCacheMode,
  parseExtraTags,
  parseFlavourSuffixes,
  parseImageName,
  parseLintLevel,
  parseMirrors,
  parsePlatforms,
  parseProvenance,
  parseTargets,
} from '@org/image-build';
import type { BuildSecretFile, CacheMode, GitContext, LintLevel, MirrorSettings } from '@org/image-build';

export const cacheMountModes = ['auto', 'off'] as const;
export type CacheMountMode = (typeof cacheMountModes)[number];

/** Every input of action.yml, read once, named exactly as there (camelCase). */
export interface Inputs {
  /** Workspace-relative, as given (`.` by default). */
  context: string;
  /** Workspace-relative path of the Dockerfile (`<context>/Dockerfile` when the input is empty). */
  file: string;
  targets: Array<{ name: string; stage: string }>;
  /** Empty when not given (allowed only when nothing is pushed). */
  image: string;
  flavourSuffixes: Record<string, string>;
  push: boolean | 'auto';
  registry: string;
  username: string;
  password: string;
  platforms: string[];
  buildArgs: Record<string, string>;
  secrets: BuildSecretFile[];
  cache: CacheMode;
  cacheMounts: CacheMountMode;
  mirrors: MirrorSettings;
  tags: string[];
  lint: LintLevel;
  provenance: string;
  builder: string;
}

const BUILDER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function readPush(read: InputReader): boolean | 'auto' {
  const value = readString(read, 'push').toLowerCase();
  if (value === '' || value === 'auto') return 'auto';
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InputError('push', `expected true, false or auto, got "${value}"`);
}

/** Reads and checks every input; the first bad one throws one InputError naming it. */
export function getInputs(read: InputReader = actionsInputReader): Inputs {
  const context = readString(read, 'context') || '.';
  if (path.isAbsolute(context) || context.split(/[\\/]/).includes('..')) {
    throw new InputError('context', `"${context}" must be a directory inside the workspace, written relative to it`);
  }
  const file = readString(read, 'file') || path.posix.join(context.replace(/\\/g, '/'), 'Dockerfile');
  if (path.isAbsolute(file) || file.split(/[\\/]/).includes('..')) {
    throw new InputError('file', `"${file}" must be a path inside the workspace, written relative to it`);
  }
  const rawImage = readString(read, 'image');
  const registry = readString(read, 'registry');
  const username = readString(read, 'username');
  // Taken as the reader gives it: readString would trim, and a password may end in a space.
  const password = read('password');
  if (registry === '' && (username !== '' || password !== '')) {
    throw new InputError('registry', '`username`/`password` are set but `registry` is empty; name the registry to log in to, e.g. `ghcr.io`');
  }
  if (registry !== '' && (username === '') !== (password === '')) {
    throw new InputError(username === '' ? 'username' : 'password', 'is empty while the other credential is set; give both, or neither for a registry without login');
  }
  const builder = readString(read, 'builder');
  if (builder !== '' && !BUILDER_NAME.test(builder)) {
    throw new InputError('builder', `"${builder}" is not a buildx builder name`);
  }
  const targets = parseTargets(readString(read, 'targets') || 'devstack=dev,production=production');
  const inputs: Inputs = {
    context,
    file,
    targets,
    image: rawImage === '' ? '' : parseImageName(rawImage),
    flavourSuffixes: parseFlavourSuffixes(read('flavour-suffixes'), targets.map((t) => t.name)),
    push: readPush(read),
    registry,
    username,
    password,
    platforms: parsePlatforms(read('platforms')),
    buildArgs: parseBuildArgs(read('build-args')),
    secrets: parseBuildSecrets(read('secrets')).secrets,
    cache: parseCacheMode(read('cache')),
    cacheMounts: readChoice(read, 'cache-mounts', cacheMountModes, 'auto'),
    mirrors: parseMirrors(read('mirrors')),
    tags: parseExtraTags(read('tags')),
    lint: parseLintLevel(read('lint')),
    provenance: parseProvenance(read('provenance')),
    builder,
  };
  // Before anything runs: mode=max would push the proxy's credentials in the attestation.
  checkProvenanceProxies(inputs.provenance, inputs.mirrors.proxyArgs);
  checkProxyConflicts(inputs.buildArgs, inputs.mirrors.proxyArgs);
  return inputs;
}

/** Values to mask before anything is logged: the password, secret values, credentials in mirrors. */
export function sensitiveValues(inputs: Inputs): string[] {
  return [inputs.password, ...inputs.secrets.map((s) => s.content), ...inputs.mirrors.sensitiveValues].filter((v) => v !== '');
}

/** What the workflow run tells about the commit, plus what the action derives for reports. */
export interface RunContext {
  git: GitContext;
  /** `before` of a push event: the commit the branch's cache most likely came from. */
  previousSha?: string;
  workspace: string;
  runnerTemp: string;
  /**
   * Set when the default branch is not known (the payload does not name it and the event does not
   * imply it): the warning to show. `git.defaultBranch` is then empty, so nothing counts as the
   * default branch: `push: auto` does not push, no `latest`, no default-branch cache scope.
   */
  defaultBranchUnknown?: string;
}

/** The parts of the event payload the action reads. */
interface EventPayload {
  before?: string;
  number?: number;
  pull_request?: { number?: number; base?: { ref?: string } };
  repository?: { default_branch?: string; html_url?: string };
}

/**
 * The repository's default branch: from the payload, else, for `schedule` (whose payload has no
 * `repository`, and which GitHub runs on the latest commit of the default branch only), the branch
 * of GITHUB_REF. Otherwise unknown: guessing `main` would silently not publish (and read a cache
 * scope nobody writes) in a repository whose default branch is `master`.
 */
function defaultBranchOf(payload: EventPayload, eventName: string, ref: string): { branch: string } | { unknown: string } {
  const named = payload.repository?.default_branch;
  if (named) return { branch: named };
  if (eventName === 'schedule' && ref.startsWith('refs/heads/')) return { branch: ref.slice('refs/heads/'.length) };
  return {
    unknown:
      `The \`${eventName}\` event payload does not name the repository's default branch (repository.default_branch), so this run ` +
      `cannot tell whether ${ref} is it: \`push: auto\` does not push, no \`latest\` tag is added and the default branch's cache is not read. ` +
      'To publish from this workflow, set `push: true` (and `tags: latest` if this is the default branch).',
  };
}

export type GitRunner = (args: string[], cwd: string) => Promise<string>;

const execFileAsync = promisify(execFile);
const runGit: GitRunner = async (args, cwd) => (await execFileAsync('git', args, { cwd })).stdout;

function requireEnv(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new ActionError(`${name} is not set: this action runs inside a GitHub Actions job (or act).`);
  return value;
}

/**
 * Reads the git context from the runner's environment: GITHUB_EVENT_NAME, GITHUB_REF, GITHUB_SHA,
 * the event payload (PR number, base branch, default branch, `before`) and the commit time from
 * `git show -s --format=%cI` in the workspace.
 */
export async function readRunContext(env: NodeJS.ProcessEnv = process.env, git: GitRunner = runGit): Promise<RunContext> {
  const workspace = requireEnv(env, 'GITHUB_WORKSPACE');
  const sha = requireEnv(env, 'GITHUB_SHA');
  const eventPath = env.GITHUB_EVENT_PATH;
  let payload: EventPayload = {};
  if (eventPath) {
    try {
      payload = JSON.parse(await readFile(eventPath, 'utf8')) as EventPayload;
    } catch (error) {
      throw new ActionError(`Cannot read the event payload ${eventPath}: ${(error as Error).message}`);
    }
  }
  let commitTime: string;
  try {
    commitTime = (await git(['show', '-s', '--format=%cI', sha], workspace)).trim();
  } catch (error) {
    throw new ActionError(
      `Cannot read the commit time of ${sha} in ${workspace} (${(error as Error).message.split('\n')[0]}): check out the repository (actions/checkout) before this action.`,
    );
  }
  const prNumber = payload.pull_request?.number ?? payload.number;
  const prBaseRef = payload.pull_request?.base?.ref || env.GITHUB_BASE_REF || undefined;
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const before = payload.before && !/^0+$/.test(payload.before) ? payload.before : undefined;
  const eventName = requireEnv(env, 'GITHUB_EVENT_NAME');
  const ref = requireEnv(env, 'GITHUB_REF');
  const defaultBranch = defaultBranchOf(payload, eventName, ref);
  return {
    git: {
      eventName,
      ref,
      sha,
      defaultBranch: 'branch' in defaultBranch ? defaultBranch.branch : '',
      ...(prNumber !== undefined ? { prNumber } : {}),
      ...(prBaseRef ? { prBaseRef } : {}),
      commitTime,
      repoUrl: payload.repository?.html_url ?? (env.GITHUB_REPOSITORY ? `${server}/${env.GITHUB_REPOSITORY}` : ''),
    },
    ...(before ? { previousSha: before } : {}),
    workspace,
    runnerTemp: env.RUNNER_TEMP || tmpdir(),
    ...('unknown' in defaultBranch ? { defaultBranchUnknown: defaultBranch.unknown } : {}),
  };
}

/** Repository-relative changed files, or why they are unknown (for the report's hint). */
export type ChangedFiles = { files: string[] } | { unknown: string };

/**
 * Files changed between the commit the cache most likely came from (`before` of a push, else the
 * parent) and this one, relative to the repository. When git cannot tell, says why: a shallow
 * clone (fetch more history) is not the same as a commit without a parent (nothing to fetch).
 */
export async function changedFiles(run: RunContext, git: GitRunner = runGit): Promise<ChangedFiles> {
  const base = run.previousSha ?? `${run.git.sha}~1`;
  try {
    const out = await git(['diff', '--name-only', '--no-renames', base, run.git.sha], run.workspace);
    return { files: out.split('\n').map((l) => l.trim()).filter(Boolean) };
  } catch {
    const shallow = await git(['rev-parse', '--is-shallow-repository'], run.workspace).then((out) => out.trim() === 'true', () => false);
    if (shallow) {
      return {
        unknown: run.previousSha
          ? `the shallow clone lacks the push's previous commit ${run.previousSha.slice(0, 7)}: fetch more history in actions/checkout (\`fetch-depth: 0\`)`
          : 'the clone is shallow: use `fetch-depth: 2` in actions/checkout',
      };
    }
    return { unknown: run.previousSha ? `the push's previous commit ${run.previousSha.slice(0, 7)} is not in the repository (a force push?)` : 'the commit has no parent to compare with' };
  }
}
