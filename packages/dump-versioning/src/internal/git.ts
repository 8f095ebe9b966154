import { execFile, spawn } from 'node:child_process';
import { GitError } from './errors.js';

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs git with an argument array (never a shell string); resolves with the exit code. */
export function runGit(cwd: string, args: ReadonlyArray<string>, timeoutMs = 120_000): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile('git', [...args], { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (error, stdout, stderr) => {
      if (error && typeof (error as { code?: unknown }).code !== 'number') {
        reject(new GitError('git-failed', `cannot run git in ${cwd}: ${error.message}; install git or fix the repository path`, { cause: error }));
        return;
      }
      resolve({ code: error ? Number((error as { code?: number }).code) : 0, stdout, stderr });
    });
  });
}

/** Revisions from users are checked so they can never be read as git options. */
function assertRevision(rev: string) {
  if (rev === '' || rev.startsWith('-') || /[\s\u0000-\u001f]/.test(rev)) {
    throw new GitError('bad-revision', `${JSON.stringify(rev)} is not a valid git revision; pass a commit sha, branch or HEAD`);
  }
}

/** The full sha of a revision in the repository at `cwd`. */
export async function resolveCommit(cwd: string, rev: string): Promise<string> {
  assertRevision(rev);
  const result = await runGit(cwd, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  if (result.code !== 0) {
    throw new GitError('unknown-revision', `git cannot find commit ${JSON.stringify(rev)} in ${cwd}; fetch it or check the sha (${result.stderr.trim() || 'not found'})`);
  }
  return result.stdout.trim();
}

/** The top of the git working tree holding `dir`; undefined when it is in none (or git cannot run). */
export async function workingTreeRoot(dir: string): Promise<string | undefined> {
  const result = await runGit(dir, ['rev-parse', '--show-toplevel']).catch(() => undefined);
  return result?.code === 0 ? result.stdout.trim() || undefined : undefined;
}

/**
 * The files under `dir` that git tracks or would add (untracked and not ignored), relative to `dir`;
 * undefined when `dir` is in no git working tree (or git cannot list it). Ignored files (a venv, a build
 * folder) and nested repositories (another worktree) are not in it.
 */
export async function gitVisibleFiles(dir: string): Promise<Set<string> | undefined> {
  const result = await runGit(dir, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']).catch(() => undefined);
  if (result === undefined || result.code !== 0) return undefined;
  return new Set(result.stdout.split('\0').filter((file) => file !== ''));
}

/**
 * The files under `dir` in `commit` (paths relative to `dir`, as ls-tree lists them from there) with their
 * blob ids; regular files and executables only (no links or submodules).
 */
export async function filesAtCommit(dir: string, commit: string): Promise<Map<string, string>> {
  assertRevision(commit);
  const result = await runGit(dir, ['ls-tree', '-r', '-z', commit]);
  if (result.code !== 0) throw new GitError('unknown-revision', `git cannot list commit ${commit} in ${dir} (${result.stderr.trim() || `exit ${result.code}`})`);
  const files = new Map<string, string>();
  for (const entry of result.stdout.split('\0')) {
    // `<mode> blob <id>\t<path>`
    const match = /^(100644|100755) blob ([0-9a-f]+)\t(.+)$/s.exec(entry);
    if (match) files.set(match[3]!, match[2]!);
  }
  return files;
}

/** The contents of blobs by id, read through one `git cat-file --batch` process. */
export function readBlobs(cwd: string, ids: ReadonlyArray<string>): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => reject(new GitError('git-failed', `cannot run git in ${cwd}: ${error.message}; install git or fix the repository path`, { cause: error })));
    child.on('close', (code) => {
      if (code !== 0) return reject(new GitError('git-failed', `git cat-file --batch exited with ${code} in ${cwd}: ${stderr.trim()}`));
      // Each answer: `<id> blob <size>\n<bytes>\n`, in the order asked.
      const out = Buffer.concat(chunks);
      const blobs = new Map<string, Buffer>();
      let at = 0;
      for (const id of ids) {
        const eol = out.indexOf(0x0a, at);
        const header = out.subarray(at, eol).toString('utf8').split(' ');
        if (header[1] !== 'blob') return reject(new GitError('git-failed', `git cat-file has no blob ${id} in ${cwd} (${header.join(' ')})`));
        const size = Number(header[2]);
        blobs.set(id, out.subarray(eol + 1, eol + 1 + size));
        at = eol + 1 + size + 1;
      }
      resolve(blobs);
    });
    child.stdin.end(ids.map((id) => `${id}\n`).join(''));
  });
}

export async function commitTime(cwd: string, sha: string): Promise<string | undefined> {
  const result = await runGit(cwd, ['show', '-s', '--format=%cI', sha]);
  return result.code === 0 ? result.stdout.trim() || undefined : undefined;
}

/** Up to `limit` commits of the first-parent history starting at `start` (inclusive), newest first. */
export async function firstParentHistory(cwd: string, start: string, limit: number): Promise<string[]> {
  assertRevision(start);
  const result = await runGit(cwd, ['rev-list', '--first-parent', `--max-count=${limit}`, start]);
  if (result.code !== 0) throw new GitError('rev-list-failed', `git rev-list ${start} failed in ${cwd}: ${result.stderr.trim()}`);
  return result.stdout.split('\n').filter(Boolean);
}

