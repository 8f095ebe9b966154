import { randomUUID } from 'node:crypto';
import { open, readdir, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentHolder, holderGone, type Holder } from '@org/dump-versioning';

/**
 * Claims on a cached version, as files beside it in `<cacheRoot>/<service>`:
 * - `.<version>.lock`: exclusive, held while the version is checked, pulled and its checksum list written,
 *   and by trimCache while it removes a version;
 * - `.<version>.use-<uuid>`: one per provision loading the version; taken under the lock, so a re-pull or
 *   a trim (which hold the lock) sees every loader and never moves a directory one is reading.
 * Both are created with O_EXCL and hold their owner (pid, host, start). A claim of this host is stale when
 * its pid is dead or now belongs to another process (Linux: its start time differs); a live holder's stays
 * valid however old its heartbeat, since a laptop waking from sleep runs the waiters before the holder's
 * timer (where no start time can be read, an hour of silence ends it). A claim of another host sharing the cache is stale once its heartbeat (the file's mtime, renewed
 * while held) is older than STALE_AFTER_MS.
 */
export const STALE_AFTER_MS = 10 * 60_000;
/** Without a process start time, a same-host claim whose pid is alive is ended by this much silence only. */
export const SAME_HOST_STALE_AFTER_MS = 60 * 60_000;
const HEARTBEAT_MS = 30_000;
/** A claim is written right after it is created; empty or unreadable for this long, its writer died in between. */
const UNWRITTEN_GRACE_MS = 5_000;
/** Breaking a stale lock takes milliseconds; a `.break` file this old belongs to a process that died doing it. */
const BREAK_STALE_MS = 10_000;
const POLL_MS = 100;

/** The holder (host, pid, Linux: start time and pid namespace, to tell a reused pid from it), when and which claim. */
export interface ClaimOwner extends Holder {
  startedAt: string;
  token: string;
}

export interface Claim {
  readonly file: string;
  readonly owner: ClaimOwner;
  /** Removes the claim if it is still this one (idempotent). */
  release(): Promise<void>;
}

export const versionLockPath = (serviceDir: string, version: string) => path.join(serviceDir, `.${version}.lock`);
const USE_CLAIM = /^\.([0-9a-f]{64})\.use-[0-9a-f-]{36}$/;
const LOCK = /^\.([0-9a-f]{64})\.lock$/;

interface Found {
  owner: ClaimOwner | undefined;
  mtimeMs: number;
}

