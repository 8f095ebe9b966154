import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants, createBrotliCompress, createGzip, gzip, type BrotliOptions } from 'node:zlib';
import { InvalidInputError } from './errors.js';
import type { Compression } from './manifest.js';
import type { StoreBody } from './store.js';

/** Files up to this size are read once, hashed and compressed in memory, and sent in one request. */
export const IN_MEMORY_LIMIT = 16 * 1024 * 1024;
const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);
/**
 * Quality 0: on SQL/BSON dumps within ~10% of gzip -1's size at 2.5-3.5x its speed; compression is
 * most of a publish's CPU (see scripts/bench/dump-versioning.ts).
 */
const brotliOptions = (size: number): BrotliOptions => ({
  params: { [constants.BROTLI_PARAM_QUALITY]: 0, [constants.BROTLI_PARAM_SIZE_HINT]: Math.min(size, 2 ** 31) },
});

/**
 * A whole file in one read request. fs.readFile reads in 512 KiB pieces, each a separate thread-pool
 * task that queues behind the (much longer) compression tasks of the other files in flight.
 */
export async function readWhole(file: string, size: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(size);
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(buffer, offset, size - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    if (offset !== size) {
      throw new InvalidInputError('dump-file-changed', `dump file ${file} shrank from ${size} to ${offset} bytes while it was published; let the dumpers finish before publishing`);
    }
    return buffer;
  } finally {
    await handle.close();
  }
}

/**
 * The body of one blob: in-memory bytes are compressed on the libuv thread pool (off the main
 * thread, in parallel); large files stream through a multipart upload. Fastest levels: dumps
 * compress well even so.
 */
export async function blobBody(file: string, bytes: Buffer | undefined, size: number, compression: Compression): Promise<StoreBody> {
  if (bytes) {
    if (compression === 'gzip') return gzipAsync(bytes, { level: 1 });
    if (compression === 'brotli') return brotliAsync(bytes, brotliOptions(size));
    return bytes;
  }
  return {
    stream: () => {
      const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
      if (compression === 'gzip') return source.pipe(createGzip({ level: 1 }));
      if (compression === 'brotli') return source.pipe(createBrotliCompress(brotliOptions(size)));
      return source;
    },
  };
}
