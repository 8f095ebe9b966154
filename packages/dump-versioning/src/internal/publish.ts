import { stat } from 'node:fs/promises';
import path from 'node:path';
import { stoppingStore } from './abort.js';
import { storeBlobs, type ReusedObject } from './blob-upload.js';
import { checkBranchName } from './branch-name.js';
import { early, mapLimit } from './concurrency.js';
import { withLockReports } from './fs-store.js';
import { DumpVersioningError, InvalidInputError, PublishWarning } from './errors.js';
import type { AncestryChecker } from './git.js';
import {
  SCHEMA_VERSION,
  computeVersion,
  decodeBranchRef,
  decodeCommitEntry,
  decodeManifest,
  encodeBranchRef,
  encodeCommitEntry,
  encodeManifest,
  isCommitSha,
  isServiceName,
  type BranchRef,
  type CommitEntry,
  type Compression,
  type DumpFile,
  type EngineInfo,
  type MigrationsInfo,
  type SourceInfo,
  type ToolInfo,
  type VersionManifest,
} from './manifest.js';
import { encodeMigrationsRecord } from './migrations-record.js';
import { acquirePublishLease, type LeaseTimings } from './leases.js';
import { progressCounter, type ProgressListener } from './progress.js';
import { unknownVersionError } from './version-id.js';
import { listDumpDirectory } from './scan.js';
import { layout, parseBlobKey, type Store, type StoredObject } from './store.js';

/**
 * Steps of the lockstep protocol, in order; `blob` fires after each uploaded blob, `migrations` after
 * the migrations record is stored (only when `migrations` is given), `checked` once the publish lease
 * (if it needs one) is held and the stored objects it reuses are checked again.
 */
export type PublishStep = 'blob' | 'blobs' | 'migrations' | 'version' | 'checked' | 'commit' | 'ref';

export interface PublishOptions {
  store: Store;
  service: string;
  /** The dump set directory (mysql/..., mongo/...). */
  dir: string;
  source: SourceInfo & { branch: string };
  /** Decides "forward only" for the ref; usually gitAncestry(repoDir). */
  ancestry: AncestryChecker;
  /**
   * This run is of a force push whose new head is this commit (GitHub's push event `forced`): the push's
   * time (`repository.pushed_at`) and the head it replaced (`before`). Such a run moves a ref that its
   * commit does not descend from ('reset') when the ref names the replaced history: the replaced head or
   * one of its ancestors (also a newer commit, when the push rewound the branch), whenever it moved.
   * Otherwise (another history, e.g. of an earlier force push whose run never published, or git cannot
   * tell) a ref last moved before the push is reset and one moved since is left alone (a later push's run
   * moved it), so a late or re-run of an earlier force push cannot move it back. Without these a ref the commit does not descend from is left alone
   * (`ref-diverged` or `ref-is-newer`), and an undecided ancestry never moves it either way.
   */
  historyRewrittenAt?: Date;
  historyReplacedHead?: string;
  migrations?: MigrationsInfo;
  engines?: { mysql?: EngineInfo; mongo?: EngineInfo };
  tool?: ToolInfo;
  /** How new blobs are stored (default brotli); unchanged files keep the blob they have. */
  compression?: Compression;
  /** Blob uploads in flight (default 4). */
  concurrency?: number;
  onProgress?: ProgressListener;
  /** Told when the publish has to wait (for a running prune), so a log does not go silent. */
  onWait?: (message: string) => void;
  /** Called after each step; throwing aborts the publish there (crash injection in tests). */
  afterStep?: (step: PublishStep) => void | Promise<void>;
  /** Aborting stops it at the next step up to `checked` (or waiting for a prune), lease released, rejecting with the reason:
   *  nothing names what it stored yet, the next publish reuses it. From the commit entry on, it finishes (entry, then ref). */
  signal?: AbortSignal;
  /** Clock for createdAt/updatedAt (tests). */
  now?: () => Date;
  /** Lease lifetimes and polling (tests); see leases.ts. */
  leases?: LeaseTimings;
}