/**
 * `start` and up to `limit - 1` of its ancestors through every parent, newest commit first (git's default
 * order, which streams: no walk of the whole graph as --topo-order needs without a commit graph).
 */
export async function ancestorHistory(cwd: string, start: string, limit: number): Promise<string[]> {
  assertRevision(start);
  const result = await runGit(cwd, ['rev-list', `--max-count=${limit}`, start]);
  if (result.code !== 0) throw new GitError('rev-list-failed', `git rev-list ${start} failed in ${cwd}: ${result.stderr.trim()}`);
  return result.stdout.split('\n').filter(Boolean);
}

/** How many commits `descendant` has that `ancestor` has not (`git rev-list --count ancestor..descendant`). */
export async function commitsSince(cwd: string, ancestor: string, descendant: string): Promise<number> {
  assertRevision(ancestor);
  assertRevision(descendant);
  const result = await runGit(cwd, ['rev-list', '--count', `${ancestor}..${descendant}`]);
  if (result.code !== 0) throw new GitError('rev-list-failed', `git rev-list ${ancestor}..${descendant} failed in ${cwd}: ${result.stderr.trim()}`);
  return Number(result.stdout.trim());
}

/** true: `ancestor` is an ancestor of (or equal to) `descendant`; false: it is not; undecided: why not. */
export type AncestryAnswer = boolean | { undecided: string };
export type AncestryChecker = (ancestor: string, descendant: string) => Promise<AncestryAnswer>;

const hasCommit = async (cwd: string, sha: string) => (await runGit(cwd, ['cat-file', '-e', `${sha}^{commit}`])).code === 0;
export const isShallowClone = async (cwd: string) => (await runGit(cwd, ['rev-parse', '--is-shallow-repository'])).stdout.trim() === 'true';

/** Fetches the full history of a shallow clone; `failure` says why it is still shallow afterwards. */
export async function unshallow(cwd: string, remote: string, deepen?: number): Promise<{ failure?: string }> {
  const how = deepen === undefined ? '--unshallow' : `--deepen=${Math.max(1, Math.floor(deepen))}`;
  const deepened = await runGit(cwd, ['fetch', '--no-tags', how, remote]);
  // With --deepen the clone stays shallow by design: only the exit code tells.
  if (deepened.code === 0 || (deepen === undefined && !(await isShallowClone(cwd)))) return {};
  return { failure: deepened.stderr.trim().split('\n').pop() || `git fetch ${how} ${remote} exited with ${deepened.code}` };
}

/** First-parent steps from `ancestor` to `descendant` (which must descend from it). */
export async function firstParentDistance(cwd: string, ancestor: string, descendant: string): Promise<number> {
  assertRevision(ancestor);
  assertRevision(descendant);
  const result = await runGit(cwd, ['rev-list', '--count', '--first-parent', `${ancestor}..${descendant}`]);
  const count = Number(result.stdout.trim());
  if (result.code !== 0 || !Number.isInteger(count)) throw new GitError('rev-list-failed', `git rev-list --count ${ancestor}..${descendant} failed in ${cwd}: ${result.stderr.trim()}`);
  return count;
}

/**
 * Ancestry from the git clone at `cwd`. A shallow CI clone may lack the ref's commit or the history
 * between the two: fetch the commit, then deepen, and if git still cannot tell, say so instead of guessing.
 * `offline` never fetches: what the clone cannot tell is undecided.
 */
export function gitAncestry(cwd: string, options: { remote?: string; fetchDepth?: number; offline?: boolean } = {}): AncestryChecker {
  const remote = options.remote ?? 'origin';
  const depth = options.fetchDepth ?? 200;
  return async (ancestor, descendant) => {
    for (const sha of [ancestor, descendant]) {
      assertRevision(sha);
      if (await hasCommit(cwd, sha)) continue;
      if (options.offline) return { undecided: `commit ${sha} is not in the clone at ${cwd} (not fetched: offline)` };
      // --depth only in a clone that is shallow already: in a full clone it would make the clone shallow
      // (a developer's history cut at `depth` commits), where a plain fetch brings what is missing.
      const limit = (await isShallowClone(cwd)) ? [`--depth=${depth}`] : [];
      const fetched = await runGit(cwd, ['fetch', '--no-tags', ...limit, remote, sha]);
      if (!(await hasCommit(cwd, sha))) {
        return { undecided: `commit ${sha} is not in the clone at ${cwd} and \`git fetch ${remote} ${sha}\` did not bring it (${fetched.stderr.trim().split('\n').pop() ?? 'no output'})` };
      }
    }
    const ask = () => runGit(cwd, ['merge-base', '--is-ancestor', ancestor, descendant]);
    let answer = await ask();
    if (answer.code === 1 && (await isShallowClone(cwd))) {
      if (options.offline) return { undecided: `the clone at ${cwd} is shallow (not deepened: offline)` };
      // "Not an ancestor" in a shallow clone may only mean the history is cut off.
      const { failure } = await unshallow(cwd, remote);
      if (failure !== undefined) {
        return { undecided: `the clone at ${cwd} is shallow and could not be deepened to compare ${ancestor} with ${descendant} (${failure}); fetch full history (fetch-depth: 0)` };
      }
      answer = await ask();
    }
    if (answer.code === 0) return true;
    if (answer.code === 1) return false;
    return { undecided: `git merge-base --is-ancestor ${ancestor} ${descendant} failed in ${cwd}: ${answer.stderr.trim()}` };
  };
}
