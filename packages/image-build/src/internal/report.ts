import { findStage, stageClosure } from './dockerfile-model.js';
import type { DockerfileModel } from './dockerfile-model.js';
import { isFrom, missCause, rootKey } from './miss-cause.js';
import { mergeVertices } from './rawjson.js';
import type { RawVertex, SolveStatus } from './rawjson.js';

/**
 * One Dockerfile step as BuildKit numbers it (`[stage 3/4]`, `[linux/arm64 stage 3/4]`), merged over
 * every vertex that ran it. A multi-platform build has one step per platform.
 */
export interface StepReport {
  /** `linux/arm64` (or `linux/amd64->arm64` for a cross-compiling stage) in a multi-platform build. */
  platform?: string;
  stage: string | undefined;
  index: number;
  total: number;
  instruction: string;
  status: 'cached' | 'run' | 'error' | 'not-started';
  /** Earliest start among the vertices that ran it (ISO). */
  started?: string;
  durationMs: number;
  error?: string;
}

export type MissCause =
  | { kind: 'context-files'; files: string[] }
  | { kind: 'build-arg'; names: string[] }
  | { kind: 'base-image'; image: string; previous: string; current: string }
  /** The instruction text is in no stage of the previous build's record: it was edited or added. */
  | { kind: 'instruction' }
  | { kind: 'unknown'; hint: string };

export interface FlavourReport {
  flavour: string;
  /** Steps of this flavour, FROM excluded; once per platform in a multi-platform build. */
  steps: { total: number; cached: number; run: number };
  /** This flavour's steps (FROM excluded) in Dockerfile order. */
  stepDetails: StepReport[];
  firstMiss?: { step: StepReport; cause: MissCause };
  /** First step start to last step end, this flavour's steps only. */
  durationMs: number;
  /** Exporting the image, importing and exporting cache, pushing. */
  phases: Array<{ name: string; durationMs: number; error?: string }>;
  error?: string;
}

export interface BuildReport {
  flavours: FlavourReport[];
  steps: StepReport[];
  /**
   * `docker.io/library/python:3.12` -> `sha256:...`, from the FROM steps: keep it for the next build.
   * When the platforms of a multi-platform build resolved one image to different digests, each gets
   * its own key, `<image> (<platform>)`.
   */
  baseImages: Record<string, string>;
  /** Steps that ran or were cached: every distinct step of the solve (per platform), FROM excluded. */
  stepCount: number;
  /** Cached / `stepCount`, 0..1 (1 when there is no step). */
  cacheHitRatio: number;
  durationMs: number;
  /** Plain lines buildx printed between the statuses (warnings such as a missing cache). */
  messages: string[];
}

export interface ReportOptions {
  flavours: Array<{ name: string; stage: string }>;
  /** Enables per-stage attribution and ARG checks; without it steps are attributed by name prefix. */
  model?: DockerfileModel;
  /** Context-relative paths changed since the build the cache came from (e.g. `git diff --name-only`). */
  changedFiles?: string[];
  /** Why `changedFiles` is absent, for the hint (e.g. "the clone is shallow: use `fetch-depth: 2`"). */
  changedFilesUnknown?: string;
  buildArgs?: Record<string, Record<string, string>>;
  previous?: {
    baseImages?: Record<string, string>;
    buildArgs?: Record<string, Record<string, string>>;
    /** Per stage, fingerprints of the previous build's instructions (`instructionFingerprint`). */
    instructions?: Record<string, string[]>;
  };
  messages?: string[];
}

const STEP_NAME = /^\[([^\]]*?)\s*(\d+)\/(\d+)\]\s+(.*)$/s;
const PHASE_NAME = /^\[([^\]\s]+)\]\s+(.*)$/s;

/**
 * `[devstack] exporting to image` (bake, several targets) -> devstack's phase. With one target buildx
 * adds no prefix (`importing cache manifest from ...`), so an unbracketed name is the only flavour's.
 */
