import { randomUUID } from 'node:crypto';
import { pause } from './abort.js';
import { DumpVersioningError } from './errors.js';
import { currentHolder, describeHolder, holderGone, holderOf } from './holder.js';
import { layout, type Store, type StoredObjectInfo } from './store.js';

/**
 * Leases between prune and publishes that reuse objects already in the store: blobs, a migrations
 * record or a version manifest that the publish found stored instead of writing. Such an object may be
 * one that nothing kept references (left by a version retention is deleting), or one of the branch
 * ref's version, which stops being kept when the ref moves on. Without leases, a prune that listed the
 * store before the publish wrote its commit entry could delete the object after the publish decided to
 * reuse it, and the commit entry and ref would name a missing object.
 *
 * Each side writes its own lease first, then looks for the other's, and only then decides anything. The
 * store is strongly consistent (S3 and the filesystem store are), so at least one side sees the other:
 *  - prune takes `locks/prune.json` (create-only), steps aside until no fresh publish lease exists, and
 *    only then lists and plans; before each delete batch it checks the lease is still its own and young;
 *  - a publish that reused anything writes `locks/publish-<id>.json` (renewed in place while held), waits
 *    while a fresh prune lease exists, then reads the ref again, re-checks what may be gone (re-creating
 *    it), and releases the lease once its commit entry and ref are written.
 * If the publish saw no prune lease, a prune that starts later sees the publish lease before it lists,
 * and waits for the publish's ref; if it saw one, it waits for that prune to finish deleting before it
 * checks. A lease older than its lifetime belongs to a process that crashed and is ignored (or taken
 * over). Lifetimes compare the store's write times with this machine's clock, so they assume clocks
 * within seconds of each other. A lease records its holder (holder.ts): one of this machine whose
 * process has ended (killed before it could release it) is ignored at once, whatever its age.
 */

/** A prune lease older than this is stale (a prune takes seconds; this bounds how long publishes wait). */
export const PRUNE_LEASE_MS = 5 * 60_000;
/** A publish lease older than this is stale (it covers the manifest, commit entry and ref writes only). */
export const PUBLISH_LEASE_MS = 10 * 60_000;
const POLL_MS = 250;

export interface LeaseTimings {
  pruneLeaseMs?: number;
  publishLeaseMs?: number;
  pollMs?: number;
  now?: () => number;
}

const leaseBody = (kind: string, id: string) => Buffer.from(`${JSON.stringify({ kind, id, ...currentHolder(), startedAt: new Date().toISOString() })}\n`);
const leaseId = (body: Buffer | undefined) => {
  try {
    return body ? (JSON.parse(body.toString('utf8')) as { id?: unknown }).id : undefined;
  } catch {
    return undefined;
  }
};

export interface PruneLease {
  /** Throws unless the lease is still this prune's (a slow prune whose lease was taken over must stop). */
  assertHeld(): Promise<void>;
  /** Deletes the lease if it is still this prune's. */
  release(): Promise<void>;
}

export interface PublishLease {
  /** Rewrites the lease (after a long wait), so it does not go stale while still needed. */
  renew(): Promise<void>;
  /** Throws unless the lease was renewed recently enough that no prune can have taken it for stale. */
  assertFresh(): void;
  release(): Promise<void>;
}

/** Prune cannot go ahead now (another prune, a publish holding a lease, or its own lease grown old). Not fatal: the next run's retention catches up. */
export class PruneRunningError extends DumpVersioningError {}

/** Takes the prune lease (or a stale one over). */
export async function acquirePruneLease(store: Store, service: string, timings: LeaseTimings = {}): Promise<PruneLease> {
  const key = layout.pruneLease(service);
  const now = timings.now ?? Date.now;
  const id = randomUUID();
  const acquiredAt = now();
  const lifetime = timings.pruneLeaseMs ?? PRUNE_LEASE_MS;
  const lease: PruneLease = {
    assertHeld: async () => {
      // Past half its lifetime the lease may look stale to others soon: stop rather than delete then.
      if (now() - acquiredAt > lifetime / 2) {
        throw new PruneRunningError('prune-too-slow', `this prune of ${service} held its lease for ${Math.round((now() - acquiredAt) / 1000)} s, too long to delete safely; it deleted nothing more, run prune again`, { fatal: false });
      }
      if (leaseId((await store.get(key))?.body) !== id) {
        throw new PruneRunningError('prune-lease-lost', `this prune of ${service} ran so long that another one took its lease ${store.location}/${key} over; it deleted nothing more, run prune again`, { fatal: false });
      }
    },
    release: async () => {
      if (leaseId((await store.get(key))?.body) === id) await store.delete([key]);
    },
  };
  if ((await store.putIfAbsent(key, leaseBody('prune', id))) === 'created') return lease;
  const held = await store.get(key);
  const age = held ? now() - (await leaseTime(store, service, key, now)) : Infinity;
  const holder = holderOf(held?.body);
  if (held && age < lifetime && !holderGone(holder)) {
    throw new PruneRunningError(
      'prune-running',
      `another prune of ${service} has held ${store.location}/${key} for ${Math.round(age / 1000)} s${holder ? ` (${describeHolder(holder)})` : ''}; wait for it to finish, or delete that object if no prune is running`,
      { fatal: false },
    );
  }
  // Stale, its holder gone (or released meanwhile): take it over with a compare-and-swap, so two takers cannot both win.
  if ((await store.putIfMatch(key, leaseBody('prune', id), held?.etag)) === 'written') return lease;
  throw new PruneRunningError('prune-running', `another prune of ${service} took over the stale lease ${store.location}/${key} just now; run prune again later`, { fatal: false });
}