export type RefOutcome =
  | 'created' // first ref of the branch
  | 'advanced' // moved forward to this commit
  | 'unchanged' // already at this commit and version
  | 'reset' // moved to this commit from a commit of the branch's history before a rewrite (historyRewrittenAt)
  | 'not-advanced'; // left alone: newer, diverged or undecided (see warnings)

export interface PublishResult {
  service: string;
  version: string;
  commit: string;
  branch: string;
  files: DumpFile[];
  /** True when this version differs from the one the ref named before (or there was no ref). */
  changed: boolean;
  /** True when the version manifest did not exist in the store before. */
  versionCreated: boolean;
  blobsUploaded: number;
  /** Bytes stored by this publish: the blobs it created, as stored (compressed); reused blobs count nothing. */
  bytesUploaded: number;
  /** The uncompressed size of the files whose blobs this publish created. */
  bytesUploadedUncompressed: number;
  manifestKey: string;
  /** The content-addressed migrations record the commit entry names (when `migrations` was given). */
  migrationsRecord?: { key: string; created: boolean };
  /** `reason` (not-advanced only): why the ref was left alone, also one of `warnings`. */
  ref: { outcome: RefOutcome; previous?: { commit: string; version: string }; reason?: string };
  warnings: DumpVersioningError[];
}

const REF_ATTEMPTS = 50;
const DEFAULT_TOOL: ToolInfo = { name: '@org/dump-versioning', version: '0.1.0' };

/** What the store holds for the branch before this publish, read while the files are hashed. */
interface BranchState {
  /** The ref as stored (for the first compare-and-swap), and decoded. */
  refObject: StoredObject | undefined;
  ref: BranchRef | undefined;
  /** Keys of the manifest and migrations record of the ref's version: they exist and retention keeps them. */
  known: Set<string>;
  /** The ref version's blobs by file digest, in whatever compression they were stored (exist, kept too). */
  knownBlobs: Map<string, Compression>;
}

async function readBranchState(store: Store, service: string, branch: string): Promise<BranchState> {
  const refKey = layout.ref(service, branch);
  const refObject = await store.get(refKey);
  const ref = refObject ? decodeBranchRef(refObject.body.toString('utf8'), `${store.location}/${refKey}`) : undefined;
  const state: BranchState = { refObject, ref, known: new Set(), knownBlobs: new Map() };
  if (!ref) return state;
  const { version } = ref;
  const manifestKey = layout.version(service, version);
  const manifest = await store.get(manifestKey);
  if (!manifest) return state;
  const { files, migrationsRecord } = decodeManifest(manifest.body.toString('utf8'), `${store.location}/${manifestKey}`);
  for (const file of files) state.knownBlobs.set(file.sha256, file.compression);
  state.known.add(manifestKey);
  if (migrationsRecord) state.known.add(layout.migrations(service, migrationsRecord.sha256));
  return state;
}

/**
 * Publishes a dump set with the lockstep protocol: blobs and the migrations record (create-only,
 * content-addressed), version manifest, commit index entry, then a forward-only compare-and-swap of
 * the branch ref. Each object is written only after everything it names exists, so a crash at any
 * point leaves nothing dangling and a re-run completes the publish. Waits for a filesystem store's
 * object locks are told to `onWait` too.
 */
export function publish(options: PublishOptions): Promise<PublishResult> {
  return withLockReports(options.store, options.onWait, () => publishSteps(options));
}

