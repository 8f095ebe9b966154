import { findFailure, isCancellation } from './build-failure.js';
import type { BuildFailure } from './build-failure.js';
import { findStage, stageClosure, STEP_KEYWORDS, stepNamePattern } from './dockerfile-model.js';
import type { ContextIgnore } from './context-ignore.js';
import type { DockerfileModel, Stage } from './dockerfile-model.js';
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
  /** `stage`/`previousImage`: the root stage whose FROM now resolves elsewhere, and what it resolved to before. */
  | { kind: 'base-image'; image: string; previous: string; current: string; stage?: string; previousImage?: string }
  /** An instruction before the missed step (ENV, USER, a deleted line...) changed: it has no step of its own. */
  | { kind: 'earlier-instruction'; stage: string; line: number; removed?: 'before' | 'after' }
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
  /**
   * Why this flavour's build failed: the error of its failed step, else a cancellation (another
   * flavour failed first), else buildx's error when it named this flavour's target. Never set when
   * the bake succeeded (`ReportOptions.succeeded`).
   */
  error?: string;
}

export interface BuildReport {
  flavours: FlavourReport[];
  /** Every step of the solve as BuildKit named it, per platform (the flavours' lists merge twins). */
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
  /** A failed bake: the flavour and step buildx's `ERROR` line names (see `findFailure`). */
  failure?: BuildFailure;
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
  /** The ignore file BuildKit reads for this build: changed files it excludes are never a miss's cause. */
  contextIgnore?: ContextIgnore;
  previous?: {
    baseImages?: Record<string, string>;
    buildArgs?: Record<string, Record<string, string>>;
    /** Per stage, fingerprints of the previous build's instructions (`instructionFingerprint`). */
    instructions?: Record<string, string[]>;
  };
  messages?: string[];
  /**
   * `docker buildx bake` exited 0: every image was built, so no vertex error is a failure (BuildKit
   * cancels the duplicate vertex of a step two targets share once one of them ran it).
   */
  succeeded?: boolean;
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

/**
 * One step's status over its vertices. A vertex BuildKit cancelled (`... context canceled`) is left
 * out when another vertex of the step settled it: bake reports a step two targets share once per
 * target, runs it once and cancels the other. After a successful bake no error counts.
 */
function stepStatus(vertices: RawVertex[], succeeded: boolean): Pick<StepReport, 'status' | 'durationMs' | 'started' | 'error'> {
  const all = vertices.filter((v) => v.started);
  const settled = all.filter((v) => !v.error);
  const real = all.filter((v) => v.error && !isCancellation(v.error));
  const started = succeeded ? (settled.length ? settled : all) : settled.length ? [...settled, ...real] : all;
  const failed = succeeded ? undefined : (started.find((v) => v.error && !isCancellation(v.error)) ?? started.find((v) => v.error));
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

/** Earliest start first (steps that never started last), then stage, number and platform. */
const byStart = (a: StepReport, b: StepReport) =>
  order(a.started) - order(b.started) || (a.stage ?? '').localeCompare(b.stage ?? '') || a.index - b.index || (a.platform ?? '').localeCompare(b.platform ?? '');

/** How much a status tells: a failure over a run over a cache hit; a cancellation least (another vertex settled the work). */
const weight = (s: StepReport) => (s.status === 'error' ? (isCancellation(s.error) ? 0 : 3) : s.status === 'run' ? 2 : s.status === 'cached' ? 1 : 0);

/** Two reports of one piece of work as one step named as `own`: the weightier status, its earliest start and longest run. */
function mergeSteps(own: GroupedStep, other: GroupedStep): GroupedStep {
  const top = Math.max(weight(own), weight(other));
  const winners = [own, other].filter((s) => weight(s) === top);
  const winner = winners[0] as GroupedStep;
  const started = winners.map((s) => s.started).filter((t): t is string => t !== undefined).sort((a, b) => ms(a) - ms(b))[0];
  const { error: _error, started: _started, ...rest } = own;
  return {
    ...rest,
    status: winner.status,
    durationMs: Math.max(...winners.map((s) => s.durationMs)),
    ...(started ? { started } : {}),
    ...(winner.error ? { error: winner.error } : {}),
    flavours: new Set([...own.flavours, ...other.flavours]),
  };
}

const sameWork = (a: StepReport, b: StepReport) => (a.platform ?? '') === (b.platform ?? '') && a.instruction.replace(/\s+/g, ' ').trim() === b.instruction.replace(/\s+/g, ' ').trim();

const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * Where the flavour's own Dockerfile has the step BuildKit ran once under another stage's name: the
 * stage of its closure with the same instruction, numbered as BuildKit numbers it (after the FROM of
 * an image, `[base 2/3]`; from 1 in a stage built FROM another, `[dev 1/2]`). Undefined when no stage
 * or several with other numbers have it.
 */
function ownCounterpart(stages: Stage[], step: StepReport): Pick<StepReport, 'stage' | 'index' | 'total'> | undefined {
  const instruction = collapse(step.instruction);
  const keyword = instruction.split(' ')[0]?.toUpperCase();
  const found = stages.flatMap((stage) => {
    const numbered = stage.steps.filter((s) => STEP_KEYWORDS.has(s.keyword));
    const offset = stage.from.stage ? 1 : 2;
    return numbered.flatMap((s, i) =>
      s.keyword === keyword && s.text !== '' && (instruction.endsWith(collapse(s.text)) || stepNamePattern(collapse(s.text)).test(instruction))
        ? [{ stage: stage.name, index: i + offset, total: numbered.length + offset - 1 }]
        : [],
    );
  });
  return found.find((f) => f.index === step.index) ?? (found.length === 1 ? found[0] : undefined);
}

/**
 * A flavour's steps: those of the stages in its closure, and those its target reported under another
 * stage's name (BuildKit runs identical steps of two targets once, under one stage's name:
 * `[devstack production 1/1]` is devstack's own step, named here as devstack's Dockerfile has it, e.g.
 * `dev 1/2`, when the model shows where). When the flavour also has its own step of the
 * same platform and instruction (several platforms, or a COPY whose context BuildKit matched by its
 * cache key: BuildKit then reports a cached twin under the flavour's own name), the two are one step:
 * merged, and the pair is added to `twins`.
 */
function stepsOfFlavour(countable: GroupedStep[], name: string, closure: Stage[] | undefined, twins: Array<[GroupedStep, GroupedStep]>): GroupedStep[] {
  const names = closure ? new Set(closure.map((s) => s.name.toLowerCase())) : undefined;
  const inClosure = (s: GroupedStep) => names !== undefined && s.stage !== undefined && names.has(s.stage.toLowerCase());
  const own = countable.filter(inClosure);
  const merged = new Map<GroupedStep, GroupedStep>(own.map((s) => [s, s]));
  const paired = new Set<GroupedStep>();
  const foreign: GroupedStep[] = [];
  for (const step of countable.filter((s) => !inClosure(s) && s.flavours.has(name))) {
    const candidates = own.filter((o) => !paired.has(o) && sameWork(o, step));
    const twin = candidates.find((o) => o.index === step.index) ?? candidates[0];
    if (!twin) {
      const counterpart = closure ? ownCounterpart(closure, step) : undefined;
      foreign.push(counterpart ? { ...step, ...counterpart } : step);
      continue;
    }
    paired.add(twin);
    twins.push([twin, step]);
    merged.set(twin, mergeSteps(merged.get(twin) as GroupedStep, step));
  }
  return [...merged.values(), ...foreign].sort(byStart);
}

/** Distinct steps of the solve and how many were cached, twins (see `stepsOfFlavour`) counted once. */
function distinctSteps(countable: GroupedStep[], twins: Array<[GroupedStep, GroupedStep]>): { count: number; cached: number } {
  const parent = new Map<GroupedStep, GroupedStep>();
  const root = (s: GroupedStep): GroupedStep => {
    const p = parent.get(s);
    return p && p !== s ? root(p) : s;
  };
  for (const [a, b] of twins) {
    const [ra, rb] = [root(a), root(b)];
    if (ra !== rb) parent.set(rb, ra);
  }
  const top = new Map<GroupedStep, number>();
  for (const step of countable) top.set(root(step), Math.max(top.get(root(step)) ?? 0, weight(step)));
  return { count: top.size, cached: [...top.values()].filter((w) => w === 1).length };
}

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
    ...stepStatus(vs, options.succeeded === true),
    flavours,
  }));
  steps.sort(byStart);
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

  const twins: Array<[GroupedStep, GroupedStep]> = [];
  const owned = options.flavours.map(({ name, stage }) => {
    const closure = options.model ? stageClosure(options.model, stage) : undefined;
    return { flavour: name, steps: stepsOfFlavour(countable, name, closure, twins) };
  });
  // Twins counted once, a cached twin of a step that ran in this very solve being no cache hit: BuildKit
  // reports the second target's copy of a shared COPY as CACHED even on a cold build (it matched the
  // first target's by its cache key), which proves no earlier cache.
  const distinct = distinctSteps(countable, twins);
  const anyCached = distinct.cached > 0;
  const plain = ({ flavours: _, ...step }: GroupedStep): StepReport => step;
  const failure = options.succeeded ? undefined : findFailure(options.messages ?? [], steps.map(plain), owned);

  const flavours = owned.map(({ flavour: name, steps: mine }): FlavourReport => {
    const missed = mine.filter((s) => s.status === 'run' || s.status === 'error');
    const first = missed[0];
    const starts = mine.map((s) => ms(s.started)).filter((n) => !Number.isNaN(n));
    const ends = mine.map((s) => ms(s.started) + s.durationMs).filter((n) => !Number.isNaN(n));
    const errors = mine.filter((s) => s.status === 'error');
    const error = (errors.find((s) => !isCancellation(s.error)) ?? errors[0])?.error ?? (failure?.flavour === name ? failure.error : undefined);
    const ownPhases = phases.filter((p) => p.flavour === name).map(({ flavour: _p, ...phase }) => phase);
    const imports = ownPhases.filter((p) => p.name.startsWith('importing cache manifest'));
    const cachedRoots = new Set(mine.filter((s) => s.status === 'cached').map((s) => rootKey(s.platform ?? '', s.stage, options.model)));
    const cause = first ? missCause(first, { options, flavour: name, fromSteps, baseImages, cachedRoots, imports, anyCached }) : undefined;
    return {
      flavour: name,
      steps: { total: mine.length, cached: mine.length - missed.length, run: missed.length },
      stepDetails: inDockerfileOrder(mine, options.model).map(plain),
      ...(first && cause ? { firstMiss: { step: plain(first), cause } } : {}),
      durationMs: starts.length ? Math.max(...ends) - Math.min(...starts) : 0,
      phases: ownPhases,
      ...(error ? { error } : {}),
    };
  });

  const allStarts = vertices.map((v) => ms(v.started)).filter((n) => !Number.isNaN(n));
  const allEnds = vertices.map((v) => ms(v.completed)).filter((n) => !Number.isNaN(n));
  return {
    flavours,
    steps: steps.map(plain),
    baseImages,
    stepCount: distinct.count,
    cacheHitRatio: distinct.count ? distinct.cached / distinct.count : 1,
    durationMs: allStarts.length && allEnds.length ? Math.max(...allEnds) - Math.min(...allStarts) : 0,
    messages: options.messages ?? [],
    ...(failure ? { failure } : {}),
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
