import { pause } from './abort.js';
import { InvalidInputError, StoreConfigError } from './errors.js';
import { acquirePruneLease, activePublishLeases, publishLeases, PruneRunningError, PUBLISH_LEASE_MS, type LeaseTimings, type PruneLease } from './leases.js';
import { decodeBranchRef, decodeCommitEntry, decodeManifest, type CommitEntry } from './manifest.js';
import { assertService } from './query.js';
import { mapLimit } from './concurrency.js';
import { layout, parseBlobKey, type IncompleteUpload, type Store, type StoredObjectInfo } from './store.js';
import { byteOrder } from './order.js';

export interface PruneOptions {
  store: Store;
  service: string;
  /** Versions to keep per branch, newest first by commit time (publish time where none was recorded). */
  keep: number;
  /** Versions named by commit index entries younger than this are kept too (default 7 days). */
  keepRecentMs?: number;
  /**
   * Nothing younger than this is deleted (blobs, migrations records, manifests, commit entries, and the
   * versions such entries name), so a publish running concurrently (objects written, ref not yet) is not
   * cut from under it (default 1 hour).
   */
  graceMs?: number;
  /** Delete for real; otherwise only report the plan. */
  yes?: boolean;
  now?: () => Date;
  /** Lease lifetimes and polling (tests); see leases.ts. */
  leases?: LeaseTimings & { publishWaitMs?: number };
  /**
   * Aborting stops the prune at its next safe point: while it waits for publishes, after listing, or
   * between delete batches (never within one). Deletes go in dependency order, so what it deleted so far
   * leaves nothing kept naming a missing object; it releases its lease and rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/** What to grant (or configure instead) for incomplete multipart uploads to be found and aborted. */
export const MULTIPART_PERMISSIONS =
  'access denied; grant s3:ListBucketMultipartUploads and s3:AbortMultipartUpload on the bucket, or let a bucket lifecycle rule (AbortIncompleteMultipartUpload) remove them';

export const isAccessDenied = (error: unknown) => error instanceof StoreConfigError && error.code === 'access-denied';

/** How long a prune waits for publishes that reuse unreferenced objects before it gives up (deleting nothing). */
const PUBLISH_WAIT_MS = 30_000;

export interface PruneResult {
  dryRun: boolean;
  keptVersions: string[];
  /**
   * `uploads`: keys of incomplete multipart uploads of blobs (S3: a publish killed mid-upload) started before
   * the grace period, aborted (their parts freed) as the last step.
   */
  deleted: { commits: string[]; versions: string[]; blobs: string[]; migrations: string[]; uploads: string[] };
  bytes: number;
  /** What the prune could not do and did not fail for (a policy without the multipart-upload permissions). */
  warnings: string[];
}

/**
 * Retention: keep the newest `keep` versions per branch plus everything a ref or a recent commit
 * index entry reaches; delete the rest in dependency order (index entries, manifests, then blobs and
 * migrations records nothing kept references), so nothing kept ever names a deleted object.
 */
export async function prune(options: PruneOptions): Promise<PruneResult> {
  const { store, service } = options;
  assertService(service);
  if (!Number.isInteger(options.keep) || options.keep < 1) {
    throw new InvalidInputError('bad-keep', `keep must be a whole number of at least 1 (got ${options.keep})`);
  }
  await store.checkRoot?.('read');
  options.signal?.throwIfAborted();
  const now = (options.now ?? (() => new Date()))().getTime();
  if (!options.yes) return planAndDelete(options, now, undefined);
  // Deleting: take the prune lease, wait out publishes that reuse unreferenced objects, and only then
  // list and plan (leases.ts); a dry run changes nothing and takes no lease.
  let lease = await acquirePruneLease(store, service, options.leases);
  try {
    const deadline = Date.now() + (options.leases?.publishWaitMs ?? PUBLISH_WAIT_MS);
    for (;;) {
      const active = await activePublishLeases(store, service, options.leases);
      if (active.length === 0) break;
      if (Date.now() >= deadline) {
        throw new PruneRunningError(
          'publish-running',
          `${active.length} publish(es) of ${service} hold a lease on stored objects they reuse (${active.join(', ')}); nothing was deleted. ` +
            `A running publish releases its lease when it finishes; a crashed one's lease counts as stale ${Math.round((options.leases?.publishLeaseMs ?? PUBLISH_LEASE_MS) / 60_000)} min after it was last renewed. Run prune again later`,
          { fatal: false },
        );
      }
      // Step aside while waiting: a publish that took its lease just before this prune waits for ours.
      await lease.release();
      await pause(options.leases?.pollMs ?? 250, options.signal);
      lease = await acquirePruneLease(store, service, options.leases);
    }
    return await planAndDelete(options, now, lease);
  } finally {
    // A lease that cannot be deleted goes stale; the prune's own outcome is what matters.
    await lease.release().catch(() => undefined);
  }
}

/** Keys of the commit entries the service's branch refs name right now. */
async function refCommitsNow({ store, service }: PruneOptions): Promise<Set<string>> {
  const keys: string[] = [];
  for await (const object of store.list(layout.refsPrefix(service))) if (object.key.endsWith('.json')) keys.push(object.key);
  const refs = await mapLimit(keys, 8, async (key) => {
    const body = (await store.get(key))?.body.toString('utf8');
    return body === undefined ? undefined : decodeBranchRef(body, `${store.location}/${key}`);
  });
  return new Set(refs.filter((ref) => ref !== undefined).map((ref) => layout.commit(service, ref.commit)));
}

async function planAndDelete(options: PruneOptions, now: number, lease: PruneLease | undefined): Promise<PruneResult> {
  const { store, service } = options;
  const recentCutoff = now - (options.keepRecentMs ?? 7 * 24 * 3600_000);
  const graceCutoff = now - (options.graceMs ?? 3600_000);
  const objects = new Map<string, StoredObjectInfo>();
  for await (const object of store.list(`${service}/`)) objects.set(object.key, object);
  options.signal?.throwIfAborted();
  const jsonUnder = (prefix: string) => [...objects.keys()].filter((key) => key.startsWith(prefix) && key.endsWith('.json'));
  const text = async (key: string) => (await store.get(key))?.body.toString('utf8');

  const refs = (await mapLimit(jsonUnder(layout.refsPrefix(service)), 8, async (key) => {
    const body = await text(key);
    return body === undefined ? undefined : decodeBranchRef(body, `${store.location}/${key}`);
  })).filter((ref) => ref !== undefined);
  const entries = (await mapLimit(jsonUnder(layout.commitsPrefix(service)), 8, async (key) => {
    const body = await text(key);
    return body === undefined ? undefined : { key, entry: decodeCommitEntry(body, `${store.location}/${key}`) };
  })).filter((item): item is { key: string; entry: CommitEntry } => item !== undefined);

  const kept = new Set(refs.map((ref) => ref.version));
  const refCommits = new Set(refs.map((ref) => ref.commit));
  const byBranch = new Map<string, CommitEntry[]>();
  const youngKey = (key: string) => (objects.get(key)?.lastModified.getTime() ?? now) >= graceCutoff;
  for (const { key, entry } of entries) {
    // A commit entry written within the grace period may belong to a publish that is about to move its
    // ref to it (the ref still names the previous commit): it and its version stay.
    if (Date.parse(entry.createdAt) >= recentCutoff || youngKey(key)) kept.add(entry.version);
    const branch = entry.source.branch ?? '';
    byBranch.set(branch, [...(byBranch.get(branch) ?? []), entry]);
  }
  for (const branchEntries of byBranch.values()) {
    // Newest commit first (its commit time where recorded): a run of an older commit that finished late
    // is not the branch's newest version. Publish time breaks ties and stands in without a commit time.
    const newestFirst = branchEntries.sort((a, b) => historyTime(b) - historyTime(a) || byteOrder(b.createdAt, a.createdAt));
    const versions = new Set<string>();
    for (const entry of newestFirst) {
      if (versions.size >= options.keep) break;
      versions.add(entry.version);
    }
    for (const version of versions) kept.add(version);
  }

  const deleteCommits = entries.filter(({ entry }) => !kept.has(entry.version) && !refCommits.has(entry.source.commit)).map(({ key }) => key);
  const referenced = new Set<string>();
  const reference = (document: CommitEntry) => {
    if (document.migrationsRecord) referenced.add(layout.migrations(service, document.migrationsRecord.sha256));
  };
  const deletedCommits = new Set(deleteCommits);
  for (const { key, entry } of entries) if (!deletedCommits.has(key)) reference(entry);
  const deleteVersions: string[] = [];
  for (const key of jsonUnder(layout.versionsPrefix(service))) {
    const version = key.slice(layout.versionsPrefix(service).length, -'.json'.length);
    const young = (objects.get(key)?.lastModified.getTime() ?? now) >= graceCutoff;
    if (kept.has(version) || young) {
      const body = await text(key);
      if (body === undefined) continue;
      const manifest = decodeManifest(body, `${store.location}/${key}`);
      for (const file of manifest.files) referenced.add(layout.blob(service, file.sha256, file.compression));
      reference(manifest);
    } else deleteVersions.push(key);
  }
  const unreferencedOld = (isCandidate: (key: string) => boolean) =>
    [...objects.values()]
      .filter((object) => isCandidate(object.key) && !referenced.has(object.key) && object.lastModified.getTime() < graceCutoff)
      .map((object) => object.key);
  const deleteBlobs = unreferencedOld((key) => parseBlobKey(key) !== undefined);
  const deleteMigrations = unreferencedOld((key) => key.startsWith(layout.migrationsPrefix(service)) && key.endsWith('.json'));
  const bytes = [...deleteCommits, ...deleteVersions, ...deleteBlobs, ...deleteMigrations].reduce((sum, key) => sum + (objects.get(key)?.size ?? 0), 0);
  // Parts of an upload nothing completed: invisible to the listing above, billed until aborted. A young one
  // may be a publish uploading right now.
  let staleUploads: IncompleteUpload[] = [];
  const warnings: string[] = [];
  if (store.listIncompleteUploads) {
    try {
      for await (const upload of store.listIncompleteUploads(layout.blobsPrefix(service))) if (upload.initiated.getTime() < graceCutoff) staleUploads.push(upload);
    } catch (error) {
      // The documented policy (Get/Put/List/DeleteObject) does not cover it: retention must not fail for that.
      if (!isAccessDenied(error)) throw error;
      staleUploads = [];
      warnings.push(`incomplete uploads of interrupted publishes were not looked for: ${MULTIPART_PERMISSIONS}`);
    }
  }

  if (lease) {
    for (const batch of [deleteCommits, deleteVersions, [...deleteBlobs, ...deleteMigrations]]) {
      options.signal?.throwIfAborted();
      await lease.assertHeld();
      if (batch === deleteCommits) {
        // Read the refs again right before deleting entries: never delete the entry a ref names now.
        const named = await refCommitsNow(options);
        const spared = batch.filter((key) => named.has(key));
        if (spared.length > 0) {
          throw new PruneRunningError('ref-moved', `a branch ref of ${service} moved to a commit this prune planned to delete (${spared.join(', ')}) while it ran; nothing was deleted, run prune again`, { fatal: false });
        }
      }
      await store.delete(batch);
    }
    // Housekeeping: leases of publishes that crashed (or could not delete theirs) and have gone stale.
    await store.delete(publishLeases(objects.values(), service, { ...options.leases, stale: true }));
    options.signal?.throwIfAborted();
    if (staleUploads.length > 0) {
      try {
        await store.abortIncompleteUploads?.(staleUploads);
      } catch (error) {
        if (!isAccessDenied(error)) throw error;
        warnings.push(`${staleUploads.length} incomplete upload(s) of interrupted publishes were not aborted: ${MULTIPART_PERMISSIONS}`);
        staleUploads = [];
      }
    }
  }
  return {
    dryRun: !options.yes,
    keptVersions: [...kept].sort(),
    deleted: { commits: deleteCommits, versions: deleteVersions, blobs: deleteBlobs, migrations: deleteMigrations, uploads: staleUploads.map((upload) => upload.key) },
    bytes,
    warnings,
  };
}

/** When a commit entry's commit was made (ISO times with any offset compare as instants), else when it was published. */
function historyTime(entry: CommitEntry): number {
  const commitTime = entry.source.commitTime === undefined ? Number.NaN : Date.parse(entry.source.commitTime);
  return Number.isNaN(commitTime) ? Date.parse(entry.createdAt) : commitTime;
}
