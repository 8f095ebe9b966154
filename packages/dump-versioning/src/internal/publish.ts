import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import { createGzip, gzip } from 'node:zlib';
import { DumpVersioningError, InvalidInputError, NotFoundError, PublishWarning } from './errors.js';
import type { AncestryChecker } from './git.js';
import {
  SCHEMA_VERSION,
  computeVersion,
  decodeBranchRef,
  decodeCommitEntry,
  decodeManifest,
  encodeBranchRef,
  encodeCommitEntry,
  encodeManifest,
  isCommitSha,
  isServiceName,
  type BranchRef,
  type CommitEntry,
  type Compression,
  type DumpFile,
  type EngineInfo,
  type MigrationsInfo,
  type SourceInfo,
  type ToolInfo,
  type VersionManifest,
} from './manifest.js';
import { progressCounter, type ProgressListener } from './progress.js';
import { describeDumpFile, listDumpDirectory, mapLimit } from './scan.js';
import { layout, type Store, type StoreBody } from './store.js';

/** Steps of the lockstep protocol, in order; `blob` fires after each uploaded blob. */
export type PublishStep = 'blob' | 'blobs' | 'version' | 'commit' | 'ref';

export interface PublishOptions {
  store: Store;
  service: string;
  /** The dump set directory (mysql/..., mongo/...). */
  dir: string;
  source: SourceInfo & { branch: string };
  /** Decides "forward only" for the ref; usually gitAncestry(repoDir). */
  ancestry: AncestryChecker;
  migrations?: MigrationsInfo;
  engines?: { mysql?: EngineInfo; mongo?: EngineInfo };
  tool?: ToolInfo;
  compression?: Compression;
  concurrency?: number;
  onProgress?: ProgressListener;
  /** Called after each step; throwing aborts the publish there (crash injection in tests). */
  afterStep?: (step: PublishStep) => void | Promise<void>;
  /** Clock for createdAt/updatedAt (tests). */
  now?: () => Date;
}

export type RefOutcome =
  | 'created' // first ref of the branch
  | 'advanced' // moved forward to this commit
  | 'unchanged' // already at this commit and version
  | 'not-advanced'; // left alone: newer, diverged or undecided (see warnings)

export interface PublishResult {
  service: string;
  version: string;
  commit: string;
  branch: string;
  files: DumpFile[];
  /** True when this version differs from the one the ref named before (or there was no ref). */
  changed: boolean;
  /** True when the version manifest did not exist in the store before. */
  versionCreated: boolean;
  blobsUploaded: number;
  bytesUploaded: number;
  manifestKey: string;
  ref: { outcome: RefOutcome; previous?: { commit: string; version: string } };
  warnings: DumpVersioningError[];
}

const REF_ATTEMPTS = 50;
const DEFAULT_TOOL: ToolInfo = { name: '@org/dump-versioning', version: '0.1.0' };

/** Files up to this size are read once, hashed and compressed in memory, and sent in one request. */
const IN_MEMORY_LIMIT = 16 * 1024 * 1024;
const gzipAsync = promisify(gzip);

/**
 * The body of one blob: in-memory bytes are compressed on the libuv thread pool (off the main
 * thread, in parallel); large files stream through a multipart upload.
 */
async function blobBody(file: string, bytes: Buffer | undefined, compression: Compression): Promise<StoreBody> {
  if (bytes) return compression === 'gzip' ? gzipAsync(bytes, { level: 1 }) : bytes;
  return {
    stream: () => {
      const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
      return compression === 'gzip' ? source.pipe(createGzip({ level: 1 })) : source;
    },
  };
}

/**
 * Publishes a dump set with the lockstep protocol: blobs (create-only), version manifest, commit
 * index entry, then a forward-only compare-and-swap of the branch ref. Each object is written only
 * after everything it names exists, so a crash at any point leaves nothing dangling and a re-run
 * completes the publish.
 */