export function phaseOf(name: string, flavours: readonly string[]): { flavour: string; name: string } | undefined {
  const prefixed = PHASE_NAME.exec(name);
  if (prefixed) return flavours.includes(prefixed[1] as string) ? { flavour: prefixed[1] as string, name: prefixed[2] as string } : undefined;
  const only = flavours.length === 1 ? flavours[0] : undefined;
  return only !== undefined && !name.startsWith('[') && name.trim() !== '' ? { flavour: only, name } : undefined;
}

interface ParsedName {
  flavour?: string;
  platform?: string;
  stage?: string;
  index: number;
  total: number;
  instruction: string;
}

/**
 * `[devstack base 3/4] COPY x ./` (bake, several targets), `[devstack linux/arm64 base 3/4] ...`
 * (several platforms), `[base 3/4] ...` (one target: buildx adds no prefix) or `[3/4] ...` (one
 * unnamed stage). A platform holds a `/`, which neither a stage nor a flavour name may.
 */
export function parseStepName(name: string, flavours: Set<string>): ParsedName | undefined {
  const match = STEP_NAME.exec(name);
  if (!match) return undefined;
  const tokens = (match[1] ?? '').split(/\s+/).filter(Boolean);
  const platform = tokens.find((t) => t.includes('/'));
  const names = tokens.filter((t) => !t.includes('/'));
  let flavour: string | undefined;
  let stage: string | undefined;
  if (names.length >= 2) {
    flavour = names[0];
    stage = names[names.length - 1];
  } else if (names.length === 1 && flavours.size > 1 && flavours.has(names[0] as string)) {
    // Several targets always get the target prefix, so a lone name is the prefix of an unnamed stage.
    flavour = names[0];
  } else {
    stage = names[0];
  }
  return { flavour, ...(platform ? { platform } : {}), stage, index: Number(match[2]), total: Number(match[3]), instruction: match[4] ?? '' };
}

const ms = (iso?: string) => (iso ? Date.parse(iso) : Number.NaN);
/** Start time for ordering: steps that never started go last. */
const order = (iso?: string) => (iso ? Date.parse(iso) : Number.POSITIVE_INFINITY);
const span = (v: RawVertex) => (v.started && v.completed ? Math.max(0, ms(v.completed) - ms(v.started)) : 0);

function stepStatus(vertices: RawVertex[]): Pick<StepReport, 'status' | 'durationMs' | 'started' | 'error'> {
  const started = vertices.filter((v) => v.started);
  const failed = started.find((v) => v.error);
  const ran = started.filter((v) => !v.cached);
  const first = [...(ran.length ? ran : started)].sort((a, b) => order(a.started) - order(b.started))[0];
  const status = failed ? 'error' : started.length === 0 ? 'not-started' : ran.length ? 'run' : 'cached';
  return {
    status,
    durationMs: Math.max(0, ...ran.map(span)),
    ...(first?.started ? { started: first.started } : {}),
    ...(failed?.error ? { error: failed.error } : {}),
  };
}

/**
 * BuildKit leaves out what is unambiguous: a one-stage Dockerfile names steps `[2/2] RUN ...`
 * (no stage), and bake with one target drops the target prefix. Fill both back in.
 */
function withDefaults(parsed: ParsedName | undefined, options: ReportOptions): ParsedName | undefined {
  if (!parsed) return undefined;
  const onlyStage = options.model?.stages.length === 1 ? options.model.stages[0]?.name : undefined;
  const onlyFlavour = options.flavours.length === 1 ? options.flavours[0]?.name : undefined;
  return { ...parsed, stage: parsed.stage ?? onlyStage, flavour: parsed.flavour ?? onlyFlavour };
}

