import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Transform, pipeline, type Readable } from 'node:stream';
import { IN_MEMORY_LIMIT, chooseCompression, compressBytes, readWhole, streamedBlobBody, worthCompressing } from './blob-body.js';
import type { Compression, DumpFile } from './manifest.js';
import { createLimiter, early, mapLimit } from './concurrency.js';
import { InvalidInputError } from './errors.js';
import { describeDumpFile, hashFile } from './scan.js';
import { layout, type Store, type StreamBody } from './store.js';

/** Files hashed, compressed or uploading at once (bounds open files; memory is bounded by bytes below). */
const FILES_IN_FLIGHT = 16;
/** Bytes of in-memory files held at once (read, compressed, not yet uploaded): four of the largest. */
const MEMORY_BUDGET = 4 * IN_MEMORY_LIMIT;

export interface StoreBlobsOptions {
  store: Store;
  service: string;
  dir: string;
  /** Listed files (byte order) and their sizes. */
  relatives: ReadonlyArray<string>;
  sizes: ReadonlyArray<number>;
  /** How new blobs are stored (files whose sample barely shrinks are stored uncompressed). */
  compression: Compression;
  /** Blobs known to exist (the branch ref's version) by file digest, in the compression they were stored with. */
  knownBlobs: Promise<Map<string, Compression>>;
  /** Uploads in flight. */
  uploads: number;
  /** After each file is hashed and stored (or known to be stored). */
  onFileDone: (size: number) => void;
  /** After each blob this publish created (and its onFileDone); throwing aborts the publish. */
  afterBlob: () => void | Promise<void>;
}

export interface StoredBlobs {
  files: DumpFile[];
  blobsUploaded: number;
  /** Bytes this publish stored: the sizes of the blobs it created, as stored (compressed). */
  bytesUploaded: number;
  /** The uncompressed size of the files whose blobs this publish created. */
  bytesUploadedUncompressed: number;
  reused: ReusedObject[];
  viaRef: ReusedObject[];
}

/**
 * Hashes every file and uploads each one the store lacks, create-only. Files flow through read+hash
 * (main thread), compression (thread pool, one file per core, so the first ones finish early) and
 * upload, each stage with its own limit: uploads overlap the compression of the next files instead of
 * waiting for it, and compression never waits for uploads. Largest files go first (shortest tail).
 */
