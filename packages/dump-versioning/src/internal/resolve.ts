import { checkBranchName } from './branch-name.js';
import { mapLimit } from './concurrency.js';
import { InvalidInputError, NotFoundError } from './errors.js';
import { ancestorHistory, commitsSince, firstParentDistance, firstParentHistory, gitAncestry, isShallowClone, resolveCommit, unshallow } from './git.js';
import { isCommitSha, type CommitEntry } from './manifest.js';
import { withMigrations } from './migrations-record.js';
import { byteOrder } from './order.js';
import { assertService, readBranchRef, readBranchRefs, readCommitEntry, readStoredCommitEntry, unknownService } from './query.js';
import { layout, type Store } from './store.js';

export const DEFAULT_MAX_DISTANCE = 200;

export interface Resolution {
  service: string;
  /** The commit that was asked for (or the ref's commit for a branch). */
  requested: string;
  /** The nearest published ancestor (or the commit of the branch ref). */
  commit: string;
  version: string;
  /**
   * First-parent steps from `requested` to `commit` (0 = exact); with `ancestors: 'all'`, the commits
   * `requested` has that `commit` has not.
   */
  distance: number;
  /** The commit entry, with `migrations` loaded. */
  entry: CommitEntry;
  /**
   * `history`: a commit entry found on the first-parent walk. `branch-ref`: the ref of `branch`, either
   * asked for, or the fallback when no entry was within `maxDistance` and the ref's commit is an
   * ancestor of `requested`.
   */
  via: 'history' | 'branch-ref';
  /** The branch whose ref gave the answer (with `via: 'branch-ref'`). */
  branch?: string;
  /** Set when every ancestor was searched (`ancestors: 'all'`), not only the first-parent chain. */
  ancestors?: 'all';
}

export interface ResolveOptions {
  store: Store;
  service: string;
  /** A branch ref to read; otherwise `commit` (sha or revision, default HEAD) is walked in `repoDir`. */
  branch?: string;
  commit?: string;
  repoDir?: string;
  maxDistance?: number;
  /** Remote a shallow clone is deepened from (default origin). */
  remote?: string;
  /** Never fetch: a shallow clone is searched as far as it goes. */
  offline?: boolean;
  /**
   * Which ancestors are searched: the first-parent chain (default: what a branch's own history is, as CI
   * publishes it), or every ancestor, newest commit first (a developer's branch that merged the main
   * branch then starts from the newest dump it merged, not from where it branched off).
   */
  ancestors?: 'first-parent' | 'all';
}

/**
 * Finds the dump for a branch, or for the nearest first-parent ancestor of a commit. When none is
 * within `maxDistance` (a service that publishes only when its migrations change), the nearest branch
 * ref whose commit is an ancestor answers instead.
 */
export async function resolve(options: ResolveOptions): Promise<Resolution> {
  const { store, service } = options;
  assertService(service);
  if (options.branch !== undefined) checkBranchName(options.branch);
  await store.checkRoot?.('read');
  if (options.branch !== undefined) return resolveBranch(store, service, options.branch);
  const maxDistance = options.maxDistance ?? DEFAULT_MAX_DISTANCE;
  if (!Number.isInteger(maxDistance) || maxDistance < 0) {
    throw new InvalidInputError('bad-max-distance', `the maximum distance must be a whole number of at least 0 (got ${maxDistance})`);
  }
  const rev = options.commit ?? 'HEAD';
  if (options.repoDir === undefined) {
    // Without a clone only the exact commit can be looked up.
    if (!isCommitSha(rev)) throw new InvalidInputError('bad-commit', `commit ${JSON.stringify(rev)} must be a full sha when no git repository is given`);
    const found = await nearestEntry(store, service, [rev]);
    if (found) return found;
    await refuseUnknownService(store, service);
    throw new NotFoundError('no-published-ancestor', `no dump of service ${service} in ${store.location} for commit ${rev}; publish one, or give a git repository to search its ancestors`);
  }
  const repoDir = options.repoDir;
  const requested = await resolveCommit(repoDir, rev);
  const all = options.ancestors === 'all';
  const walk = () => (all ? ancestorHistory : firstParentHistory)(repoDir, requested, maxDistance + 1);
  let history = await walk();
  let found = await nearestEntry(store, service, history);
  let shallow: string | undefined;
  // A walk that ended before the limit in a shallow clone only ran out of fetched history.
  if (!found && history.length <= maxDistance && (await isShallowClone(repoDir))) {
    // Only as deep as the walk can use: a full --unshallow of a large repository would fetch far more.
    const failure = options.offline ? 'not deepened: offline' : (await unshallow(repoDir, options.remote ?? 'origin', maxDistance + 1 - history.length)).failure;
    if (failure !== undefined) shallow = `${repoDir} is a shallow clone and its history could not be deepened (${failure}); fetch full history (fetch-depth: 0)`;
    if (!options.offline) {
      history = await walk();
      found = await nearestEntry(store, service, history);
    }
  }
  if (found && all) return { ...found, ancestors: 'all', distance: found.distance > 0 ? await commitsSince(repoDir, found.commit, requested) : 0 };
  if (found) return found;
  if (all) {
    // Merged side branches' commits can fill the whole walk: the first-parent chain still reaches further.
    const firstParent = await nearestEntry(store, service, await firstParentHistory(repoDir, requested, maxDistance + 1));
    if (firstParent) return firstParent;
  }
  const fallback = await nearestBranchRef(options, repoDir, requested);
  if (fallback.resolution) return fallback.resolution;
  await refuseUnknownService(store, service);
  // A few reasons are enough to act on; every unfetched feature branch would drown the message.
  const notes = [...(shallow ? [shallow] : []), ...fallback.undecided.slice(0, 3)].map((note) => `; ${note}`).join('');
  throw new NotFoundError(
    'no-published-ancestor',
    `no dump of service ${service} in ${store.location} for ${requested} or its ${history.length - 1} ${all ? '' : 'first-parent '}ancestors (limit ${maxDistance}), and no branch ref of the service names an ancestor of it${notes}; publish one, fetch more history or raise the maximum distance`,
  );
}

