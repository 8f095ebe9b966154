import { checkBranchName } from './branch-name.js';
import { InvalidInputError, NotFoundError } from './errors.js';
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

export function assertService(service: string) {
  if (!isServiceName(service)) throw new InvalidInputError('bad-service', `service name ${JSON.stringify(service)} is invalid; use letters, digits, ".", "_" or "-"`);
}

/** The commit entry as stored (schemaVersion 2: migrations only referenced, not loaded). */
export async function readStoredCommitEntry(store: Store, service: string, commit: string): Promise<CommitEntry | undefined> {
  // The commit becomes part of a key (a path in a filesystem store): only a full sha may.
  if (!isCommitSha(commit)) throw new InvalidInputError('bad-commit', `commit ${JSON.stringify(commit)} is not a full 40-character sha; resolve it with git rev-parse first`);
  const key = layout.commit(service, commit);
  const object = await store.get(key);
  return object ? decodeCommitEntry(object.body.toString('utf8'), `${store.location}/${key}`) : undefined;
}

/**
 * The commit entry of `commit`, with `migrations` loaded (one more read when it names a migrations
 * record); undefined when there is none, also when the store does not exist yet (see readBranchRef).
 */
export async function readCommitEntry(store: Store, service: string, commit: string): Promise<CommitEntry | undefined> {
  const entry = await readStoredCommitEntry(store, service, commit);
  return entry ? withMigrations(store, service, entry) : undefined;
}

/**
 * The branch ref, or undefined when the branch (or the whole store) has none yet: a publish reads it
 * before the store exists, so unlike the read-only commands this does not fail on a missing store.
 */
export async function readBranchRef(store: Store, service: string, branch: string): Promise<BranchRef | undefined> {
  assertService(service);
  checkBranchName(branch);
  const key = layout.ref(service, branch);
  const object = await store.get(key);
  return object ? decodeBranchRef(object.body.toString('utf8'), `${store.location}/${key}`) : undefined;
}

export interface ListResult {
  service: string;
  refs: BranchRef[];
  versions: Array<{ version: string; createdAt: string; files: number; size: number; source: VersionManifest['source']; commits: string[] }>;
  commits: Array<{ commit: string; version: string; branch?: string; createdAt: string }>;
}

/** Every branch ref of a service, by branch name. */
export async function readBranchRefs(store: Store, service: string): Promise<BranchRef[]> {
  const keys: string[] = [];
  for await (const object of store.list(layout.refsPrefix(service))) if (object.key.endsWith('.json')) keys.push(object.key);
  const refs = await mapLimit(keys, 8, async (key) => {
    const object = await store.get(key);
    return object ? decodeBranchRef(object.body.toString('utf8'), `${store.location}/${key}`) : undefined;
  });
  return refs.filter((ref): ref is BranchRef => ref !== undefined).sort((a, b) => byteOrder(a.branch, b.branch));
}

/** Everything published for a service, newest versions first. */
export async function list(options: { store: Store; service: string }): Promise<ListResult> {
  const { store, service } = options;
  assertService(service);
  await store.checkRoot?.('read');
  const keysUnder = async (prefix: string) => {
    const keys: string[] = [];
    for await (const object of store.list(prefix)) if (object.key.endsWith('.json')) keys.push(object.key);
    return keys;
  };
  const read = async <T>(key: string, decode: (text: string, where: string) => T) => {
    const object = await store.get(key);
    return object ? decode(object.body.toString('utf8'), `${store.location}/${key}`) : undefined;
  };
  const [refs, versionKeys, commitKeys] = await Promise.all([
    readBranchRefs(store, service),
    keysUnder(layout.versionsPrefix(service)),
    keysUnder(layout.commitsPrefix(service)),
  ]);
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
  return { service, refs, versions, commits };
}

/**
 * A store holding no version of the service at all (a mistyped service name, another store or prefix, a
 * service never published), said as such rather than as an empty answer or a missing ancestor.
 */
export function unknownService(store: Store, service: string, code: 'unknown-service' | 'no-published-ancestor'): NotFoundError {
  return new NotFoundError(code, `${store.location} holds no dump of service ${service} at all; check the service name and the store (its location and prefix), or publish a first dump`);
}
