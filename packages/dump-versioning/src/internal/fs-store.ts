import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open, readFile, readdir, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidInputError, StoreAccessError, StoreConfigError } from './errors.js';
import { currentHolder, describeHolder, holderGone, holderOf } from './holder.js';
import type { Store, StoreBody, StoredObjectInfo } from './store.js';

const TMP_DIR = '.tmp';
const LOCK_SUFFIX = '.lock';
/** A lock older than this was left by a crashed writer (a ref write takes milliseconds); one of a writer that ran here and ended is broken at once. */
const STALE_LOCK_MS = 30_000;
const LOCK_WAIT_MS = 60_000;
/** A wait for a lock longer than this is reported (to lock listeners): contention between writers lasts milliseconds. */
const LOCK_NOTICE_MS = 1_000;
/** A temp file this old was left by a writer killed mid-write (no write takes a day). */
const STALE_TEMP_MS = 24 * 60 * 60_000;

const etagOf = (body: Buffer) => createHash('sha256').update(body).digest('hex');
const isCode = (error: unknown, code: string) => (error as NodeJS.ErrnoException)?.code === code;
/** A lock file's token: JSON with the holder, or (written by older versions) the bare token. */
const tokenOf = (content: string | undefined) => {
  try {
    return (JSON.parse(content ?? '') as { token?: unknown }).token;
  } catch {
    return content?.trim();
  }
};

/**
 * Runs `work`, telling `listener` meanwhile when a write to a filesystem store waits for another writer's
 * lock, or removes one a killed writer left (other stores take no locks).
 */
export async function withLockReports<T>(store: Store, listener: ((message: string) => void) | undefined, work: () => Promise<T>): Promise<T> {
  if (!(store instanceof FileSystemStore) || !listener) return work();
  store.lockListeners.add(listener);
  try {
    return await work();
  } finally {
    store.lockListeners.delete(listener);
  }
}

/**
 * Filesystem store: every write goes to a temp file in `<root>/.tmp` first and appears by `link`
 * (no-clobber create) or `rename` (replace under a lock file), so readers never see partial objects.
 */
export class FileSystemStore implements Store {
  readonly location: string;
  /** See withLockReports. */
  readonly lockListeners = new Set<(message: string) => void>();
  constructor(readonly root: string) {
    this.location = root;
  }

  private pathOf(key: string) {
    if (key === '') return this.root;
    // Keys are built from checked names; a segment that could leave the root is a bug, never followed.
    if (key.split('/').some((segment) => segment === '..' || segment === '.' || segment === '' || segment.includes('\\'))) {
      throw new InvalidInputError('bad-store-key', `store key ${JSON.stringify(key)} would leave ${this.root}; refusing it`);
    }
    return path.join(this.root, ...key.split('/'));
  }

  private sweptTemps = false;