/**
 * A store holding no version of the service at all (a mistyped service name, another store or prefix, a
 * service never published) is said as such, rather than blamed on git history or the search distance.
 */
async function refuseUnknownService(store: Store, service: string): Promise<void> {
  for await (const _version of store.list(layout.versionsPrefix(service))) return;
  throw unknownService(store, service, 'no-published-ancestor');
}

async function resolveBranch(store: Store, service: string, branch: string): Promise<Resolution> {
  const ref = await readBranchRef(store, service, branch);
  if (!ref) {
    // The branches that have dumps (`main` asked, `master` published is the usual slip), a few at most.
    const known = (await readBranchRefs(store, service).catch(() => [])).map((other) => other.branch);
    const listed = known.length === 0 ? 'no branch of it has any' : `branches with dumps: ${known.slice(0, 10).join(', ')}${known.length > 10 ? `, and ${known.length - 10} more` : ''}`;
    throw new NotFoundError('unknown-branch', `no dump was published for branch ${branch} of service ${service} in ${store.location} (${listed}); publish one or check the branch name`);
  }
  const entry = await readCommitEntry(store, service, ref.commit);
  if (!entry) throw new NotFoundError('dangling-ref', `ref ${branch} names commit ${ref.commit}, which has no commit index entry in ${store.location}; run verify`);
  return { service, requested: ref.commit, commit: ref.commit, version: ref.version, distance: 0, entry, via: 'branch-ref', branch };
}

/** The first commit of `history` (newest first) with a commit entry, looked up in small parallel batches. */
async function nearestEntry(store: Store, service: string, history: ReadonlyArray<string>): Promise<Resolution | undefined> {
  for (let start = 0; start < history.length; start += 8) {
    const batch = history.slice(start, start + 8);
    const entries = await mapLimit(batch, 8, (commit) => readStoredCommitEntry(store, service, commit));
    const index = entries.findIndex(Boolean);
    if (index >= 0) {
      const entry = await withMigrations(store, service, entries[index]!);
      return { service, requested: history[0]!, commit: batch[index]!, version: entry.version, distance: start + index, entry, via: 'history' };
    }
  }
  return undefined;
}

/**
 * The branch ref nearest to `requested` among those whose commit is its ancestor (ties: branch name),
 * and why refs that git could not place were left out.
 */
async function nearestBranchRef(options: ResolveOptions, repoDir: string, requested: string): Promise<{ resolution?: Resolution; undecided: string[] }> {
  const { store, service } = options;
  const ancestry = gitAncestry(repoDir, { ...(options.remote ? { remote: options.remote } : {}), ...(options.offline ? { offline: true } : {}) });
  const undecided: string[] = [];
  // One ref at a time: an ancestry check may fetch into the clone, and concurrent fetches fight over .git/shallow.lock.
  const candidates = await mapLimit(await readBranchRefs(store, service), 1, async (ref) => {
    const answer = ref.commit === requested ? true : await ancestry(ref.commit, requested);
    if (answer === true) return { ref, distance: await firstParentDistance(repoDir, ref.commit, requested) };
    if (answer !== false) undecided.push(`branch ref ${ref.branch}: ${answer.undecided}`);
    return undefined;
  });
  const nearest = candidates.filter((candidate) => candidate !== undefined).sort((a, b) => a.distance - b.distance || byteOrder(a.ref.branch, b.ref.branch));
  for (const { ref, distance } of nearest) {
    // A ref whose commit entry is gone (run verify) cannot answer; a farther one may.
    const entry = await readCommitEntry(store, service, ref.commit);
    if (entry) return { resolution: { service, requested, commit: ref.commit, version: ref.version, distance, entry, via: 'branch-ref', branch: ref.branch }, undecided };
  }
  return { undecided };
}