export async function publish(options: PublishOptions): Promise<PublishResult> {
  const { store, service, source } = options;
  if (!isServiceName(service)) throw new InvalidInputError('bad-service', `service name ${JSON.stringify(service)} is invalid; use letters, digits, ".", "_" or "-"`);
  if (!isCommitSha(source.commit)) throw new InvalidInputError('bad-commit', `commit ${JSON.stringify(source.commit)} is not a full 40-character sha; resolve it with git rev-parse first`);
  if (!source.branch) throw new InvalidInputError('bad-branch', 'branch is empty; pass the branch the commit belongs to (e.g. master)');
  const compression = options.compression ?? 'gzip';
  const concurrency = options.concurrency ?? 4;
  const now = options.now ?? (() => new Date());
  const afterStep = options.afterStep ?? (() => undefined);
  const tool = options.tool ?? DEFAULT_TOOL;
  const warnings: DumpVersioningError[] = [];

  const dir = path.resolve(options.dir);
  const relatives = await listDumpDirectory(dir);
  // Blobs of the version the branch ref names exist (its manifest was written after them and
  // retention keeps it), so unchanged files need no request at all. Fetched while hashing.
  const knownBlobs = blobsOfRefVersion(store, service, source.branch, compression);
  knownBlobs.catch(() => undefined);

  // 1. Hash each file and upload it right away when it is new (create-only), overlapping hashing
  //    of the other files with the uploads.
  let blobsUploaded = 0;
  let bytesUploaded = 0;
  // Progress advances by whole files once each is hashed and stored (or known to be stored).
  const sizes = await Promise.all(relatives.map(async (relative) => (await stat(path.join(dir, ...relative.split('/')))).size));
  const fileDone = progressCounter('upload', sizes.reduce((sum, size) => sum + size, 0), options.onProgress);
  const files = await mapLimit(relatives, concurrency, async (relative, index) => {
    const absolute = path.join(dir, ...relative.split('/'));
    const bytes = (sizes[index] ?? Infinity) <= IN_MEMORY_LIMIT ? await readFile(absolute) : undefined;
    const file = await describeDumpFile(dir, relative, compression, bytes);
    const key = layout.blob(service, file.sha256, compression);
    if ((await knownBlobs).has(key) || (await store.exists(key))) {
      fileDone(file.size);
      return file;
    }
    const body = await blobBody(absolute, bytes, compression);
    if ((await store.putIfAbsent(key, body)) === 'created') {
      blobsUploaded++;
      bytesUploaded += file.size;
    }
    fileDone(file.size);
    await afterStep('blob');
    return file;
  });
  await afterStep('blobs');
  const version = computeVersion(files);
  const manifestKey = layout.version(service, version);
  const existing = await store.get(manifestKey);
  if (existing) decodeManifest(existing.body.toString('utf8'), `${store.location}/${manifestKey}`);

  // 2a. Version manifest (first producer of a version wins; identity makes them equivalent).
  const createdAt = now().toISOString();
  const optional = {
    ...(options.migrations ? { migrations: options.migrations } : {}),
    ...(options.engines ? { engines: options.engines } : {}),
  };
  let versionCreated = false;
  if (!existing) {
    const manifest: VersionManifest = { schemaVersion: SCHEMA_VERSION, service, version, files, source, ...optional, tool, createdAt };
    versionCreated = (await store.putIfAbsent(manifestKey, Buffer.from(encodeManifest(manifest)))) === 'created';
  }
  await afterStep('version');

  // 2b. Commit index entry; a re-run that produced a different version replaces it (with a warning).
  const commitKey = layout.commit(service, source.commit);
  const entry: CommitEntry = { schemaVersion: SCHEMA_VERSION, service, version, source, ...optional, tool, createdAt };
  for (let attempt = 0; ; attempt++) {
    const current = await store.get(commitKey);
    const decoded = current ? decodeCommitEntry(current.body.toString('utf8'), `${store.location}/${commitKey}`) : undefined;
    if (decoded?.version === version) break;
    if (decoded) {
      warnings.push(new PublishWarning('commit-version-replaced', `commit ${source.commit} was published before as version ${decoded.version} and now gives ${version}; the dumps are not deterministic or the engines changed`));
    }
    if ((await store.putIfMatch(commitKey, Buffer.from(encodeCommitEntry(entry)), current?.etag)) === 'written') break;
    if (attempt >= REF_ATTEMPTS) throw new DumpVersioningError('commit-entry-contended', `could not write ${commitKey} after ${REF_ATTEMPTS} attempts; retry the publish`);
  }
  await afterStep('commit');

  // 3. Forward-only compare-and-swap of the branch ref.
  const ref = await advanceRef(options, version, now, warnings);
  await afterStep('ref');

  return {
    service,
    version,
    commit: source.commit,
    branch: source.branch,
    files,
    changed: ref.previous?.version !== version,
    versionCreated,
    blobsUploaded,
    bytesUploaded,
    manifestKey,
    ref,
    warnings,
  };
}