/** Publish leases among `objects` (a listing of the service's leases or of the whole service) that are fresh, or with `stale`, stale. */
export function publishLeases(objects: Iterable<StoredObjectInfo>, service: string, timings: LeaseTimings & { stale?: boolean } = {}): string[] {
  const now = (timings.now ?? Date.now)();
  const prefix = `${layout.leasesPrefix(service)}publish-`;
  const lifetime = timings.publishLeaseMs ?? PUBLISH_LEASE_MS;
  const wanted = (object: StoredObjectInfo) => {
    const fresh = now - object.lastModified.getTime() < lifetime;
    return object.key.startsWith(prefix) && (timings.stale ? !fresh : fresh);
  };
  return [...objects].filter(wanted).map((object) => object.key);
}

/**
 * Fresh publish leases of the service (publishes that reused stored objects and have not written their ref
 * yet). One whose holder ran here and has ended is left out and deleted: its key is that publish's alone.
 */
export async function activePublishLeases(store: Store, service: string, timings: LeaseTimings = {}): Promise<string[]> {
  const listed: StoredObjectInfo[] = [];
  for await (const object of store.list(layout.leasesPrefix(service))) listed.push(object);
  const active: string[] = [];
  const orphaned: string[] = [];
  for (const key of publishLeases(listed, service, timings)) {
    const held = await store.get(key);
    if (held && holderGone(holderOf(held.body))) orphaned.push(key);
    else if (held) active.push(key);
  }
  if (orphaned.length > 0) await store.delete(orphaned);
  return active;
}

/**
 * Writes a publish lease, then waits while a fresh prune lease exists (a prune that started first may
 * still delete what it planned), then renews the lease (the wait may have been long); while held, the
 * lease is renewed on a timer.
 */
export async function acquirePublishLease(
  store: Store,
  service: string,
  timings: LeaseTimings = {},
  /** Told once when the publish starts waiting for a prune (so a log does not go silent for minutes). */
  onWait?: (message: string) => void,
  /** Aborting ends the wait for a prune: the lease is deleted and this rejects with the signal's reason. */
  signal?: AbortSignal,
): Promise<PublishLease> {
  const now = timings.now ?? Date.now;
  const lifetime = timings.publishLeaseMs ?? PUBLISH_LEASE_MS;
  const key = layout.publishLease(service, randomUUID());
  const body = () => leaseBody('publish', key);
  await store.putIfAbsent(key, body());
  let renewedAt = now();
  // Renewed in place (the key never disappears from a listing), one renewal at a time; release waits
  // for one in flight. A lease that vanished (a prune removed it as stale) is written again.
  let renewing: Promise<void> = Promise.resolve();
  const renew = () =>
    (renewing = renewing.catch(() => undefined).then(async () => {
      const started = now();
      const current = await store.get(key);
      if (!current || (await store.putIfMatch(key, body(), current.etag)) !== 'written') await store.putIfAbsent(key, body());
      renewedAt = started;
    }));
  // Kept fresh while held (re-creating large blobs may take a while): a prune never sees it stale.
  const keepAlive = setInterval(() => renew().catch(() => undefined), Math.max(10, lifetime / 3));
  keepAlive.unref();
  const lease: PublishLease = {
    renew,
    assertFresh: () => {
      if (now() - renewedAt >= lifetime * 0.8) {
        throw new DumpVersioningError('publish-lease-stale', `this publish of ${service} could not keep its lease ${store.location}/${key} fresh (last renewed ${Math.round((now() - renewedAt) / 1000)} s ago), so a prune may have deleted what it reuses; nothing was named, publish again`);
      }
    },
    release: async () => {
      clearInterval(keepAlive);
      await renewing.catch(() => undefined);
      await store.delete([key]);
    },
  };
  try {
    const pruneKey = layout.pruneLease(service);
    const limit = timings.pruneLeaseMs ?? PRUNE_LEASE_MS;
    const waitStarted = now();
    let waited = false;
    for (;;) {
      signal?.throwIfAborted();
      if (!(await store.exists(pruneKey))) break;
      // Read only when it exists (the usual publish asks one HEAD); unreadable, it counts by its age.
      const holder = holderOf((await store.get(pruneKey).catch(() => undefined))?.body);
      if (holderGone(holder)) break; // its prune was killed: it deletes nothing more
      const heldFor = now() - (await leaseTime(store, service, pruneKey, now));
      if (heldFor >= limit) break; // stale: its prune crashed
      // Bounded whatever the listing says: a prune lease lives `limit` at most, so after that long any
      // prune that held it has stopped deleting (it stops at half its lifetime).
      if (now() - waitStarted >= limit) break;
      if (!waited) {
        const left = Math.ceil((limit - heldFor) / 1000);
        onWait?.(
          `waiting for a prune of ${service} (${holder ? `${describeHolder(holder)}, ` : ''}${store.location}/${pruneKey}, held for ${Math.round(heldFor / 1000)} s) to finish; ` +
            `at most ${left} s more: a lease older than ${Math.round(limit / 1000)} s counts as a crashed prune's and is ignored`,
        );
      }
      waited = true;
      await pause(timings.pollMs ?? POLL_MS, signal);
    }
    if (waited) await lease.renew();
    return lease;
  } catch (error) {
    await lease.release().catch(() => undefined);
    throw error;
  }
}

/** When the object at `key` was last written, from the store's listing (the clock that ages leases). */
async function leaseTime(store: Store, service: string, key: string, now: () => number): Promise<number> {
  // Listed by folder: the filesystem store lists folders only.
  for await (const object of store.list(layout.leasesPrefix(service))) if (object.key === key) return object.lastModified.getTime();
  return now(); // gone meanwhile: treat as fresh, the caller looks again
}
