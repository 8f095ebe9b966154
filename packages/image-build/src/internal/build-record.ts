import { createHash } from 'node:crypto';
import type { DockerfileModel } from './dockerfile-model.js';
import { ImageBuildError } from './errors.js';
import { instructionFingerprint, isFrom, rootKey, splitBase } from './miss-cause.js';
import type { PreviousBuildFacts } from './miss-cause.js';
import { recordedStageInstructions, STAGE_ENTRY } from './stage-instructions.js';
import type { BuildReport } from './report.js';

/**
 * What one build leaves for the next one's cache-miss analysis: the digests its FROM images resolved
 * to and fingerprints of its build args per flavour. Kept outside the image (the action saves it in
 * the Actions cache), so it never changes an image digest.
 */
export interface BuildRecord {
  version: 1;
  /** `docker.io/library/python:3.12-slim` -> `sha256:...`, as BuildKit resolved the FROM steps. */
  baseImages: Record<string, string>;
  /** Per flavour, per build arg: `sha256:<hex>` of the value (values may be sensitive; only changes matter). */
  buildArgs: Record<string, Record<string, string>>;
  /**
   * Per stage, `instructionFingerprint`s of the steps that ran or were cached (FROM excluded), sorted:
   * tells an edited instruction from other misses. Absent in records of older versions.
   */
  instructions?: Record<string, string[]>;
  /**
   * Per root stage and platform (`<platform>|<stage>`, the platform empty for a one-platform build),
   * the image its FROM resolved to as `ref@sha256:...`: a new tag or another image is named as the
   * base image of that stage changing. Absent in older records (the report then compares
   * `baseImages` by reference only).
   */
  stageBases?: Record<string, string>;
  /**
   * Per stage, its instructions in Dockerfile order (FROM first, config-only ones such as LABEL left
   * out) as `<KEYWORD> sha256:<hex>`: an edited ENV/USER/SHELL/WORKDIR line or a deleted line before
   * a missed step is named. Kept when the Dockerfile model is given; absent in older records.
   */
  stageInstructions?: Record<string, string[]>;
}

