import { execFile } from 'node:child_process';
import path from 'node:path';
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
 * `dir` relative to the top of its git working tree as git spells it (`svc/app/`, empty at the top; only the
 * line end is git's: a name may start or end with spaces), undefined outside one.
 */
export async function prefixInTree(dir: string): Promise<string | undefined> {
  const result = await runGit(dir, ['rev-parse', '--show-prefix']).catch(() => undefined);
  return result?.code === 0 ? result.stdout.replace(/\r?\n$/, '') : undefined;
}

/** Maps a path from the top of the tree to one relative to the directory at `prefix` (`../x` beside it). */
const fromTop = (prefix: string) => (file: string) => path.posix.relative(`/${prefix}`, `/${file}`);

/**
 * The files git tracks (in submodules too) or would add (untracked and not ignored) in the working tree
 * holding `dir`, as paths relative to `dir` (`../x` for files beside it); undefined when `dir` is in no
 * git working tree (or git cannot list it). Ignored files (a venv, a build folder) and nested repositories
 * that are no submodule (another worktree) are not in it.
 */
export async function gitVisibleFiles(dir: string): Promise<Set<string> | undefined> {
  // Three git processes at once (this runs while a refresh starts): the prefix maps paths from the top of
  // the tree (`:/`, so globs reaching beside `dir`, `../shared/migrations/...`, still match) back to `dir`.
  const [prefix, tracked, untracked] = await Promise.all([
    prefixInTree(dir),
    runGit(dir, ['ls-files', '-z', '--full-name', '--cached', '--recurse-submodules', '--', ':/']).catch(() => undefined),
    runGit(dir, ['ls-files', '-z', '--full-name', '--others', '--exclude-standard', '--', ':/']).catch(() => undefined),
  ]);
  if (prefix === undefined || tracked?.code !== 0 || untracked?.code !== 0) return undefined;
  const relative = fromTop(prefix);
  const files = new Set<string>();
  for (const file of `${tracked.stdout}${untracked.stdout}`.split('\0')) if (file !== '') files.add(relative(file));
  return files;
}

/** The top of the working tree holding `dir`, and a mapping of paths from that top to paths relative to `dir`. */
async function treeOf(dir: string): Promise<{ top: string; relative: (fromTop: string) => string } | undefined> {
  // Two calls: a path may hold a newline, so one answer per call (only the line end is git's).
  const [top, prefix] = await Promise.all([runGit(dir, ['rev-parse', '--show-toplevel']).catch(() => undefined), prefixInTree(dir)]);
  if (top?.code !== 0 || prefix === undefined) return undefined;
  return { top: top.stdout.replace(/\r?\n$/, ''), relative: fromTop(prefix) };
}

/**
 * Paths (relative to `dir`) that differ from HEAD in the working tree holding `dir`, from `git status`:
 * `added` (untracked but not ignored, or staged as new), `edited`, `deleted`, `submodules` whose files or
 * commit changed (git status lists a submodule as a whole), and `sparse`: files of HEAD a sparse checkout
 * leaves out.
 */
export async function workingTreeChanges(dir: string): Promise<{ added: Set<string>; edited: Set<string>; deleted: Set<string>; submodules: Set<string>; sparse: Set<string> }> {
  const where = await treeOf(dir);
  const status = where && (await runGit(where.top, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames']));
  if (where === undefined || status === undefined || status.code !== 0) throw new GitError('git-failed', `git status failed in ${dir}: ${status?.stderr.trim() || 'not a git working tree'}`);
  const changes = { added: new Set<string>(), edited: new Set<string>(), deleted: new Set<string>(), submodules: new Set<string>(), sparse: new Set<string>() };
  const [staged, tagged] = await Promise.all([runGit(where.top, ['ls-files', '-z', '--stage']), runGit(where.top, ['ls-files', '-z', '-t'])]);
  const submodules = new Set(staged.stdout.split('\0').filter((line) => line.startsWith('160000 ')).map((line) => line.slice(line.indexOf('\t') + 1)));
  // Files a sparse checkout leaves out (skip-worktree, tag S): in the commit, not on disk, and not in git status.
  for (const line of tagged.stdout.split('\0')) if (line.startsWith('S ')) changes.sparse.add(where.relative(line.slice(2)));
  // `XY <path from the top>`, NUL-terminated (no rename pairs with --no-renames).
  for (const entry of status.stdout.split('\0')) {
    if (entry.length < 4) continue;
    const [x, y] = [entry[0], entry[1]];
    const file = entry.slice(3);
    // A submodule is listed as a whole (its files, or the commit it is at, changed).
    const kind = submodules.has(file) ? 'submodules' : x === 'D' || y === 'D' ? 'deleted' : x === '?' || x === 'A' ? 'added' : 'edited';
    changes[kind].add(where.relative(file));
  }
  return changes;
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
