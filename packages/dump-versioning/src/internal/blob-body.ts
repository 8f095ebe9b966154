import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { promisify } from 'node:util';
import { brotliCompress, constants, createBrotliCompress, createGzip, gzip, type BrotliOptions, type ZlibOptions } from 'node:zlib';
import { InvalidInputError } from './errors.js';
import type { Compression } from './manifest.js';
import type { StreamBody } from './store.js';

/** Files up to this size are read once, hashed and compressed in memory, and sent in one request. */
export const IN_MEMORY_LIMIT = 16 * 1024 * 1024;
const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);
/** Output pieces of streamed compression (large files): one thread-pool task per 1 MiB read. */
const STREAM_CHUNK = 1024 * 1024;
/**
 * Quality 0: on SQL/BSON dumps within ~10% of gzip -1's size at ~3x its speed (300 and 180 MB/s per
 * core here); compression is most of a publish's CPU (see scripts/bench/dump-versioning.ts).
 */
const brotliOptions = (size: number): BrotliOptions => ({
  params: { [constants.BROTLI_PARAM_QUALITY]: 0, [constants.BROTLI_PARAM_SIZE_HINT]: Math.min(size, 2 ** 31) },
});
const gzipOptions: ZlibOptions = { level: 1 };

/** Files smaller than this always get the requested compression (their upload time is negligible). */
const SAMPLE_MIN_SIZE = 256 * 1024;
const SAMPLE_PIECES = 4;
const SAMPLE_PIECE_SIZE = 32 * 1024;
/**
 * A file is stored uncompressed when its sample shrinks by less than this: already-compressed or
 * random data would cost compression CPU on publish and decompression on every pull for (almost) no
 * fewer bytes.
 */
const MIN_SAVING = 0.1;

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

/** Pieces spread over the file (start, middle, end), so a file whose head differs from its body is judged by both. */
async function readSample(file: string, bytes: Buffer | undefined, size: number): Promise<Buffer> {
  const offsets = Array.from({ length: SAMPLE_PIECES }, (_, i) => Math.floor(((size - SAMPLE_PIECE_SIZE) * i) / (SAMPLE_PIECES - 1)));
  if (bytes) return Buffer.concat(offsets.map((offset) => bytes.subarray(offset, offset + SAMPLE_PIECE_SIZE)));
  const handle = await open(file, 'r');
  try {
    const sample = Buffer.alloc(SAMPLE_PIECES * SAMPLE_PIECE_SIZE);
    let filled = 0;
    for (const offset of offsets) filled += (await handle.read(sample, filled, SAMPLE_PIECE_SIZE, offset)).bytesRead;
    return sample.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/**
 * Whether a compressed in-memory file is stored compressed: it must shrink by MIN_SAVING (small files
 * always are). Judged on the whole result, which an in-memory file has anyway, so it costs no extra
 * compression; depends on the content only, so the same file always gets the same blob key.
 */
export function worthCompressing(size: number, compressedSize: number): boolean {
  return size < SAMPLE_MIN_SIZE || compressedSize <= size * (1 - MIN_SAVING);
}

/**
 * How a new blob of a file too large to hold in memory is stored: the requested compression, or `none`
 * when a sample of the file barely shrinks (the compressed stream is uploaded while it is produced, so
 * the decision comes first). Depends on the content only, so the same file always gets the same blob key.
 */
export async function chooseCompression(file: string, bytes: Buffer | undefined, size: number, requested: Compression): Promise<Compression> {
  if (requested === 'none' || size < SAMPLE_MIN_SIZE) return requested;
  const sample = await readSample(file, bytes, size);
  // On the thread pool: the main thread is busy hashing and uploading the other files.
  const compressed = requested === 'gzip' ? await gzipAsync(sample, gzipOptions) : await brotliAsync(sample, brotliOptions(sample.length));
  return compressed.length <= sample.length * (1 - MIN_SAVING) ? requested : 'none';
}

/**
 * In-memory bytes compressed on the libuv thread pool in ONE task (the output chunk holds the whole
 * result), so compression neither blocks the main thread nor waits for it between chunks while the main
 * thread hashes and uploads other files.
 */
export async function compressBytes(bytes: Buffer, compression: Compression): Promise<Buffer> {
  // The whole input is one write, so finishing the stream with it yields one output chunk (no copy).
  // Compressed data rarely outgrows its input; if it does, zlib just takes a second chunk.
  const chunkSize = Math.max(64 * 1024, bytes.length + 1024);
  if (compression === 'gzip') return gzipAsync(bytes, { ...gzipOptions, chunkSize, flush: constants.Z_FINISH });
  if (compression === 'brotli') return brotliAsync(bytes, { ...brotliOptions(bytes.length), chunkSize, flush: constants.BROTLI_OPERATION_FINISH });
  return bytes;
}

/** The body of a blob too large to hold in memory: the file streamed through the compressor into a multipart upload. */
export function streamedBlobBody(file: string, size: number, compression: Compression): StreamBody {
  return {
    stream: () => {
      const source = createReadStream(file, { highWaterMark: STREAM_CHUNK });
      if (compression === 'none') return source;
      const compressor =
        compression === 'gzip' ? createGzip({ ...gzipOptions, chunkSize: STREAM_CHUNK }) : createBrotliCompress({ ...brotliOptions(size), chunkSize: STREAM_CHUNK });
      // pipeline (unlike pipe) passes a read error on to the compressor, so the upload fails instead of hanging.
      return pipeline(source, compressor, () => undefined);
    },
  };
}
