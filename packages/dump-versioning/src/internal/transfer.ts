import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip } from 'node:zlib';
import { IntegrityError, StoreAccessError } from './errors.js';
import type { DumpFile } from './manifest.js';
import { layout, type Store } from './store.js';

/** What repairs a damaged blob: a publish re-uploads a missing one, but never re-reads one that exists. */
const REPAIR_BLOB = 'delete that blob from the store and re-publish a commit whose dump holds the file (publishing re-uploads a missing blob)';

/**
 * Streams one blob of `file` out of the store, uncompressing it, into `target` (a new file, a stream,
 * or nowhere when only checking), and fails with IntegrityError naming the file unless sha256 and size match.
 */
export async function fetchVerified(
  store: Store,
  service: string,
  file: DumpFile,
  target: string | Writable | undefined,
  context: string,
  onBytes?: (bytes: number) => void,
  /** Aborting destroys the streams of a download in flight (Ctrl-C during a long S3 read); rejects with the signal's reason. */
  signal?: AbortSignal,
): Promise<void> {
  const key = layout.blob(service, file.sha256, file.compression);
  signal?.throwIfAborted();
  const source = await store.getStream(key);
  if (!source) {
    throw new IntegrityError('blob-missing', `${context}: file ${file.path} is missing from the store (blob ${store.location}/${key}); the store is damaged, re-publish this commit`);
  }
  // A failure of the download itself (connection reset, idle timeout) is told apart from the local side's.
  let sourceFailure: unknown;
  source.once('error', (error) => (sourceFailure = error));
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      onBytes?.(chunk.length);
      // Stop early on oversized (e.g. appended-to) blobs instead of filling the disk.
      if (size > file.size) callback(new IntegrityError('blob-too-large', `${context}: file ${file.path} is larger than the ${file.size} bytes the manifest records (blob ${key}); refusing it`));
      else callback(null, chunk);
    },
  });
  const sink =
    target === undefined
      ? new Writable({ write: (_chunk, _encoding, callback) => callback() })
      : typeof target === 'string'
        ? createWriteStream(target, { flags: 'wx' })
        : target;
  const decompressor = file.compression === 'gzip' ? createGunzip() : file.compression === 'brotli' ? createBrotliDecompress() : undefined;
  try {
    if (signal?.aborted) throw signal.reason;
    const options = signal ? { signal } : {};
    if (decompressor) await pipeline(source, decompressor, meter, sink, options);
    else await pipeline(source, meter, sink, options);
  } catch (error) {
    if (signal?.aborted) {
      // Aborted before the pipeline ran: nothing else closes the streams (the file handle of `wx`).
      source.destroy();
      sink.destroy();
      throw signal.reason;
    }
    if (error instanceof IntegrityError) throw error;
    // zlib reports Z_* codes, brotli ERR__ERROR_* ones; either means the stored bytes do not decompress.
    // Checked first: the pipeline destroys the download with the decompressor's error, which the source's
    // 'error' listener may then see too (a corrupt blob was sometimes told as a download stopped midway).
    if (decompressor && /^(Z_|ERR__ERROR_)/.test((error as NodeJS.ErrnoException).code ?? '')) {
      throw new IntegrityError('blob-corrupt', `${context}: file ${file.path} is corrupt in the store (blob ${store.location}/${key} does not decompress: ${(error as Error).message}); ${REPAIR_BLOB}`);
    }
    if (sourceFailure !== undefined && error === sourceFailure) {
      throw new StoreAccessError('blob-read-failed', `${context}: reading file ${file.path} from ${store.location} stopped midway (blob ${key}): ${(error as Error).message}; try again`, { cause: error });
    }
    throw error;
  }
  const digest = hash.digest('hex');
  if (size !== file.size || digest !== file.sha256) {
    throw new IntegrityError(
      'blob-mismatch',
      `${context}: file ${file.path} does not match the manifest (expected sha256 ${file.sha256} and ${file.size} bytes, got ${digest} and ${size} bytes; blob ${store.location}/${key}); the store copy was altered or truncated: ${REPAIR_BLOB}`,
    );
  }
}

/** The verified bytes of one dump file (for diff detail hooks; dump files are loaded whole). */
export async function readVerified(store: Store, service: string, file: DumpFile, context: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const collect = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await fetchVerified(store, service, file, collect, context);
  return Buffer.concat(chunks);
}