/** Blob keys listed by the manifest of the version the branch ref names (empty when there is none). */
async function blobsOfRefVersion(store: Store, service: string, branch: string, compression: Compression): Promise<Set<string>> {
  const refKey = layout.ref(service, branch);
  const ref = await store.get(refKey);
  if (!ref) return new Set();
  const { version } = decodeBranchRef(ref.body.toString('utf8'), `${store.location}/${refKey}`);
  const manifestKey = layout.version(service, version);
  const manifest = await store.get(manifestKey);
  if (!manifest) return new Set();
  const { files } = decodeManifest(manifest.body.toString('utf8'), `${store.location}/${manifestKey}`);
  return new Set(files.filter((file) => file.compression === compression).map((file) => layout.blob(service, file.sha256, compression)));
}

async function advanceRef(options: PublishOptions, version: string, now: () => Date, warnings: DumpVersioningError[]): Promise<PublishResult['ref']> {
  const { store, service, source } = options;
  const refKey = layout.ref(service, source.branch);
  const where = `${store.location}/${refKey}`;
  const next: BranchRef = { schemaVersion: SCHEMA_VERSION, service, branch: source.branch, commit: source.commit, version, updatedAt: '' };
  let firstPrevious: { commit: string; version: string } | undefined;
  for (let attempt = 0; attempt < REF_ATTEMPTS; attempt++) {
    const current = await store.get(refKey);
    const ref = current ? decodeBranchRef(current.body.toString('utf8'), where) : undefined;
    const previous = ref ? { commit: ref.commit, version: ref.version } : undefined;
    firstPrevious ??= previous;
    if (ref && ref.commit === source.commit && ref.version === version) return { outcome: 'unchanged', ...(previous ? { previous } : {}) };
    if (ref && ref.commit !== source.commit) {
      const answer = await options.ancestry(ref.commit, source.commit);
      if (answer !== true) {
        const reason = await notForwardReason(options, ref.commit, answer);
        warnings.push(new PublishWarning(reason.code, `ref ${source.branch} of ${service} left at ${ref.commit}: ${reason.message}`));
        return { outcome: 'not-advanced', ...(previous ? { previous } : {}) };
      }
    }
    const body = Buffer.from(encodeBranchRef({ ...next, updatedAt: now().toISOString() }));
    if ((await store.putIfMatch(refKey, body, current?.etag)) === 'written') {
      return { outcome: ref ? 'advanced' : 'created', ...(firstPrevious ? { previous: firstPrevious } : {}) };
    }
    // Another publisher moved the ref: back off a little and decide again against its new value.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(10 * 2 ** attempt, 250)));
  }
  throw new DumpVersioningError('ref-contended', `ref ${source.branch} of ${service} kept changing during ${REF_ATTEMPTS} attempts; the commit index entry is written, re-run the publish to move the ref`);
}

async function notForwardReason(options: PublishOptions, refCommit: string, answer: false | { undecided: string }) {
  if (answer !== false) return { code: 'ancestry-undecided', message: `cannot tell whether ${options.source.commit} descends from it: ${answer.undecided}` };
  const reverse = await options.ancestry(options.source.commit, refCommit);
  if (reverse === true) return { code: 'ref-is-newer', message: `it already names a newer commit (${options.source.commit} is its ancestor); an older run finished late` };
  return { code: 'ref-diverged', message: `${options.source.commit} does not descend from it (history rewritten or a different branch)` };
}

/** Reads a version manifest, failing with NotFoundError when the version is unknown. */
export async function readManifest(store: Store, service: string, version: string): Promise<VersionManifest> {
  const key = layout.version(service, version);
  const object = await store.get(key);
  if (!object) throw new NotFoundError('unknown-version', `version ${version} of service ${service} is not in ${store.location}; run \`devstack-dumps list --service ${service}\` to see the published versions`);
  return decodeManifest(object.body.toString('utf8'), `${store.location}/${key}`);
}