/** Steps by stage (Dockerfile order), number and platform; cached steps all "start" at once, so time says little. */
function inDockerfileOrder<T extends StepReport>(steps: T[], model: DockerfileModel | undefined): T[] {
  if (!model) return steps;
  const stageIndex = (name: string | undefined) => (name ? (findStage(model, name)?.index ?? -1) : -1);
  return [...steps].sort((a, b) => stageIndex(a.stage) - stageIndex(b.stage) || a.index - b.index || (a.platform ?? '').localeCompare(b.platform ?? ''));
}

/** Every name a vertex was reported under: bake reports a shared vertex once per target, each with its prefix. */
function namesByDigest(statuses: SolveStatus[]): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  for (const status of statuses) {
    for (const vertex of status.vertexes ?? []) {
      if (!vertex.name) continue;
      const set = names.get(vertex.digest) ?? new Set<string>();
      set.add(vertex.name);
      names.set(vertex.digest, set);
    }
  }
  return names;
}

type GroupedStep = StepReport & { flavours: Set<string> };

/** The vertices that ran Dockerfile steps, grouped per platform, stage and number, with the targets that reported them. */
function groupSteps(statuses: SolveStatus[], options: ReportOptions) {
  const flavourNames = new Set(options.flavours.map((f) => f.name));
  const names = namesByDigest(statuses);
  const groups = new Map<string, { parsed: ParsedName; vertices: RawVertex[]; flavours: Set<string> }>();
  const phases: Array<{ flavour: string; name: string; durationMs: number; error?: string }> = [];
  const vertices = mergeVertices(statuses);
  for (const vertex of vertices) {
    const parsedNames = [...(names.get(vertex.digest) ?? [])].flatMap((n) => withDefaults(parseStepName(n, flavourNames), options) ?? []);
    const parsed = parsedNames[0];
    if (parsed) {
      const key = `${parsed.platform ?? ''}|${parsed.stage ?? ''}#${parsed.index}/${parsed.total}`;
      const group = groups.get(key) ?? { parsed, vertices: [], flavours: new Set<string>() };
      group.vertices.push(vertex);
      for (const p of parsedNames) if (p.flavour) group.flavours.add(p.flavour);
      groups.set(key, group);
      continue;
    }
    const phase = vertex.name ? phaseOf(vertex.name, options.flavours.map((f) => f.name)) : undefined;
    if (phase && vertex.started) phases.push({ ...phase, durationMs: span(vertex), ...(vertex.error ? { error: vertex.error } : {}) });
  }
  const steps: GroupedStep[] = [...groups.values()].map(({ parsed, vertices: vs, flavours }) => ({
    ...(parsed.platform ? { platform: parsed.platform } : {}),
    stage: parsed.stage,
    index: parsed.index,
    total: parsed.total,
    instruction: parsed.instruction,
    ...stepStatus(vs),
    flavours,
  }));
  steps.sort((a, b) => order(a.started) - order(b.started) || (a.stage ?? '').localeCompare(b.stage ?? '') || a.index - b.index);
  return { steps, phases, vertices };
}

/**
 * Base image digests from the FROM steps (`FROM image@sha256:...`), and per platform and stage the
 * key of its base image. One key per image unless the platforms resolved it to different digests.
 */
function baseImagesOf(steps: StepReport[]): { baseImages: Record<string, string>; fromSteps: Map<string, string> } {
  const found: Array<{ image: string; digest: string; platform: string; stage: string | undefined }> = [];
  for (const step of steps.filter(isFrom)) {
    const ref = step.instruction.replace(/^FROM\s+/i, '').trim();
    const at = ref.lastIndexOf('@sha256:');
    if (at >= 0) found.push({ image: ref.slice(0, at), digest: ref.slice(at + 1), platform: step.platform ?? '', stage: step.stage });
  }
  const baseImages: Record<string, string> = {};
  const fromSteps = new Map<string, string>();
  for (const entry of found) {
    const agree = found.every((o) => o.image !== entry.image || o.digest === entry.digest);
    const key = agree || !entry.platform ? entry.image : `${entry.image} (${entry.platform})`;
    baseImages[key] = entry.digest;
    if (entry.stage !== undefined) fromSteps.set(rootKey(entry.platform, entry.stage), key);
  }
  return { baseImages, fromSteps };
}