async function publishSteps(options: PublishOptions): Promise<PublishResult> {
  const { store, service, source } = options;
  if (!isServiceName(service)) throw new InvalidInputError('bad-service', `service name ${JSON.stringify(service)} is invalid; use letters, digits, ".", "_" or "-"`);
  if (!isCommitSha(source.commit)) throw new InvalidInputError('bad-commit', `commit ${JSON.stringify(source.commit)} is not a full 40-character sha; resolve it with git rev-parse first`);
  if (!source.branch) throw new InvalidInputError('bad-branch', 'branch is empty; give the branch the commit belongs to (e.g. master)');
  checkBranchName(source.branch);
  const compression = options.compression ?? 'brotli';
  if (!['none', 'gzip', 'brotli'].includes(compression)) {
    throw new InvalidInputError('bad-compression', `compression ${JSON.stringify(compression)} is not supported; use brotli (default), gzip or none`);
  }
  const concurrency = options.concurrency ?? 4;
  const now = options.now ?? (() => new Date());
  const afterStep = async (step: PublishStep) => {
    await options.afterStep?.(step);
    options.signal?.throwIfAborted();
  };
  const tool = options.tool ?? DEFAULT_TOOL;
  const warnings: DumpVersioningError[] = [];

  // A missing store directory is created by the writes; a file in its place never could be.
  await store.checkRoot?.('write');
  const dir = path.resolve(options.dir);
  const relatives = await listDumpDirectory(dir);
  const record = options.migrations ? encodeMigrationsRecord(options.migrations) : undefined;
  const recordKey = record ? layout.migrations(service, record.ref.sha256) : undefined;
  // Read while hashing: what the branch ref names (so unchanged files and migrations need no request)
  // and this commit's entry. The writes that use them are compare-and-swaps, so a stale read only retries.
  const branchState = early(readBranchState(store, service, source.branch));
  const commitKey = layout.commit(service, source.commit);
  const commitObject = early(store.get(commitKey));
  // The record is checked even when the ref's version names it, so re-publishing repairs a damaged store.
  const recordPresent = recordKey ? early(store.exists(recordKey)) : undefined;

  // 1. Hash each file and upload each new one right away (create-only), overlapping hashing,
  //    compression and uploads of different files (see blob-upload.ts).
  // Progress advances by whole files once each is hashed and stored (or known to be stored).
  const sizes = await Promise.all(relatives.map(async (relative) => (await stat(path.join(dir, ...relative.split('/')))).size));
  options.signal?.throwIfAborted();
  const { files, blobsUploaded, bytesUploaded, bytesUploadedUncompressed, reused, viaRef } = await storeBlobs({
    store: stoppingStore(store, options.signal), // started files stop before their next request too
    service,
    dir,
    relatives,
    sizes,
    compression,
    // Its own rejection handler too: a damaged ref fails the publish with its message, not as an unhandled rejection.
    knownBlobs: early(branchState.then((state) => state.knownBlobs)),
    uploads: concurrency,
    onFileDone: progressCounter('upload', sizes.reduce((sum, size) => sum + size, 0), options.onProgress),
    afterBlob: () => afterStep('blob'),
  });
  await afterStep('blobs');

  // 2. The migrations record (create-only, content-addressed) before any document names it.
  let migrationsRecord: PublishResult['migrationsRecord'];
  if (record && recordKey) {
    const created = !(await recordPresent) && (await store.putIfAbsent(recordKey, record.body)) === 'created';
    migrationsRecord = { key: recordKey, created };
    if (!created) ((await branchState).known.has(recordKey) ? viaRef : reused).push({ key: recordKey, recreate: () => store.putIfAbsent(recordKey, record.body) });
    await afterStep('migrations');
  }

  // 3a. Version manifest, create-only (the first producer of a version wins; identity makes them
  //     equivalent). The ref's version is known to exist; another existing one is read and checked.
  const version = computeVersion(files);
  const manifestKey = layout.version(service, version);
  const createdAt = now().toISOString();
  const optional = {
    ...(record ? { migrationsRecord: record.ref } : {}),
    ...(options.engines ? { engines: options.engines } : {}),
  };
  let versionCreated = false;
  const manifest: VersionManifest = { schemaVersion: SCHEMA_VERSION, service, version, files, source, ...optional, tool, createdAt };
  const manifestBody = Buffer.from(encodeManifest(manifest));
  const reusedManifest: ReusedObject = { key: manifestKey, recreate: () => store.putIfAbsent(manifestKey, manifestBody) };
  if (!(await branchState).known.has(manifestKey)) {
    versionCreated = (await store.putIfAbsent(manifestKey, manifestBody)) === 'created';
    const existing = versionCreated ? undefined : await store.get(manifestKey);
    if (existing) decodeManifest(existing.body.toString('utf8'), `${store.location}/${manifestKey}`);
    if (!versionCreated) reused.push(reusedManifest);
  } else viaRef.push(reusedManifest);
  await afterStep('version');

  // Objects found stored instead of written may be what a concurrent prune is deleting: those no kept
  // version may name, and those the ref's version names once the ref has moved on (its old version is
  // then no longer kept for this run's sake). So a publish that reused anything holds a lease (leases.ts)
  // from here until its ref is written: no prune plans meanwhile, and one that planned before has finished
  // when the lease is granted. Only then is the ref read again, and each object that may be gone is
  // checked, and re-created if it is, blobs first, before the commit entry and ref name it.
  // A re-run that finds its commit entry and the ref already naming this version writes nothing new.
  const done = alreadyPublished(store, service, source, version, await commitObject, (await branchState).ref);
  const lease = !done && reused.length + viaRef.length > 0 ? await acquirePublishLease(store, service, options.leases, options.onWait, options.signal) : undefined;
  try {
    const refNow = await store.get(layout.ref(service, source.branch));
    const refMoved = refNow?.etag !== (await branchState).refObject?.etag;
    const toCheck = done ? [] : [...reused, ...(refMoved ? viaRef : [])];
    if (toCheck.length > 0) await recheckReused(store, toCheck, manifestKey);
    lease?.assertFresh();
    await afterStep('checked');
    // After a lease (and a prune it waited for), this commit's entry is read again: it may be gone.
    const commitNow = lease ? store.get(commitKey) : commitObject;
    return await indexAndAdvance(options, { version, files, blobsUploaded, bytesUploaded, bytesUploadedUncompressed, manifestKey, versionCreated, migrationsRecord, createdAt, optional, tool, warnings, commitObject: commitNow, refObject: refNow });
  } finally {
    // A lease that cannot be deleted goes stale on its own; it must not turn a complete publish into a failure.
    await lease?.release().catch((error: unknown) => {
      warnings.push(new PublishWarning('lease-not-released', `could not delete this publish's lease in ${store.location} (${(error as Error).message}); it expires on its own`));
    });
  }
}

