import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { IntegrityError, InvalidInputError, NotFoundError } from './errors.js';
import type { VersionManifest } from './manifest.js';
import { resolveInside } from './paths.js';
import { progressCounter, type ProgressListener } from './progress.js';
import { readManifest } from './publish.js';
import { assertService, readStoredCommitEntry } from './query.js';
import { mapLimit } from './concurrency.js';
import { layout, type Store } from './store.js';
import { fetchVerified } from './transfer.js';
import { versionIdOf } from './version-id.js';

export interface PullOptions {
  store: Store;
  service: string;
  /**
   * Exactly one of version (the id or a unique prefix of at least 7 characters) or commit (an exact
   * commit index lookup; use resolve for "nearest").
   */
  version?: string;
  commit?: string;
  out: string;
  /** Replace a non-empty output directory (it is swapped only after every file verified). */
  replace?: boolean;
  concurrency?: number;
  onProgress?: ProgressListener;
  /** Aborting stops the pull, also in the middle of a file; the staging directory is removed, `out` is left as it was. Rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface PullResult {
  version: string;
  dir: string;
  manifest: VersionManifest;
  bytes: number;
}

const isEmptyDir = async (dir: string) => (await readdir(dir).catch(() => undefined))?.length === 0;
const exists = async (dir: string) => (await readdir(dir).then(() => true, (error: NodeJS.ErrnoException) => error.code !== 'ENOENT'));

/**
 * Downloads a version into a staging directory next to `out`, verifying every sha256, and only then
 * renames it into place: `out` never holds a partial or unverified dump set.
 */
export async function pull(options: PullOptions): Promise<PullResult> {
  const { store, service } = options;
  assertService(service);
  if ((options.version === undefined) === (options.commit === undefined)) {
    throw new InvalidInputError('pull-target', 'pass exactly one of version or commit to pull');
  }
  await store.checkRoot?.('read');
  let version: string;
  if (options.version !== undefined) version = await versionIdOf(store, service, options.version);
  else {
    const entry = await readStoredCommitEntry(store, service, options.commit!);
    if (!entry) throw new NotFoundError('unknown-commit', `commit ${options.commit} of service ${service} has no published dump in ${store.location}; use resolve to find the nearest published ancestor`);
    version = entry.version;
  }
  const manifest = await readManifest(store, service, version);
  const out = path.resolve(options.out);
  const notEmpty = () => new InvalidInputError('out-not-empty', `output directory ${out} is not empty; choose an empty or new directory, or allow replacing it`);
  if ((await exists(out)) && !(await isEmptyDir(out)) && !options.replace) throw notEmpty();
  const parent = path.dirname(out);
  await mkdir(parent, { recursive: true });
  await sweepInterruptedPulls(parent, path.basename(out));
  const staging = path.join(parent, `.${path.basename(out)}.partial-${randomUUID()}`);
  await mkdir(staging);
  const total = manifest.files.reduce((sum, file) => sum + file.size, 0);
  const onBytes = progressCounter('download', total, options.onProgress);
  const context = `pull of version ${version} (${service})`;
  try {
    // mapLimit settles every started download before rejecting, so nothing writes into the staging
    // directory while it is removed below.
    await mapLimit(manifest.files, options.concurrency ?? 4, async (file) => {
      options.signal?.throwIfAborted();
      const target = resolveInside(staging, file.path, context);
      await mkdir(path.dirname(target), { recursive: true });
      await fetchVerified(store, service, file, target, context, onBytes, options.signal);
    });
    options.signal?.throwIfAborted();
    await placeStaged(staging, out, Boolean(options.replace), notEmpty);
    return { version, dir: out, manifest, bytes: total };
  } catch (error) {
    // The original failure is what matters; a staging directory that cannot be removed is only noted.
    await rm(staging, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
    // A blob gone together with its manifest is retention at work, not a damaged store.
    if (error instanceof IntegrityError && error.code === 'blob-missing' && !(await store.exists(layout.version(service, version)).catch(() => true))) {
      throw new NotFoundError('version-pruned', `version ${version} of ${service} was removed by retention (prune) while it was pulled; resolve again and pull the version it names now`, { cause: error });
    }
    throw error;
  }
}

/**
 * Moves the finished staging directory to `out`, atomically. Without replace, `out` may have appeared or
 * filled up since it was checked (another pull): renaming onto an empty directory replaces it, onto a
 * non-empty one fails. With replace, the current `out` is moved aside first; another pull with replace
 * (two terminals provisioning at once) may put its copy there or move it aside between those steps, so a
 * collision is tried again rather than reported as "not empty".
 */
async function placeStaged(staging: string, out: string, replace: boolean, notEmpty: () => Error): Promise<void> {
  const parent = path.dirname(out);
  const asides: string[] = [];
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        if (replace && (await exists(out)) && !(await isEmptyDir(out))) {
          const old = path.join(parent, `.${path.basename(out)}.old-${randomUUID()}`);
          await rename(out, old);
          asides.push(old);
        }
        await rename(staging, out);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const collided = code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT';
        if (replace && collided && attempt < 5) continue;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') throw notEmpty();
        if (code === 'ENOTDIR') throw new InvalidInputError('out-not-empty', `output ${out} is a file, not a directory; choose an empty or new directory`);
        throw error;
      }
    }
  } finally {
    await Promise.all(asides.map((dir) => rm(dir, { recursive: true, force: true }).catch(() => undefined)));
  }
}

/** A staging or set-aside directory this old belongs to a pull that was interrupted (Ctrl-C), not to one running. */
const INTERRUPTED_AFTER_MS = 60 * 60_000;

/**
 * Removes what interrupted pulls into `<parent>/<base>` (any base when not given) left beside it:
 * `.<base>.partial-<uuid>` staging and `.<base>.old-<uuid>` set-aside directories (a pull cleans up after
 * itself unless the process is killed), once they are an hour old, so a pull in progress in another
 * process keeps its own. Returns the names removed.
 */
export async function sweepInterruptedPulls(parent: string, base?: string, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const leftover = /^\.(.+)\.(?:partial|old)-[0-9a-f-]{36}$/.exec(name);
    if (!leftover || (base !== undefined && leftover[1] !== base)) continue;
    const dir = path.join(parent, name);
    const modified = await stat(dir).then((info) => info.mtimeMs, () => now);
    if (now - modified < INTERRUPTED_AFTER_MS) continue;
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}
