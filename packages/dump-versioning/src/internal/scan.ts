import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from './errors.js';
import type { Compression, DumpFile } from './manifest.js';
import { assertSafeRelativePath, classifyDumpPath } from './paths.js';

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
