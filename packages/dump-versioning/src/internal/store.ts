import type { Readable } from 'node:stream';
import type { Compression } from './manifest.js';

/** Bytes to store: a buffer, or a factory for a fresh stream (so a failed upload can be retried). */
export type StoreBody = Buffer | StreamBody;
export interface StreamBody {
  stream: () => Readable;
  size?: number;
}

export interface StoredObject {
  body: Buffer;
  /** Opaque token for compare-and-swap with putIfMatch. */
  etag: string;
}

export interface StoredObjectInfo {
  /** Key relative to the store root. */
  key: string;
  size: number;
  lastModified: Date;
}

/**
 * The object operations dump-versioning needs; keys are `/`-separated and relative to the store's root
 * (bucket prefix or directory). Implementations must make every write all-or-nothing.
 */
export interface Store {
  /** Printable location with secrets removed, e.g. `s3://bucket/prefix` or an absolute directory. */
  readonly location: string;
  get(key: string): Promise<StoredObject | undefined>;
  getStream(key: string): Promise<Readable | undefined>;
  exists(key: string): Promise<boolean>;
  /**
   * Writes only if the key does not exist yet; an existing object is left untouched. Aborting `signal` stops
   * a write in flight (S3: the multipart upload is aborted too) and rejects with the signal's reason.
   */
  putIfAbsent(key: string, body: StoreBody, onBytes?: (bytes: number) => void, signal?: AbortSignal): Promise<'created' | 'exists'>;
  /**
   * Compare-and-swap: writes when the current etag equals `etag` (or, with `etag` undefined, when the
   * key does not exist). Returns 'conflict' when another writer got there first.
   */
  putIfMatch(key: string, body: Buffer, etag: string | undefined): Promise<'written' | 'conflict'>;
  list(prefix: string): AsyncIterable<StoredObjectInfo>;
  delete(keys: ReadonlyArray<string>): Promise<void>;
  close(): Promise<void>;
  /**
   * Optional check of the store's root before an operation. `read`: a root that does not exist fails
   * (StoreConfigError `store-missing`) instead of looking like an empty store; `write`: only a root that
   * can never be created (a file) fails (`store-not-directory`), since a publish creates it. Stores
   * without it (S3) report a missing bucket on their first request.
   */
  checkRoot?(mode: 'read' | 'write'): Promise<void>;
  /**
   * S3: multipart uploads under `prefix` that were started and never completed nor aborted (a publish killed
   * mid-upload). Their parts are billed but invisible to `list`. Stores without such uploads omit it.
   */
  listIncompleteUploads?(prefix: string): AsyncIterable<IncompleteUpload>;
  /** Aborts them (frees their parts); one already gone is no error. */
  abortIncompleteUploads?(uploads: ReadonlyArray<IncompleteUpload>): Promise<void>;
}

/** A multipart upload neither completed nor aborted; see Store.listIncompleteUploads. */
export interface IncompleteUpload {
  /** Key relative to the store root. */
  key: string;
  uploadId: string;
  initiated: Date;
}

const BLOB_SUFFIX: Record<Compression, string> = { none: '', gzip: '.gz', brotli: '.br' };

/** Keys of the store layout, per service. */
export const layout = {
  blob: (service: string, sha256: string, compression: Compression) => `${service}/blobs/sha256/${sha256}${BLOB_SUFFIX[compression]}`,
  blobsPrefix: (service: string) => `${service}/blobs/`,
  version: (service: string, version: string) => `${service}/versions/${version}.json`,
  versionsPrefix: (service: string) => `${service}/versions/`,
  migrations: (service: string, sha256: string) => `${service}/migrations/sha256/${sha256}.json`,
  migrationsPrefix: (service: string) => `${service}/migrations/`,
  commit: (service: string, commit: string) => `${service}/commits/${commit}.json`,
  commitsPrefix: (service: string) => `${service}/commits/`,
  // Branch names may contain `/`; encoding keeps one object per branch.
  ref: (service: string, branch: string) => `${service}/refs/${encodeURIComponent(branch)}.json`,
  refsPrefix: (service: string) => `${service}/refs/`,
  // Leases between prune and publishes that reuse unreferenced objects (leases.ts).
  leasesPrefix: (service: string) => `${service}/locks/`,
  pruneLease: (service: string) => `${service}/locks/prune.json`,
  publishLease: (service: string, id: string) => `${service}/locks/publish-${id}.json`,
};

/** Parses a blob key back into digest and compression. */
export function parseBlobKey(key: string): { sha256: string; compression: Compression } | undefined {
  const match = /\/blobs\/sha256\/([0-9a-f]{64})(\.gz|\.br)?$/.exec(key);
  if (!match?.[1]) return undefined;
  return { sha256: match[1], compression: match[2] === '.gz' ? 'gzip' : match[2] === '.br' ? 'brotli' : 'none' };
}