  /** Removes temp files writers killed mid-write left behind (once per store object, best effort). */
  private async sweepStaleTemps(dir: string): Promise<void> {
    this.sweptTemps = true;
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const file = path.join(dir, name);
      const info = await stat(file).catch(() => undefined);
      if (info?.isFile() && info.mtimeMs < cutoff) await unlink(file).catch(() => undefined);
    }
  }

  private async writeTemp(body: StoreBody, onBytes?: (bytes: number) => void): Promise<string> {
    const dir = path.join(this.root, TMP_DIR);
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw this.accessError('write', dir, error);
    });
    if (!this.sweptTemps) await this.sweepStaleTemps(dir);
    const temp = path.join(dir, randomUUID());
    try {
      if (Buffer.isBuffer(body)) {
        await writeFile(temp, body, { flag: 'wx' });
        onBytes?.(body.length);
      } else {
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            onBytes?.(chunk.length);
            callback(null, chunk);
          },
        });
        await pipeline(body.stream(), counter, createWriteStream(temp, { flags: 'wx' }));
      }
      return temp;
    } catch (error) {
      await rm(temp, { force: true });
      throw this.accessError('write', temp, error);
    }
  }

  private accessError(action: string, target: string, error: unknown) {
    const code = (error as NodeJS.ErrnoException)?.code;
    const hint = code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? '; make the directory writable or choose another store location' : '';
    return new StoreAccessError('fs-access', `cannot ${action} ${target} in the filesystem store ${this.root}: ${(error as Error).message}${hint}`, { cause: error });
  }

  /** See Store.checkRoot: a missing root is only an error for reads; a file (or a path under one) always is. */
  async checkRoot(mode: 'read' | 'write') {
    let state: 'directory' | 'missing' | 'file' | 'under-file';
    try {
      state = (await stat(this.root)).isDirectory() ? 'directory' : 'file';
    } catch (error) {
      if (isCode(error, 'ENOENT')) state = 'missing';
      else if (isCode(error, 'ENOTDIR')) state = 'under-file';
      else throw this.accessError('stat', this.root, error);
    }
    if (state === 'file' || state === 'under-file') {
      const what = state === 'file' ? 'is a file' : 'lies under a file';
      throw new StoreConfigError('store-not-directory', `the filesystem store ${this.root} ${what}, not a directory; check the store location`);
    }
    if (state === 'missing' && mode === 'read') {
      throw new StoreConfigError('store-missing', `the filesystem store ${this.root} does not exist; check the store location, or publish first`);
    }
  }

  async get(key: string) {
    try {
      const body = await readFile(this.pathOf(key));
      return { body, etag: etagOf(body) };
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw this.accessError('read', key, error);
    }
  }

  async getStream(key: string) {
    // Opened here, not when the stream first reads: a prune that deletes the file after this answer must
    // not turn "it exists" into a raw ENOENT halfway through a pull (an open file stays readable).
    let handle;
    try {
      handle = await open(this.pathOf(key), 'r');
    } catch (error) {
      if (isCode(error, 'ENOENT')) return undefined;
      throw this.accessError('read', key, error);
    }
    return handle.createReadStream();
  }

  async exists(key: string) {
    try {
      await stat(this.pathOf(key));
      return true;
    } catch (error) {
      if (isCode(error, 'ENOENT')) return false;
      throw this.accessError('stat', key, error);
    }
  }

  async putIfAbsent(key: string, body: StoreBody, onBytes?: (bytes: number) => void) {
    const target = this.pathOf(key);
    if (await this.exists(key)) return 'exists' as const;
    const temp = await this.writeTemp(body, onBytes);
    try {
      await mkdir(path.dirname(target), { recursive: true });
      await link(temp, target);
      return 'created' as const;
    } catch (error) {
      if (isCode(error, 'EEXIST')) return 'exists' as const;
      throw this.accessError('create', key, error);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async putIfMatch(key: string, body: Buffer, etag: string | undefined) {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true }).catch((error: unknown) => {
      throw this.accessError('create', key, error);
    });
    const release = await this.lock(target);
    try {
      const current = await this.get(key);
      if ((current?.etag ?? undefined) !== etag) return 'conflict' as const;
      const temp = await this.writeTemp(body);
      try {
        await rename(temp, target);
      } catch (error) {
        await rm(temp, { force: true });
        throw this.accessError('replace', key, error);
      }
      return 'written' as const;
    } finally {
      await release();
    }
  }

  /**
   * A lock file next to the target holding a unique token and its holder (holder.ts); it appears whole
   * (`link` of a complete temp file, which fails if the lock exists). A lock older than STALE_LOCK_MS, or
   * whose holder ran on this machine and has ended (killed mid-write), was left by a crashed writer and is
   * broken, one breaker at a time (`<lock>.break`, exclusive create): the breaker renames the lock aside to
   * a unique name and deletes it only if it still holds the content that was judged stale, otherwise (a
   * fresh lock taken meanwhile) it puts it back. Release removes the lock only while it holds this
   * writer's token. A wait past LOCK_NOTICE_MS is reported once, naming the holder.
   */
  private async lock(target: string): Promise<() => Promise<void>> {
    const lockFile = target + LOCK_SUFFIX;
    const token = randomUUID();
    const temp = await this.writeTemp(Buffer.from(`${JSON.stringify({ token, ...currentHolder(), startedAt: new Date().toISOString() })}\n`));
    const started = Date.now();
    const deadline = started + LOCK_WAIT_MS;
    let told = false;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          // A link keeps the temp file's mtime, which is the lock's age: after a long wait it would be taken
          // already looking stale, and broken by the next waiter while this writer holds it.
          if (attempt > 0) await utimes(temp, new Date(), new Date());
          await link(temp, lockFile);
          return async () => {
            const held = await readFile(lockFile, 'utf8').catch(() => undefined);
            if (tokenOf(held) === token) await unlink(lockFile).catch(() => undefined);
          };
        } catch (error) {
          if (!isCode(error, 'EEXIST')) throw this.accessError('lock', lockFile, error);
        }
        await this.breakStaleLock(lockFile);
        if (Date.now() > deadline) {
          throw new StoreAccessError('fs-lock-timeout', `lock ${lockFile} is still held after ${LOCK_WAIT_MS / 1000}s; another publish may be stuck, remove the file if no publish is running`);
        }
        if (!told && Date.now() - started >= LOCK_NOTICE_MS) {
          told = true;
          const holder = holderOf(await readFile(lockFile, 'utf8').catch(() => undefined));
          this.tell(
            `waiting for ${lockFile}, held by ${describeHolder(holder)}: another write of this object is in progress; ` +
              `a lock older than ${STALE_LOCK_MS / 1000} s counts as a crashed writer's and is removed, the wait gives up after ${LOCK_WAIT_MS / 1000} s`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(5 + attempt * 5, 100) * (0.5 + Math.random())));
      }
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  private tell(message: string): void {
    for (const listener of this.lockListeners) listener(message);
  }

  /** Removes `lockFile` if it is stale and still the same lock (see lock()). */
  private async breakStaleLock(lockFile: string): Promise<void> {
    // Old, or written (it appears whole) by a process of this machine that has ended.
    const isStale = (mtimeMs: number, content?: string) => Date.now() - mtimeMs > STALE_LOCK_MS || holderGone(holderOf(content));
    const before = await stat(lockFile).catch(() => undefined);
    if (!before) return;
    const staleContent = await readFile(lockFile, 'utf8').catch(() => undefined);
    if (staleContent === undefined || !isStale(before.mtimeMs, staleContent)) return;
    // One breaker at a time; a breaker lock left by a crash (breaking takes milliseconds) is removed.
    const breaker = lockFile + '.break';
    try {
      const handle = await open(breaker, 'wx');
      await handle.writeFile(JSON.stringify(currentHolder())).finally(() => handle.close());
    } catch (error) {
      if (!isCode(error, 'EEXIST')) throw this.accessError('lock', breaker, error);
      // Written right after it is created: an empty one counts by its age only.
      const judgedStat = await stat(breaker).catch(() => undefined);
      const judged = await readFile(breaker, 'utf8').catch(() => undefined);
      if (judgedStat && isStale(judgedStat.mtimeMs, judged)) await this.removeIfUnchanged(breaker, judged, judgedStat);
      return;
    }
    try {
      // Under the breaker, look again: only the stale lock's own (crashed) holder could change it now,
      // since a new lock can only appear once it is gone.
      const again = await stat(lockFile).catch(() => undefined);
      const againContent = await readFile(lockFile, 'utf8').catch(() => undefined);
      if (!again || again.ino !== before.ino || againContent !== staleContent || !isStale(again.mtimeMs, againContent)) return;
      const aside = `${lockFile}.stale-${randomUUID()}`;
      try {
        await rename(lockFile, aside);
      } catch (error) {
        if (isCode(error, 'ENOENT')) return; // released meanwhile
        throw this.accessError('break the stale lock', lockFile, error);
      }
      const moved = await readFile(aside, 'utf8').catch(() => undefined);
      const movedAt = await stat(aside).then((info) => info.mtimeMs, () => Date.now());
      if (moved === staleContent && isStale(movedAt, moved)) {
        await unlink(aside).catch(() => undefined);
        const holder = holderOf(moved);
        this.tell(`removed ${lockFile}, left by ${describeHolder(holder)}${holderGone(holder) ? ', which is no longer running' : ` ${STALE_LOCK_MS / 1000} s or more ago`} (a writer killed while it held it)`);
        return;
      }
      // Not the lock judged stale (its holder released it and another writer took it): put it back.
      await link(aside, lockFile).catch(() => undefined);
      await unlink(aside).catch(() => undefined);
    } finally {
      await unlink(breaker).catch(() => undefined);
    }
  }

  /**
   * Removes a breaker file judged stale with content `judged`, unless another waiter removed it and a new
   * breaker took its place meanwhile: moved aside first, and put back if it is not the one judged.
   */
  private async removeIfUnchanged(file: string, judged: string | undefined, judgedStat: { ino: number; mtimeMs: number }): Promise<void> {
    const aside = `${file}.stale-${randomUUID()}`;
    if (!(await rename(file, aside).then(() => true, () => false))) return;
    // The same file: content alone cannot tell (a new breaker is empty too until its owner writes it), nor
    // the inode alone (a freed one is reused at once); a new one also has a new mtime (rename keeps it).
    const moved = await stat(aside).catch(() => undefined);
    const movedContent = await readFile(aside, 'utf8').catch(() => undefined);
    const same = moved !== undefined && moved.ino === judgedStat.ino && moved.mtimeMs === judgedStat.mtimeMs && movedContent === judged;
    if (!same) await link(aside, file).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
  }

  async *list(prefix: string): AsyncIterable<StoredObjectInfo> {
    const base = this.pathOf(prefix.replace(/\/$/, ''));
    let entries: string[];
    try {
      entries = await readdir(base, { recursive: true });
    } catch (error) {
      if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return;
      throw this.accessError('list', prefix, error);
    }
    for (const entry of entries.sort()) {
      const key = [prefix.replace(/\/$/, ''), ...entry.split(path.sep)].filter(Boolean).join('/');
      if (key.startsWith(`${TMP_DIR}/`) || /\.lock(\.break)?(\.stale-[0-9a-f-]+)?$/.test(key)) continue;
      const info = await stat(path.join(base, entry)).catch(() => undefined);
      if (!info?.isFile()) continue;
      yield { key, size: info.size, lastModified: info.mtime };
    }
  }

  async delete(keys: ReadonlyArray<string>) {
    for (const key of keys) {
      try {
        await unlink(this.pathOf(key));
      } catch (error) {
        if (!isCode(error, 'ENOENT')) throw this.accessError('delete', key, error);
      }
    }
  }

  async close() {}
}
