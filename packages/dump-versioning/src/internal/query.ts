import { InvalidInputError, NotFoundError } from './errors.js';
import { firstParentHistory, resolveCommit } from './git.js';
import {
  decodeBranchRef,
  decodeCommitEntry,
  decodeManifest,
  isCommitSha,
  isServiceName,
  type BranchRef,
  type CommitEntry,
  type VersionManifest,
} from './manifest.js';
import { withMigrations } from './migrations-record.js';
import { mapLimit } from './concurrency.js';
import { byteOrder } from './order.js';
import { layout, type Store } from './store.js';

export const DEFAULT_MAX_DISTANCE = 200;

export function assertService(service: string) {
  if (!isServiceName(service)) throw new InvalidInputError('bad-service', `service name ${JSON.stringify(service)} is invalid; use letters, digits, ".", "_" or "-"`);
}

/** The commit entry as stored (schemaVersion 2: migrations only referenced, not loaded). */
export async function readStoredCommitEntry(store: Store, service: string, commit: string): Promise<CommitEntry | undefined> {
  const key = layout.commit(service, commit);
  const object = await store.get(key);
  return object ? decodeCommitEntry(object.body.toString('utf8'), `${store.location}/${key}`) : undefined;
}

/** The commit entry of `commit`, with `migrations` loaded (one more read when it names a migrations record). */
export async function readCommitEntry(store: Store, service: string, commit: string): Promise<CommitEntry | undefined> {
  const entry = await readStoredCommitEntry(store, service, commit);
  return entry ? withMigrations(store, service, entry) : undefined;
}

export async function readBranchRef(store: Store, service: string, branch: string): Promise<BranchRef | undefined> {
  const key = layout.ref(service, branch);
  const object = await store.get(key);
  return object ? decodeBranchRef(object.body.toString('utf8'), `${store.location}/${key}`) : undefined;
}

export interface Resolution {
  service: string;
  /** The commit that was asked for (or the ref's commit for a branch). */
  requested: string;
  /** The nearest first-parent ancestor with a published dump. */
  commit: string;
  version: string;
  /** First-parent steps from `requested` to `commit` (0 = exact). */
  distance: number;
  /** The commit entry, with `migrations` loaded. */
  entry: CommitEntry;
}

export interface ResolveOptions {
  store: Store;
  service: string;
  /** A branch ref to read; otherwise `commit` (sha or revision, default HEAD) is walked in `repoDir`. */
  branch?: string;
  commit?: string;
  repoDir?: string;
  maxDistance?: number;
}

/** Finds the dump for a branch, or for the nearest first-parent ancestor of a commit. */
export async function resolve(options: ResolveOptions): Promise<Resolution> {
  const { store, service } = options;
  assertService(service);
  if (options.branch !== undefined) {
    const ref = await readBranchRef(store, service, options.branch);
    if (!ref) throw new NotFoundError('unknown-branch', `no dump was published for branch ${options.branch} of service ${service} in ${store.location}; publish one or check --branch`);
    const entry = await readCommitEntry(store, service, ref.commit);
    if (!entry) throw new NotFoundError('dangling-ref', `ref ${options.branch} names commit ${ref.commit}, which has no commit index entry in ${store.location}; run verify`);
    return { service, requested: ref.commit, commit: ref.commit, version: ref.version, distance: 0, entry };
  }
  const maxDistance = options.maxDistance ?? DEFAULT_MAX_DISTANCE;
  const rev = options.commit ?? 'HEAD';
  let history: string[];
  if (options.repoDir === undefined) {
    // Without a clone only the exact commit can be looked up.
    if (!isCommitSha(rev)) throw new InvalidInputError('bad-commit', `commit ${JSON.stringify(rev)} must be a full sha when no git repository is given`);
    history = [rev];
  } else {
    history = await firstParentHistory(options.repoDir, await resolveCommit(options.repoDir, rev), maxDistance + 1);
  }
  const requested = history[0] ?? rev;
  // Look commits up in small parallel batches; the nearest hit wins.
  for (let start = 0; start < history.length; start += 8) {
    const batch = history.slice(start, start + 8);
    const entries = await mapLimit(batch, 8, (commit) => readStoredCommitEntry(store, service, commit));
    const index = entries.findIndex(Boolean);
    if (index >= 0) {
      const entry = await withMigrations(store, service, entries[index]!);
      return { service, requested, commit: batch[index]!, version: entry.version, distance: start + index, entry };
    }
  }
  const scope = options.repoDir === undefined ? `commit ${requested}` : `${requested} or its ${history.length - 1} first-parent ancestors (limit ${maxDistance})`;
  throw new NotFoundError('no-published-ancestor', `no dump of service ${service} in ${store.location} for ${scope}; publish one, fetch more history or raise --max-distance`);
}

export interface ListResult {
  service: string;
  refs: BranchRef[];
  versions: Array<{ version: string; createdAt: string; files: number; size: number; source: VersionManifest['source']; commits: string[] }>;
  commits: Array<{ commit: string; version: string; branch?: string; createdAt: string }>;
}

/** Everything published for a service, newest versions first. */
export async function list(options: { store: Store; service: string }): Promise<ListResult> {
  const { store, service } = options;
  assertService(service);
  const keysUnder = async (prefix: string) => {
    const keys: string[] = [];
    for await (const object of store.list(prefix)) if (object.key.endsWith('.json')) keys.push(object.key);
    return keys;
  };
  const read = async <T>(key: string, decode: (text: string, where: string) => T) => {
    const object = await store.get(key);
    return object ? decode(object.body.toString('utf8'), `${store.location}/${key}`) : undefined;
  };
  const [refKeys, versionKeys, commitKeys] = await Promise.all([
    keysUnder(layout.refsPrefix(service)),
    keysUnder(layout.versionsPrefix(service)),
    keysUnder(layout.commitsPrefix(service)),
  ]);
  const refs = (await mapLimit(refKeys, 8, (key) => read(key, decodeBranchRef))).filter((ref): ref is BranchRef => ref !== undefined);
  const manifests = (await mapLimit(versionKeys, 8, (key) => read(key, decodeManifest))).filter((m): m is VersionManifest => m !== undefined);
  const entries = (await mapLimit(commitKeys, 8, (key) => read(key, decodeCommitEntry))).filter((e): e is CommitEntry => e !== undefined);
  const commits = entries
    .map((entry) => ({ commit: entry.source.commit, version: entry.version, ...(entry.source.branch ? { branch: entry.source.branch } : {}), createdAt: entry.createdAt }))
    .sort((a, b) => byteOrder(b.createdAt, a.createdAt));
  const versions = manifests
    .map((manifest) => ({
      version: manifest.version,
      createdAt: manifest.createdAt,
      files: manifest.files.length,
      size: manifest.files.reduce((sum, file) => sum + file.size, 0),
      source: manifest.source,
      commits: commits.filter((commit) => commit.version === manifest.version).map((commit) => commit.commit),
    }))
    .sort((a, b) => byteOrder(b.createdAt, a.createdAt));
  return { service, refs: refs.sort((a, b) => byteOrder(a.branch, b.branch)), versions, commits };
}
