import { createHash } from 'node:crypto';
import { ImageBuildError } from './errors.js';
import { instructionFingerprint, isFrom } from './miss-cause.js';
import type { BuildReport, ReportOptions } from './report.js';

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

/** The record of a finished build; `buildArgs` are the raw values per flavour (fingerprinted here). */
export function buildRecordOf(report: Pick<BuildReport, 'baseImages'> & Partial<Pick<BuildReport, 'steps'>>, buildArgs: Record<string, Record<string, string>>): BuildRecord {
  return {
    version: 1,
    baseImages: sortedEntries(report.baseImages),
    buildArgs: sortedEntries(Object.fromEntries(Object.entries(buildArgs).map(([flavour, args]) => [flavour, buildArgFingerprints(args)]))),
    ...(report.steps ? { instructions: sortedEntries(instructionsOf(report.steps)) } : {}),
  };
}

/** Stable JSON (sorted keys): equal records serialize to equal text. */
export function serializeBuildRecord(record: BuildRecord): string {
  const { version, baseImages, buildArgs, instructions } = record;
  return `${JSON.stringify({ version, baseImages: sortedEntries(baseImages), buildArgs: sortedEntries(buildArgs), ...(instructions ? { instructions: sortedEntries(instructions) } : {}) })}\n`;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function stringMap(value: unknown, what: string, valid: (v: string) => boolean): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BuildRecordError(`${what} is not an object`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string' || !valid(v)) throw new BuildRecordError(`${what}.${key} is not a sha256 digest`);
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
  return { version: 1, baseImages, buildArgs, ...(record.instructions === undefined ? {} : { instructions: instructionLists(record.instructions) }) };
}

function instructionLists(value: unknown): Record<string, string[]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BuildRecordError('instructions is not an object');
  for (const [stage, list] of Object.entries(value)) {
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string' && DIGEST.test(v))) throw new BuildRecordError(`instructions.${stage} is not a list of sha256 digests`);
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
export function previousFromRecord(record: BuildRecord): NonNullable<ReportOptions['previous']> {
  return { baseImages: { ...record.baseImages }, buildArgs: { ...record.buildArgs }, ...(record.instructions ? { instructions: { ...record.instructions } } : {}) };
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