/** Whether this commit's entry and the branch ref (as read at the start) already name `version` at this commit. */
function alreadyPublished(store: Store, service: string, source: PublishOptions['source'], version: string, commitObject: StoredObject | undefined, ref: BranchRef | undefined): boolean {
  if (!commitObject || !ref) return false;
  const entry = decodeCommitEntry(commitObject.body.toString('utf8'), `${store.location}/${layout.commit(service, source.commit)}`);
  return entry.version === version && ref.commit === source.commit && ref.version === version;
}

/** Blobs first (in parallel), then the migrations record, then the manifest that names them. */
async function recheckReused(store: Store, objects: ReadonlyArray<ReusedObject>, manifestKey: string): Promise<void> {
  const stage = (object: ReusedObject) => (object.key === manifestKey ? 2 : parseBlobKey(object.key) ? 0 : 1);
  for (const current of [0, 1, 2]) {
    await mapLimit(
      objects.filter((object) => stage(object) === current),
      8,
      async (object) => {
        if (!(await store.exists(object.key))) await object.recreate();
      },
    );
  }
}

interface Published {
  version: string;
  files: DumpFile[];
  blobsUploaded: number;
  bytesUploaded: number;
  bytesUploadedUncompressed: number;
  manifestKey: string;
  versionCreated: boolean;
  migrationsRecord: PublishResult['migrationsRecord'];
  createdAt: string;
  optional: Pick<CommitEntry, 'migrationsRecord' | 'engines'>;
  tool: ToolInfo;
  warnings: DumpVersioningError[];
  commitObject: Promise<StoredObject | undefined>;
  /** The ref as read just before the commit entry (the first compare-and-swap uses it). */
  refObject: StoredObject | undefined;
}