/** Builds the report of one bake run from its SolveStatus objects. */
export function buildReport(statuses: SolveStatus[], options: ReportOptions): BuildReport {
  const { steps, phases, vertices } = groupSteps(statuses, options);
  const { baseImages, fromSteps } = baseImagesOf(steps);
  const countable = steps.filter((s) => !isFrom(s) && s.status !== 'not-started');
  const anyCached = countable.some((s) => s.status === 'cached');

  const flavours = options.flavours.map(({ name, stage }): FlavourReport => {
    const closure = options.model ? new Set(stageClosure(options.model, stage).map((s) => s.name.toLowerCase())) : undefined;
    // A step is this flavour's when its stage is in the flavour's closure, or when this flavour's
    // target reported it: BuildKit runs identical steps of two targets once, under one stage's name
    // (`[devstack production 1/1]` is devstack's own step, named after production's).
    const mine = countable.filter((s) => (closure !== undefined && s.stage !== undefined && closure.has(s.stage.toLowerCase())) || s.flavours.has(name));
    const missed = mine.filter((s) => s.status === 'run' || s.status === 'error');
    const first = missed[0];
    const { flavours: _, ...firstStep } = first ?? { flavours: undefined };
    const starts = mine.map((s) => ms(s.started)).filter((n) => !Number.isNaN(n));
    const ends = mine.map((s) => ms(s.started) + s.durationMs).filter((n) => !Number.isNaN(n));
    const failed = mine.find((s) => s.status === 'error');
    const ownPhases = phases.filter((p) => p.flavour === name).map(({ flavour: _p, ...phase }) => phase);
    const imports = ownPhases.filter((p) => p.name.startsWith('importing cache manifest'));
    const cachedRoots = new Set(mine.filter((s) => s.status === 'cached').map((s) => rootKey(s.platform ?? '', s.stage, options.model)));
    const cause = first ? missCause(first, { options, flavour: name, fromSteps, baseImages, cachedRoots, imports, anyCached }) : undefined;
    return {
      flavour: name,
      steps: { total: mine.length, cached: mine.length - missed.length, run: missed.length },
      stepDetails: inDockerfileOrder(mine, options.model).map(({ flavours: _f, ...step }) => step),
      ...(first && cause ? { firstMiss: { step: firstStep as StepReport, cause } } : {}),
      durationMs: starts.length ? Math.max(...ends) - Math.min(...starts) : 0,
      phases: ownPhases,
      ...(failed?.error ? { error: failed.error } : {}),
    };
  });

  const allStarts = vertices.map((v) => ms(v.started)).filter((n) => !Number.isNaN(n));
  const allEnds = vertices.map((v) => ms(v.completed)).filter((n) => !Number.isNaN(n));
  const cached = countable.filter((s) => s.status === 'cached').length;
  return {
    flavours,
    steps: steps.map(({ flavours: _, ...step }) => step),
    baseImages,
    stepCount: countable.length,
    cacheHitRatio: countable.length ? cached / countable.length : 1,
    durationMs: allStarts.length && allEnds.length ? Math.max(...allEnds) - Math.min(...allStarts) : 0,
    messages: options.messages ?? [],
  };
}

/**
 * Repository-relative paths (`git diff --name-only`) made relative to the build context, as the
 * COPY sources are; files outside the context cannot affect the build and are dropped.
 */
export function changedFilesInContext(files: string[], context: string): string[] {
  const root = context.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (root === '' || root === '.') return files.filter(Boolean);
  return files.filter((f) => f.startsWith(`${root}/`)).map((f) => f.slice(root.length + 1));
}