/** The claim at `file`, or undefined when there is none. */
async function readClaim(file: string): Promise<Found | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    let owner: ClaimOwner | undefined;
    try {
      const parsed = JSON.parse(text) as Partial<ClaimOwner>;
      if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.token === 'string') owner = parsed as ClaimOwner;
    } catch {
      owner = undefined;
    }
    return { owner, mtimeMs: info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function isStale(found: Found, now = Date.now()): boolean {
  if (!found.owner) return now - found.mtimeMs > UNWRITTEN_GRACE_MS;
  if (found.owner.host !== hostname()) return now - found.mtimeMs > STALE_AFTER_MS;
  const here = currentHolder();
  // Claims written before the pid namespace and boot id were recorded (a cache is per user and machine):
  // this process's are assumed, as they were then.
  const owner = { ...found.owner, pidNamespace: found.owner.pidNamespace ?? here.pidNamespace, bootId: found.owner.bootId ?? here.bootId };
  if (holderGone(owner, here)) return true;
  // Alive, and its start time shows it is the holder: valid however old its heartbeat.
  if (owner.processStart !== undefined && owner.pidNamespace === here.pidNamespace && owner.bootId === here.bootId) return false;
  // No start time to compare (macOS), or another pid namespace: a live pid may have been reused by another
  // process since its holder died, so a long silence still ends the claim.
  return now - found.mtimeMs > SAME_HOST_STALE_AFTER_MS;
}

const describeOwner = (owner: ClaimOwner | undefined) => (owner?.pid ? `pid ${owner.pid} on ${owner.host} (since ${owner.startedAt})` : 'a process that is starting');

/** Creates the claim file exclusively; undefined when it exists. The heartbeat keeps a long pull or load from looking stale. */
async function create(file: string): Promise<Claim | undefined> {
  const owner: ClaimOwner = { ...currentHolder(), startedAt: new Date().toISOString(), token: randomUUID() };
  let handle;
  try {
    handle = await open(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
  try {
    await handle.writeFile(`${JSON.stringify(owner)}\n`);
  } finally {
    await handle.close();
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  return {
    file,
    owner,
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      // Only our own: had it been broken as stale (a frozen laptop), the file may be another's by now.
      const found = await readClaim(file).catch(() => undefined);
      if (found?.owner?.token === owner.token) await unlink(file).catch(() => undefined);
    },
  };
}

/**
 * Removes the claim at `file` if it is stale. Breakers take turns through `<file>.break` (O_EXCL) and
 * re-read under it, so two waiters that both saw the same stale lock cannot remove a fresh one.
 */
async function breakIfStale(file: string): Promise<void> {
  const breaker = `${file}.break`;
  const guard = await create(breaker).catch(() => undefined);
  if (!guard) {
    const found = await stat(breaker).catch(() => undefined);
    if (found && Date.now() - found.mtimeMs > BREAK_STALE_MS) await unlink(breaker).catch(() => undefined);
    return;
  }
  try {
    const found = await readClaim(file);
    if (found && isStale(found)) await unlink(file).catch(() => undefined);
  } finally {
    await guard.release();
  }
}

/** Takes the lock of `file` if it is free or stale; undefined when a live process holds it. */
export async function tryLock(file: string): Promise<Claim | undefined> {
  const claim = await create(file);
  if (claim) return claim;
  await breakIfStale(file);
  return create(file);
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Told once, when the lock is held by another process. */
  onWaiting?: (message: string) => void;
  /** What the holder is doing, for that message. */
  holding?: string;
  pollMs?: number;
}

/** Waits for the lock of `file`. Aborting rejects with the signal's reason within one poll (100 ms), holding nothing. */
export async function lock(file: string, options: WaitOptions = {}): Promise<Claim> {
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const claim = await tryLock(file);
    if (claim) {
      // Aborted while creating it: hand it back rather than leave it behind.
      if (options.signal?.aborted) {
        await claim.release();
        options.signal.throwIfAborted();
      }
      return claim;
    }
    if (!told) {
      told = true;
      const found = await readClaim(file).catch(() => undefined);
      options.onWaiting?.(`waiting for ${describeOwner(found?.owner)} ${options.holding ?? `to release ${file}`}`);
    }
    await sleep(options.pollMs ?? POLL_MS, undefined, options.signal ? { signal: options.signal } : {}).catch(() => options.signal?.throwIfAborted());
  }
}

/** Marks `version` as being loaded by this process; take it while holding the version's lock. */
export async function claimUse(serviceDir: string, version: string): Promise<Claim> {
  for (;;) {
    const claim = await create(path.join(serviceDir, `.${version}.use-${randomUUID()}`));
    if (claim) return claim;
  }
}

/** The live use claims of `version`; stale ones (a load killed with a second Ctrl-C) are removed on the way. */
export async function liveUses(serviceDir: string, version: string): Promise<ClaimOwner[]> {
  const live: ClaimOwner[] = [];
  for (const name of await readdir(serviceDir).catch(() => [])) {
    if (USE_CLAIM.exec(name)?.[1] !== version) continue;
    const file = path.join(serviceDir, name);
    const found = await readClaim(file).catch(() => undefined);
    if (!found) continue;
    if (isStale(found)) await unlink(file).catch(() => undefined);
    else live.push(found.owner ?? { pid: 0, host: '', startedAt: '', token: '' });
  }
  return live;
}

/** Waits until no other process loads `version` (call it holding the version's lock, so no new loader starts). */
export async function waitUntilUnused(serviceDir: string, version: string, options: WaitOptions = {}): Promise<void> {
  let told = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const live = await liveUses(serviceDir, version);
    if (live.length === 0) return;
    if (!told) {
      told = true;
      options.onWaiting?.(`the cached copy no longer verifies; waiting for ${live.length} load(s) of it to finish before pulling it again, e.g. ${describeOwner(live[0])}`);
    }
    await sleep(options.pollMs ?? POLL_MS, undefined, options.signal ? { signal: options.signal } : {}).catch(() => options.signal?.throwIfAborted());
  }
}

/** Versions named by lock or use claims in `serviceDir`, whether or not their directory still exists. */
export async function claimedVersions(serviceDir: string): Promise<string[]> {
  const names = await readdir(serviceDir).catch(() => []);
  return [...new Set(names.flatMap((name) => (LOCK.exec(name) ?? USE_CLAIM.exec(name))?.[1] ?? []))];
}