/** Steps 3b and 4: the commit index entry, then the forward-only ref move. */
async function indexAndAdvance(options: PublishOptions, published: Published): Promise<PublishResult> {
  const { store, service, source } = options;
  const { version, files, blobsUploaded, bytesUploaded, bytesUploadedUncompressed, manifestKey, versionCreated, migrationsRecord, createdAt, optional, tool, warnings, commitObject, refObject } = published;
  const afterStep = options.afterStep ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  const commitKey = layout.commit(service, source.commit);

  // 3b. Commit index entry; a re-run that produced a different version replaces it (with a warning).
  const entry: CommitEntry = { schemaVersion: SCHEMA_VERSION, service, version, source, ...optional, tool, createdAt };
  for (let attempt = 0; ; attempt++) {
    const current = attempt === 0 ? await commitObject : await store.get(commitKey);
    const decoded = current ? decodeCommitEntry(current.body.toString('utf8'), `${store.location}/${commitKey}`) : undefined;
    if (decoded?.version === version) break;
    if (decoded && attempt === 0) {
      const why = await whyVersionDiffers(store, service, decoded, { files, engines: optional.engines });
      warnings.push(new PublishWarning('commit-version-replaced', `commit ${source.commit} was published before as version ${decoded.version} and now gives ${version}; ${why}`));
    }
    if ((await store.putIfMatch(commitKey, Buffer.from(encodeCommitEntry(entry)), current?.etag)) === 'written') break;
    if (attempt >= REF_ATTEMPTS) throw new DumpVersioningError('commit-entry-contended', `could not write ${commitKey} after ${REF_ATTEMPTS} attempts; retry the publish`);
  }
  await afterStep('commit');

  // 4. Forward-only compare-and-swap of the branch ref.
  const ref = await advanceRef(options, version, refObject, now, warnings);
  await afterStep('ref');

  return {
    service,
    version,
    commit: source.commit,
    branch: source.branch,
    files,
    changed: ref.previous?.version !== version,
    versionCreated,
    blobsUploaded,
    bytesUploaded,
    bytesUploadedUncompressed,
    manifestKey,
    ...(migrationsRecord ? { migrationsRecord } : {}),
    ref,
    warnings,
  };
}

/** `prefetched`: the ref as read at the start, used for the first attempt (a stale value only costs a retry). */
async function advanceRef(
  options: PublishOptions,
  version: string,
  prefetched: StoredObject | undefined,
  now: () => Date,
  warnings: DumpVersioningError[],
): Promise<PublishResult['ref']> {
  const { store, service, source } = options;
  const refKey = layout.ref(service, source.branch);
  const where = `${store.location}/${refKey}`;
  const next: BranchRef = { schemaVersion: SCHEMA_VERSION, service, branch: source.branch, commit: source.commit, version, updatedAt: '' };
  let firstPrevious: { commit: string; version: string } | undefined;
  for (let attempt = 0; attempt < REF_ATTEMPTS; attempt++) {
    let resetFrom: string | undefined;
    const current = attempt === 0 ? prefetched : await store.get(refKey);
    const ref = current ? decodeBranchRef(current.body.toString('utf8'), where) : undefined;
    const previous = ref ? { commit: ref.commit, version: ref.version } : undefined;
    firstPrevious ??= previous;
    if (ref && ref.commit === source.commit && ref.version === version) return { outcome: 'unchanged', ...(previous ? { previous } : {}) };
    if (ref && ref.commit !== source.commit) {
      const answer = await options.ancestry(ref.commit, source.commit);
      if (answer !== true) {
        const reason = await notForwardReason(options, ref.commit, answer);
        const kept = reason.code === 'ancestry-undecided' ? reason.message : await keptByForcePush(options, ref, reason.message);
        if (kept !== undefined) {
          warnings.push(new PublishWarning(reason.code, `ref ${source.branch} of ${service} left at ${ref.commit}: ${kept}`));
          return { outcome: 'not-advanced', ...(previous ? { previous } : {}), reason: kept };
        }
        resetFrom = ref.commit;
      }
    }
    const body = Buffer.from(encodeBranchRef({ ...next, updatedAt: now().toISOString() }));
    if ((await store.putIfMatch(refKey, body, current?.etag)) === 'written') {
      if (resetFrom !== undefined) {
        warnings.push(new PublishWarning('ref-reset', `ref ${source.branch} of ${service} moved from ${resetFrom} to ${source.commit}: a force push made ${source.commit} the head and replaced the history of ${resetFrom}`));
        return { outcome: 'reset', ...(firstPrevious ? { previous: firstPrevious } : {}) };
      }
      return { outcome: ref ? 'advanced' : 'created', ...(firstPrevious ? { previous: firstPrevious } : {}) };
    }
    // Another publisher moved the ref: back off a little and decide again against its new value.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(10 * 2 ** attempt, 250)));
  }
  throw new DumpVersioningError('ref-contended', `ref ${source.branch} of ${service} kept changing during ${REF_ATTEMPTS} attempts; the commit index entry is written, re-run the publish to move the ref`);
}