/** A saved record that cannot be used (corrupt, another format version). Never fatal: there is just no `previous`. */
export class BuildRecordError extends ImageBuildError {
  readonly fatal = false;
  constructor(message: string) {
    super(message);
    this.name = 'BuildRecordError';
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `{ NAME: value }` -> `{ NAME: sha256:<hex> }`: compared like the values, without storing them. */
export function buildArgFingerprints(args: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(args).sort().map((name) => [name, `sha256:${sha256(args[name] as string)}`]));
}

const sortedEntries = <T>(record: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.keys(record).sort().map((key) => [key, record[key] as T]));

function instructionsOf(steps: BuildReport['steps']): Record<string, string[]> {
  const byStage = new Map<string, Set<string>>();
  for (const step of steps.filter((s) => !isFrom(s) && s.status !== 'not-started')) {
    const stage = (step.stage ?? '').toLowerCase();
    const set = byStage.get(stage) ?? new Set<string>();
    set.add(instructionFingerprint(step.instruction));
    byStage.set(stage, set);
  }
  return Object.fromEntries([...byStage].map(([stage, set]) => [stage, [...set].sort()]));
}

/** `<platform>|<stage>` -> `ref@sha256:...` of every FROM step: BuildKit names each after its own (root) stage. */
function stageBasesOf(steps: BuildReport['steps']): Record<string, string> {
  const bases: Record<string, string> = {};
  for (const step of steps.filter((s) => isFrom(s) && s.stage !== undefined)) {
    const ref = step.instruction.replace(/^FROM\s+/i, '').trim();
    if (splitBase(ref)) bases[rootKey(step.platform ?? '', step.stage)] = ref;
  }
  return sortedEntries(bases);
}

/**
 * The record of a finished build; `buildArgs` are the raw values per flavour (fingerprinted here).
 * With the Dockerfile `model` the record also keeps each stage's instructions in order.
 */
export function buildRecordOf(
  report: Pick<BuildReport, 'baseImages'> & Partial<Pick<BuildReport, 'steps'>>,
  buildArgs: Record<string, Record<string, string>>,
  model?: DockerfileModel,
): BuildRecord {
  return {
    version: 1,
    baseImages: sortedEntries(report.baseImages),
    buildArgs: sortedEntries(Object.fromEntries(Object.entries(buildArgs).map(([flavour, args]) => [flavour, buildArgFingerprints(args)]))),
    ...(report.steps ? { instructions: sortedEntries(instructionsOf(report.steps)), stageBases: stageBasesOf(report.steps) } : {}),
    ...(model ? { stageInstructions: sortedEntries(recordedStageInstructions(model)) } : {}),
  };
}

/** Stable JSON (sorted keys): equal records serialize to equal text. */
export function serializeBuildRecord(record: BuildRecord): string {
  const { version, baseImages, buildArgs, instructions, stageBases, stageInstructions } = record;
  return `${JSON.stringify({
    version,
    baseImages: sortedEntries(baseImages),
    buildArgs: sortedEntries(buildArgs),
    ...(instructions ? { instructions: sortedEntries(instructions) } : {}),
    ...(stageBases ? { stageBases: sortedEntries(stageBases) } : {}),
    ...(stageInstructions ? { stageInstructions: sortedEntries(stageInstructions) } : {}),
  })}\n`;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function stringMap(value: unknown, what: string, valid: (v: string) => boolean, expected = 'a sha256 digest'): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BuildRecordError(`${what} is not an object`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string' || !valid(v)) throw new BuildRecordError(`${what}.${key} is not ${expected}`);
  }
  return value as Record<string, string>;
}

/** Reads a saved record; throws BuildRecordError naming what is wrong. */
export function parseBuildRecord(text: string): BuildRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BuildRecordError(`the build record is not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null) throw new BuildRecordError('the build record is not an object');
  const record = value as Record<string, unknown>;
  if (record.version !== 1) throw new BuildRecordError(`the build record has version ${JSON.stringify(record.version)}, this action reads version 1`);
  const baseImages = stringMap(record.baseImages, 'baseImages', (v) => DIGEST.test(v));
  const flavours = record.buildArgs;
  if (typeof flavours !== 'object' || flavours === null || Array.isArray(flavours)) throw new BuildRecordError('buildArgs is not an object');
  const buildArgs: Record<string, Record<string, string>> = {};
  for (const [flavour, args] of Object.entries(flavours)) buildArgs[flavour] = stringMap(args, `buildArgs.${flavour}`, (v) => DIGEST.test(v));
  // Fields added after version 1 was out are optional: a record without them reads as before.
  return {
    version: 1,
    baseImages,
    buildArgs,
    ...(record.instructions === undefined ? {} : { instructions: instructionLists(record.instructions, 'instructions', DIGEST, 'sha256 digests') }),
    ...(record.stageBases === undefined ? {} : { stageBases: stringMap(record.stageBases, 'stageBases', (v) => splitBase(v) !== undefined, 'an image reference with a sha256 digest') }),
    ...(record.stageInstructions === undefined ? {} : { stageInstructions: instructionLists(record.stageInstructions, 'stageInstructions', STAGE_ENTRY, '`<KEYWORD> sha256:<hex>` entries') }),
  };
}

function instructionLists(value: unknown, what: string, entry: RegExp, expected: string): Record<string, string[]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BuildRecordError(`${what} is not an object`);
  for (const [stage, list] of Object.entries(value)) {
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string' && entry.test(v))) throw new BuildRecordError(`${what}.${stage} is not a list of ${expected}`);
  }
  return value as Record<string, string[]>;
}

export function sameBuildRecord(a: BuildRecord, b: BuildRecord): boolean {
  return serializeBuildRecord(a) === serializeBuildRecord(b);
}

/**
 * The report's `previous` from a record. The current build args must then be given to the report
 * as fingerprints too (`buildArgFingerprints`), so both sides compare alike.
 */
export function previousFromRecord(record: BuildRecord): PreviousBuildFacts {
  return {
    baseImages: { ...record.baseImages },
    buildArgs: { ...record.buildArgs },
    ...(record.instructions ? { instructions: { ...record.instructions } } : {}),
    ...(record.stageBases ? { stageBases: { ...record.stageBases } } : {}),
    ...(record.stageInstructions ? { stageInstructions: { ...record.stageInstructions } } : {}),
  };
}

export interface BuildRecordKeyOptions {
  /** Workspace-relative Dockerfile path. */
  dockerfile: string;
  /** The flavours this invocation builds: another set (another job on the same Dockerfile) keeps its own records. */
  flavours: ReadonlyArray<{ name: string; stage: string; image: string }>;
  /** Cache scopes as `cacheScopes` gives them: the one written (none for tags), and the read chain (own first). */
  scopes: { own?: string; read: string[] };
  sha: string;
  /** GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT, for whoever reads the cache list. */
  runId: string;
  runAttempt: string;
  /**
   * When this build started (ms since the epoch): cache entries are immutable, and one job may build
   * the same flavours twice, so every save needs a key of its own. The newest entry of a prefix wins.
   */
  now: number;
}

export interface BuildRecordKeys {
  /** Where this build's record is saved; undefined when the build writes no cache scope (nor a record). */
  key?: string;
  /** One prefix per scope of the read chain, in order: the newest record of the first scope that has one wins. */
  restoreKeys: string[];
}

const KEY_VERSION = 'build-image-record-v1';

/**
 * `build-image-record-v1-<id>/<scope>/<sha>/<run>-<attempt>-<time>`. `<id>` hashes the Dockerfile and the
 * flavours; `/` ends the scope, so the prefix of scope `main` never matches scope `main-2` (branch
 * names become tags first, which hold no `/`).
 */
export function buildRecordKeys(o: BuildRecordKeyOptions): BuildRecordKeys {
  const flavours = [...o.flavours].sort((a, b) => a.name.localeCompare(b.name)).map((f) => [f.name, f.stage, f.image]);
  const id = sha256(JSON.stringify({ dockerfile: o.dockerfile, flavours })).slice(0, 12);
  const prefix = (scope: string) => `${KEY_VERSION}-${id}/${scope}/`;
  const { own } = o.scopes;
  return {
    ...(own ? { key: `${prefix(own)}${o.sha}/${o.runId}-${o.runAttempt}-${o.now.toString(36)}` } : {}),
    restoreKeys: [...new Set([...(own ? [own] : []), ...o.scopes.read])].map(prefix),
  };
}

/** The scope a restored key belongs to (`build-image-record-v1-<id>/<scope>/...`), or undefined. */
export function scopeOfRecordKey(key: string): string | undefined {
  return key.startsWith(`${KEY_VERSION}-`) ? key.split('/')[1] : undefined;
}
