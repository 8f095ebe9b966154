import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from './errors.js';
import type { Compression, DumpFile } from './manifest.js';
import { assertSafeRelativePath, classifyDumpPath } from './paths.js';

/** Runs `task` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: ReadonlyArray<T>, limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Runs tasks while their total weight stays within `capacity` (a task heavier than that runs alone),
 * the others waiting in call order: a count limit with weight 1, a memory budget with weight = bytes.
 */
export function createLimiter(capacity: number) {
  let used = 0;
  const waiting: Array<{ weight: number; start: () => void }> = [];
  const admit = () => {
    while (waiting.length > 0 && (used === 0 || used + waiting[0]!.weight <= capacity)) {
      const next = waiting.shift()!;
      used += next.weight;
      next.start();
    }
  };
  return async <R>(task: () => Promise<R>, weight = 1): Promise<R> => {
    await new Promise<void>((start) => {
      waiting.push({ weight, start });
      admit();
    });
    try {
      return await task();
    } finally {
      used -= weight;
      admit();
    }
  };
}

export async function hashFile(file: string, onBytes?: (bytes: number) => void): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    onBytes?.(chunk.length);
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * Lists a dump set directory: relative paths in byte order. Only regular files in the shared layout
 * are accepted (symlinks could point anywhere, stray files would silently become part of the version).
 */
export async function listDumpDirectory(dir: string): Promise<string[]> {
  const root = path.resolve(dir);
  const rootInfo = await lstat(root).catch(() => undefined);
  if (!rootInfo?.isDirectory()) {
    throw new InvalidInputError('dump-dir-missing', `dump directory ${root} does not exist or is not a directory; pass the directory the dumpers wrote`);
  }
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const relatives: string[] = [];
  for (const entry of entries) {
    const absolute = path.join(entry.parentPath, entry.name);
    const relative = path.relative(root, absolute).split(path.sep).join('/');
    if (entry.isDirectory()) continue;
    if (!entry.isFile()) {
      throw new InvalidInputError('dump-dir-not-regular', `dump directory ${root}: ${relative} is not a regular file (symlink or special file); dump sets may only hold regular files`);
    }
    assertSafeRelativePath(relative, `dump directory ${root}`);
    if (!classifyDumpPath(relative)) {
      throw new InvalidInputError('dump-dir-layout', `dump directory ${root}: ${relative} is outside the dump layout (mysql/<db>.sql, mysql/<db>.schema.json, mongo/<db>/<file>); remove it`);
    }
    relatives.push(relative);
  }
  if (relatives.length === 0) {
    throw new InvalidInputError('dump-dir-empty', `dump directory ${root} holds no dump files; run the dumpers first`);
  }
  return relatives.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Hashes one listed file of a dump directory (or its bytes, when already read) into its manifest entry. */
export async function describeDumpFile(dir: string, relative: string, compression: Compression, bytes?: Buffer): Promise<DumpFile> {
  const { sha256, size } = bytes
    ? { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length }
    : await hashFile(path.join(path.resolve(dir), ...relative.split('/')));
  const { kind, database } = classifyDumpPath(relative)!;
  return { path: relative, sha256, size, kind, database, compression };
}