/**
 * Why a commit's dump came out different this time, as far as the store can tell: other files (the
 * databases or data inputs changed), other servers, or the same files with other bytes.
 */
async function whyVersionDiffers(store: Store, service: string, before: CommitEntry, now: { files: DumpFile[]; engines: CommitEntry['engines'] }): Promise<string> {
  const engine = (e: CommitEntry['engines']) => JSON.stringify({ mysql: e?.mysql && `${e.mysql.flavor} ${e.mysql.version}`, mongo: e?.mongo && `${e.mongo.flavor} ${e.mongo.version}` });
  // Only when both publishes recorded their servers (the CLI's publish may record none).
  if (before.engines && now.engines && engine(before.engines) !== engine(now.engines)) return `the servers changed (before ${engine(before.engines)}, now ${engine(now.engines)})`;
  const previous = await readManifest(store, service, before.version).catch(() => undefined);
  if (!previous) return 'the dumps are not deterministic, the servers or the inputs changed';
  const was = new Set(previous.files.map((file) => file.path));
  const is = new Set(now.files.map((file) => file.path));
  const added = [...is].filter((p) => !was.has(p));
  const removed = [...was].filter((p) => !is.has(p));
  if (added.length > 0 || removed.length > 0) {
    return `its files differ (added: ${added.join(', ') || 'none'}; removed: ${removed.join(', ') || 'none'}): the databases or data inputs changed`;
  }
  const changed = now.files.filter((file) => previous.files.find((p) => p.path === file.path)?.sha256 !== file.sha256).map((file) => file.path);
  return `the same files with other contents (${changed.join(', ')}): the dumps are not deterministic, the data inputs changed, or migrating gave another result`;
}

/**
 * Undefined when this run is of a force push and `ref` names the history that push replaced (so the ref is
 * reset to this commit); else why the ref stays (`reason`, or why the force push does not own it).
 */
async function keptByForcePush(options: PublishOptions, ref: BranchRef, reason: string): Promise<string | undefined> {
  const { historyRewrittenAt: pushedAt, historyReplacedHead: replacedHead } = options;
  if (pushedAt === undefined && replacedHead === undefined) return reason;
  // On the replaced history: reset, whenever the ref moved (a concurrency group ran the previous push's run
  // after this push landed). Anywhere else (another force push's history, whose run may never have
  // published), or when git cannot tell, the push time decides.
  if (replacedHead !== undefined && (ref.commit === replacedHead || (await options.ancestry(ref.commit, replacedHead)) === true)) return undefined;
  if (pushedAt === undefined) return reason;
  if (Date.parse(ref.updatedAt) < pushedAt.getTime()) return undefined;
  return `${reason}; it was moved at ${ref.updatedAt}, after this force push (${pushedAt.toISOString()}), so a later push's run owns it`;
}

async function notForwardReason(options: PublishOptions, refCommit: string, answer: false | { undecided: string }) {
  if (answer !== false) return { code: 'ancestry-undecided', message: `cannot tell whether ${options.source.commit} descends from it: ${answer.undecided}` };
  const reverse = await options.ancestry(options.source.commit, refCommit);
  if (reverse === true) return { code: 'ref-is-newer', message: `it already names a newer commit (${options.source.commit} is its ancestor); an older run finished late` };
  return {
    code: 'ref-diverged',
    message: `${options.source.commit} does not descend from it (history rewritten or a different branch); after a force push, the run of that push moves the ref (re-run it if it failed), then later commits advance it again`,
  };
}

/** Reads a version manifest, failing with NotFoundError when the version is unknown. */
export async function readManifest(store: Store, service: string, version: string): Promise<VersionManifest> {
  const key = layout.version(service, version);
  const object = await store.get(key);
  if (!object) throw unknownVersionError(store, service, version);
  return decodeManifest(object.body.toString('utf8'), `${store.location}/${key}`);
}
