export {
  DumpVersioningError,
  GitError,
  IntegrityError,
  InvalidInputError,
  ManifestError,
  NotFoundError,
  PublishWarning,
  StoreAccessError,
  StoreConfigError,
  UnsafePathError,
} from './internal/errors.js';
export {
  SCHEMA_VERSION,
  computeVersion,
  decodeBranchRef,
  decodeCommitEntry,
  decodeManifest,
  encodeBranchRef,
  encodeCommitEntry,
  encodeManifest,
} from './internal/manifest.js';
export type {
  BranchRef,
  CommitEntry,
  Compression,
  DumpFile,
  EngineInfo,
  MigrationsInfo,
  MigrationsScope,
  MigrationsRecordRef,
  SchemaVersion,
  SourceInfo,
  ToolInfo,
  VersionManifest,
} from './internal/manifest.js';
export type { DumpKind } from './internal/paths.js';
export { naturalOrder } from './internal/order.js';
export {
  DEFAULT_MIGRATION_GLOBS,
  appForPeople,
  classifyFingerprintChange,
  fingerprintMigrationFiles,
  fingerprintMigrations,
  migrationFilesChangedSinceHead,
  migrationsScopeOf,
} from './internal/fingerprint.js';
export type { AppFingerprint, FingerprintChange, MigrationFingerprint, MigrationRecord, MigrationRef } from './internal/fingerprint.js';
export type { Store, StoreBody, StoredObject, StoredObjectInfo, StreamBody } from './internal/store.js';
export { DEFAULT_STORE, maskUrl, openStore } from './internal/open-store.js';
export type { OpenStoreOptions } from './internal/open-store.js';
export { commitTime, gitAncestry, resolveCommit, workingTreeRoot } from './internal/git.js';
export type { AncestryAnswer, AncestryChecker } from './internal/git.js';
export type { ProgressEvent, ProgressListener } from './internal/progress.js';
export { publish, readManifest } from './internal/publish.js';
export type { PublishOptions, PublishResult, PublishStep, RefOutcome } from './internal/publish.js';
export { readMigrations } from './internal/migrations-record.js';
export { list, readBranchRef, readCommitEntry, unknownService } from './internal/query.js';
export type { ListResult } from './internal/query.js';
export { DEFAULT_MAX_DISTANCE, resolve } from './internal/resolve.js';
export type { Resolution, ResolveOptions } from './internal/resolve.js';
export { checkBranchName } from './internal/branch-name.js';
export { resolveVersion } from './internal/version-id.js';
export { pull, sweepInterruptedPulls } from './internal/pull.js';
export type { PullOptions, PullResult } from './internal/pull.js';
export { verify } from './internal/verify.js';
export type { VerifyOptions, VerifyProblem, VerifyResult } from './internal/verify.js';
export { diff } from './internal/diff.js';
export type { ChangedFile, DiffContext, DiffDetailHook, DiffResult } from './internal/diff.js';
export { prune } from './internal/prune.js';
export type { PruneOptions, PruneResult } from './internal/prune.js';
// Who holds a lock, and whether that process has ended (the CLI's cache locks use the same check).
export { currentHolder, holderGone, processStartOf } from './internal/holder.js';
export type { Holder } from './internal/holder.js';