export async function storeBlobs(options: StoreBlobsOptions): Promise<StoredBlobs> {
  const { store, service, dir, relatives, sizes, compression } = options;
  const memory = createLimiter(MEMORY_BUDGET);
  const compressing = createLimiter(availableParallelism());
  const uploading = createLimiter(options.uploads);
  const reading = createLimiter(2);
  const files = new Array<DumpFile>(relatives.length);
  let blobsUploaded = 0;
  let bytesUploaded = 0;
  let bytesUploadedUncompressed = 0;
  const reused: ReusedObject[] = [];
  const viaRef: ReusedObject[] = [];
  /** `stored`: bytes written to the store when `created`. */
  const sameContent = new Map<string, Promise<{ file: DumpFile; created: boolean; stored: number }>>();

  const storeFile = async (index: number) => {
    const relative = relatives[index]!;
    const absolute = path.join(dir, ...relative.split('/'));
    const size = sizes[index] ?? Infinity;
    // Read and hashed two at a time: with every file read at once, hashing them all (on the main thread)
    // held back the compression of the first ones behind the reads and hashes of the rest.
    const { bytes, described } = await reading(async () => {
      const bytes = size <= IN_MEMORY_LIMIT ? await readWhole(absolute, size) : undefined;
      return { bytes, described: await describeDumpFile(dir, relative, compression, bytes) };
    });
    // Files with the same content share one blob: the first stores it, the others wait for it. (Racing
    // each other, the loser would see the winner's fresh blob as one reused from the store.)
    const first = sameContent.get(described.sha256);
    if (first) return { file: { ...described, compression: (await first).file.compression }, created: false, stored: 0 };
    const stored = storeContent(absolute, size, bytes, described);
    sameContent.set(described.sha256, stored);
    return stored;
  };

  const storeContent = async (absolute: string, size: number, bytes: Buffer | undefined, described: Omit<DumpFile, 'compression'>) => {
    const keyOf = (how: Compression) => layout.blob(service, described.sha256, how);
    // An unchanged file keeps the blob the ref's version stored (even if compressed another way). It is
    // still checked (a cheap HEAD): a blob deleted from a damaged store is uploaded again, so re-publishing
    // repairs the store.
    const stored = (await options.knownBlobs).get(described.sha256);
    if (stored !== undefined) {
      if (await store.exists(keyOf(stored))) {
        viaRef.push(reusedBlob(store, keyOf(stored), absolute, described.sha256, size, stored));
        return { file: { ...described, compression: stored }, created: false, stored: 0 };
      }
      if (bytes) {
        const body = stored === 'none' ? bytes : await compressing(() => compressBytes(bytes, stored));
        const created = await uploading(async () => (await store.putIfAbsent(keyOf(stored), body)) === 'created');
        if (!created) reused.push(reusedBlob(store, keyOf(stored), absolute, described.sha256, size, stored));
        return { file: { ...described, compression: stored }, created, stored: created ? body.length : 0 };
      }
      const body = countingBody(streamedBlobBody(absolute, size, stored));
      const upload = () => uploading(async () => (await store.putIfAbsent(keyOf(stored), body)) === 'created');
      const created = await (stored === 'none' ? upload() : compressing(upload));
      if (!created) reused.push(reusedBlob(store, keyOf(stored), absolute, described.sha256, size, stored));
      return { file: { ...described, compression: stored }, created, stored: created ? body.bytes() : 0 };
    }
    if (bytes) {
      // Compress while asking whether the blob exists: a file the ref's version lacks is almost always new.
      const present = early(store.exists(keyOf(compression)));
      const compressed = compression === 'none' ? bytes : await compressing(() => compressBytes(bytes, compression));
      // A blob stored in the requested compression is reused whatever the size check says now.
      const how: Compression = (await present) || (compression !== 'none' && worthCompressing(size, compressed.length)) ? compression : 'none';
      const exists = how === compression ? await present : await store.exists(keyOf(how));
      const body = how === 'none' ? bytes : compressed;
      const created = !exists && (await uploading(async () => (await store.putIfAbsent(keyOf(how), body)) === 'created'));
      if (!created) reused.push(reusedBlob(store, keyOf(how), absolute, described.sha256, size, how));
      return { file: { ...described, compression: how }, created, stored: created ? body.length : 0 };
    }
    // A streamed (large) file is compressed while it uploads, so its upload also holds a core.
    const how = await chooseCompression(absolute, undefined, size, compression);
    const present = early(store.exists(keyOf(how)));
    const body = countingBody(streamedBlobBody(absolute, size, how));
    const upload = () => uploading(async () => (await store.putIfAbsent(keyOf(how), body)) === 'created');
    const created = !(await present) && (await (how === 'none' ? upload() : compressing(upload)));
    if (!created) reused.push(reusedBlob(store, keyOf(how), absolute, described.sha256, size, how));
    return { file: { ...described, compression: how }, created, stored: created ? body.bytes() : 0 };
  };

  const largestFirst = relatives.map((_, index) => index).sort((a, b) => (sizes[b] ?? 0) - (sizes[a] ?? 0) || a - b);
  await mapLimit(largestFirst, FILES_IN_FLIGHT, async (index) => {
    const size = sizes[index] ?? 0;
    // Streamed files hold no more than their upload's parts, so only in-memory ones count against the budget.
    const { file, created, stored } = await memory(() => storeFile(index), size <= IN_MEMORY_LIMIT ? size : 0);
    files[index] = file;
    if (created) {
      blobsUploaded++;
      bytesUploaded += stored;
      bytesUploadedUncompressed += file.size;
    }
    options.onFileDone(file.size);
    if (created) await options.afterBlob();
  });
  return { files, blobsUploaded, bytesUploaded, bytesUploadedUncompressed, reused, viaRef };
}

/**
 * A streamed body that counts what it produces: the compressed size is only known once it is stored.
 * Each stream starts the count again, since a retried upload makes a fresh one.
 */
function countingBody(body: StreamBody): StreamBody & { bytes: () => number } {
  let count = 0;
  return {
    ...body,
    stream: (): Readable => {
      count = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          count += chunk.length;
          callback(null, chunk);
        },
      });
      return pipeline(body.stream(), meter, () => undefined);
    },
    bytes: () => count,
  };
}

/**
 * An object a publish found already stored instead of writing it: `reused` ones no kept version may name
 * (retention may be deleting them, leases.ts), `viaRef` ones the branch ref's version names (safe while
 * the ref still names that version). Checked again under a publish lease, and re-created when gone.
 */
export interface ReusedObject {
  key: string;
  recreate: () => Promise<unknown>;
}

function reusedBlob(store: Store, key: string, file: string, sha256: string, size: number, compression: Compression): ReusedObject {
  return {
    key,
    recreate: async () => {
      const changed = () => new InvalidInputError('dump-file-changed', `dump file ${file} changed while it was published; let the dumpers finish before publishing`);
      if (size > IN_MEMORY_LIMIT) {
        if ((await hashFile(file)).sha256 !== sha256) throw changed();
        return store.putIfAbsent(key, streamedBlobBody(file, size, compression));
      }
      const bytes = await readWhole(file, size);
      if (createHash('sha256').update(bytes).digest('hex') !== sha256) throw changed();
      return store.putIfAbsent(key, await compressBytes(bytes, compression));
    },
  };
}
