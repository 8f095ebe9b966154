// Public API of @org/image-build: pure planning functions for `docker buildx bake` builds of several
// flavours of one Dockerfile, the cache-mount transfer, the cache lint and the build report.
export { BuilderCapabilityError, DockerfileError, ImageBuildError, InputError, EngineUnreachableError, ProgressStreamError, RegistryAuthError, RegistryHostError, RegistryUnavailableError, redactUserInfo } from './internal/errors.js';

export { DEFAULT_TARGETS, parseFlavourSuffixes, parseImageName, parseKeyValueList, parseTargets, resolveFlavours } from './internal/targets.js';
export type { Flavour } from './internal/targets.js';

export { branchOf, computeTags, defaultPush, flavourTags, isPullRequest, ociLabels, parseExtraTags, sanitizeTag, sourceDateEpoch } from './internal/git-tags.js';
export type { GitContext, TagPlan } from './internal/git-tags.js';

export { CACHE_MODES, cacheScopes, describeCachePlan, parseCacheMode, planCache, registryCacheRef, swapLocalCache } from './internal/cache-scopes.js';
export type { CacheMode, CachePlan, CachePlanOptions, CacheScopes } from './internal/cache-scopes.js';

export { bakeDefinition, checkProvenanceProxies, checkProxyConflicts, getBakeArgs, parseBuildArgs, parsePlatforms, parseProvenance, splitBuildAndPush } from './internal/bake.js';
export type { BakeDefinition, BakeOptions, BakeRun, BakeTarget, OutputMode } from './internal/bake.js';

export { credentialsOf, parseBuildSecrets, parseMirrors, writeSecretFiles } from './internal/mirrors.js';
export type { BuildSecretFile, MirrorSettings } from './internal/mirrors.js';

export { findStage, parseDockerfile, resolveFromImage, rootStageOf, splitImageRef, stageClosure } from './internal/dockerfile-model.js';
export type { DockerfileModel, Stage, Step } from './internal/dockerfile-model.js';

export {
  CacheMountKeyError,
  cacheMountKey,
  cacheMountKeyFor,
  describeUnresolvedCacheMount,
  findCacheMounts,
  findCopiedLockfiles,
  platformArgs,
  resolveCacheMounts,
} from './internal/cache-mounts.js';
export type { BuildVariables, CacheMount, CacheMountKey, MissingVariable, UnresolvedCacheMount } from './internal/cache-mounts.js';
export {
  extractArgs,
  extractDockerfile,
  hashDirectory,
  helperImageFor,
  injectArgs,
  injectDockerfile,
  mountDirName,
  shouldSaveCacheMounts,
  transferableMounts,
} from './internal/cache-mount-transfer.js';

export { lintDockerfile, parseLintLevel, readContextFacts } from './internal/lint.js';
export type { ContextFacts, LintFinding, LintLevel, LintRule } from './internal/lint.js';

export { parseRawJson, RawJsonReader } from './internal/rawjson.js';
export type { SolveStatus } from './internal/rawjson.js';
export { ProgressLog } from './internal/progress-log.js';
export { buildReport, changedFilesInContext } from './internal/report.js';
export { instructionFingerprint } from './internal/miss-cause.js';
export type { BuildReport, FlavourReport, MissCause, ReportOptions, StepReport } from './internal/report.js';
export type { ContextIgnore } from './internal/context-ignore.js';
export {
  BuildRecordError,
  buildArgFingerprints,
  buildRecordKeys,
  buildRecordOf,
  parseBuildRecord,
  previousFromRecord,
  sameBuildRecord,
  scopeOfRecordKey,
  serializeBuildRecord,
} from './internal/build-record.js';
export type { BuildRecord, BuildRecordKeyOptions, BuildRecordKeys } from './internal/build-record.js';
export { buildOutputs, describeCause, formatBytes, NO_STEPS, reportMarkdown, stepLabel } from './internal/summary.js';
export type { BakeMetadata, FlavourSizes } from './internal/summary.js';
export { imageBlobs, layerBytes, ManifestError, manifestLookupOutcome, newBlobs, parseManifest } from './internal/manifests.js';
export type { BlobRef, ManifestLookupOutcome, ParsedManifest } from './internal/manifests.js';

export { builderCapabilityProblem, builderInspectArgs, builderPlatformOf, builderProblem, imageStoreArgs, nativePlatformOf, usesContainerdStore } from './internal/engine.js';
export { backoffDelay, classifyRegistryError, loginArgs, redact, registryHost, withRegistryRetry } from './internal/retry.js';
export type { RetryOptions } from './internal/retry.js';
