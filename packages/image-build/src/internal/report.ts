import picomatch from 'picomatch';
import { contextSources, findStage, parseDockerfile, rootStageOf, stageClosure } from './dockerfile-model.js';
import type { DockerfileModel } from './dockerfile-model.js';
import { mergeVertices } from './rawjson.js';
import type { RawVertex, SolveStatus } from './rawjson.js';

/** One Dockerfile step as BuildKit numbers it (`[stage 3/4]`), merged over every vertex that ran it. */
export interface StepReport {
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
  | { kind: 'unknown'; hint: string };

export interface FlavourReport {
  flavour: string;
  steps: { total: number; cached: number; run: number };
  /** This flavour's steps (FROM excluded) in the order they started. */
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
  /** `docker.io/library/python:3.12` -> `sha256:...`, from the FROM steps: keep it for the next build. */
  baseImages: Record<string, string>;
  /** Cached / total over every distinct step of the solve, 0..1 (1 when there is no step). */
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
  buildArgs?: Record<string, Record<string, string>>;
  previous?: { baseImages?: Record<string, string>; buildArgs?: Record<string, Record<string, string>> };
  messages?: string[];
}

const STEP_NAME = /^\[([^\]]*?)\s*(\d+)\/(\d+)\]\s+(.*)$/s;
const PHASE_NAME = /^\[([^\]\s]+)\]\s+(.*)$/s;

interface ParsedName {
  flavour?: string;
  stage?: string;
  index: number;
  total: number;
  instruction: string;
}

/** `[devstack base 3/4] COPY x ./`, `[base 3/4] ...` (plain build) or `[3/4] ...` (one unnamed stage). */
export function parseStepName(name: string, flavours: Set<string>): ParsedName | undefined {
  const match = STEP_NAME.exec(name);
  if (!match) return undefined;
  const tokens = (match[1] ?? '').split(/\s+/).filter(Boolean);
  let flavour: string | undefined;
  let stage: string | undefined;
  if (tokens.length >= 2) [flavour, stage] = tokens;
  else if (tokens.length === 1 && flavours.has(tokens[0] as string)) flavour = tokens[0];
  else stage = tokens[0];
  return { flavour, stage, index: Number(match[2]), total: Number(match[3]), instruction: match[4] ?? '' };
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

const isFrom = (s: Pick<StepReport, 'instruction'>) => /^FROM\s/i.test(s.instruction);

function changedArgs(now: Record<string, string> = {}, before: Record<string, string> | undefined): string[] {
  if (!before) return [];
  const names = new Set([...Object.keys(now), ...Object.keys(before)]);
  return [...names].filter((n) => now[n] !== before[n]).sort();
}

function matchesSource(file: string, source: string): boolean {
  const src = source.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  if (src === '' || src === '.' || src === '*') return true;
  return file === src || file.startsWith(`${src}/`) || picomatch(src, { dot: true })(file);
}

interface CauseContext {
  options: ReportOptions;
  flavour: string;
  fromSteps: Map<string, string>;
  baseImages: Record<string, string>;
  /** Root stages under which this flavour had a cached step: their base image cannot have moved. */
  cachedRoots: Set<string | undefined>;
  /** This flavour's `importing cache manifest from ...` phases; `error` when nothing was found. */
  imports: Array<{ name: string; error?: string }>;
}

/** Why a miss is unexplained, from what is known about the cache import and the changed files. */
function unknownHint(step: StepReport, ctx: CauseContext): string {
  const copy = /^(COPY|ADD)\s/i.test(step.instruction);
  const failed = ctx.imports.filter((i) => i.error);
  if (ctx.imports.length > 0 && failed.length === ctx.imports.length) {
    return `no cache was imported (${failed[0]?.error}): the first build of this scope, or its cache is gone`;
  }
  if (copy && ctx.options.changedFiles === undefined) {
    return 'a copied file may have changed, but the changed files are unknown (the clone has no parent commit: use `fetch-depth: 2`)';
  }
  if (copy) return 'a copied file changed, but no changed file given matches its sources';
  return 'nothing given explains it: the cache was not imported (no cache-from, first build of this scope) or was evicted';
}

function rootOf(model: DockerfileModel | undefined, stageName: string | undefined): string | undefined {
  const stage = model && stageName ? findStage(model, stageName) : undefined;
  return model && stage ? rootStageOf(model, stage).name : stageName;
}

function missCause(step: StepReport, ctx: CauseContext): MissCause {
  const { model, changedFiles, previous } = ctx.options;
  // 1. The base image under this step's stage moved.
  const stage = model && step.stage ? findStage(model, step.stage) : undefined;
  const root = rootOf(model, step.stage);
  const image = root !== undefined && !ctx.cachedRoots.has(root) ? ctx.fromSteps.get(root) : undefined;
  const before = image ? previous?.baseImages?.[image] : undefined;
  if (image && before && before !== ctx.baseImages[image]) {
    return { kind: 'base-image', image, previous: before, current: ctx.baseImages[image] as string };
  }
  // 2. A COPY/ADD whose sources include a changed file.
  if (/^(COPY|ADD)\s/i.test(step.instruction)) {
    const parsed = parseDockerfile(`FROM scratch\n${step.instruction}`).stages[0]?.steps[0];
    const sources = parsed ? contextSources(parsed) : [];
    const files = (changedFiles ?? []).filter((f) => sources.some((s) => matchesSource(f.replace(/^\.\//, ''), s)));
    if (files.length) return { kind: 'context-files', files };
  }
  // 3. A build arg that changed and is declared in this stage (or used by name without a model).
  const changed = changedArgs(ctx.options.buildArgs?.[ctx.flavour], previous?.buildArgs?.[ctx.flavour]);
  if (changed.length && /^RUN\s/i.test(step.instruction)) {
    const declared = stage
      ? new Set(stage.steps.flatMap((s) => (s.keyword === 'ARG' ? (s.argNames ?? []).map((a) => a.name) : [])))
      : undefined;
    const names = changed.filter((n) =>
      declared ? declared.has(n) : new RegExp(`\\$\\{?${n}\\b`).test(step.instruction),
    );
    if (names.length) return { kind: 'build-arg', names };
  }
  const hint = unknownHint(step, ctx);
  return { kind: 'unknown', hint };
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

/** Steps by stage (Dockerfile order) and number; cached steps all "start" at once, so time says little. */
function inDockerfileOrder<T extends StepReport>(steps: T[], model: DockerfileModel | undefined): T[] {
  if (!model) return steps;
  const stageIndex = (name: string | undefined) => (name ? (findStage(model, name)?.index ?? -1) : -1);
  return [...steps].sort((a, b) => stageIndex(a.stage) - stageIndex(b.stage) || a.index - b.index);
}

/** Builds the report of one bake run from its SolveStatus objects. */
export function buildReport(statuses: SolveStatus[], options: ReportOptions): BuildReport {
  const flavourNames = new Set(options.flavours.map((f) => f.name));
  const groups = new Map<string, { parsed: ParsedName; vertices: RawVertex[]; flavours: Set<string> }>();
  const phases: Array<{ flavour: string; name: string; durationMs: number; error?: string }> = [];
  const vertices = mergeVertices(statuses);
  for (const vertex of vertices) {
    const parsed = vertex.name ? withDefaults(parseStepName(vertex.name, flavourNames), options) : undefined;
    if (parsed) {
      const key = `${parsed.stage ?? ''}#${parsed.index}/${parsed.total}`;
      const group = groups.get(key) ?? { parsed, vertices: [], flavours: new Set<string>() };
      group.vertices.push(vertex);
      if (parsed.flavour) group.flavours.add(parsed.flavour);
      groups.set(key, group);
      continue;
    }
    const phase = vertex.name ? PHASE_NAME.exec(vertex.name) : null;
    if (phase && flavourNames.has(phase[1] as string) && vertex.started) {
      phases.push({ flavour: phase[1] as string, name: phase[2] as string, durationMs: span(vertex), ...(vertex.error ? { error: vertex.error } : {}) });
    }
  }

  const steps: Array<StepReport & { flavours: Set<string> }> = [...groups.values()].map(({ parsed, vertices: vs, flavours }) => ({
    stage: parsed.stage,
    index: parsed.index,
    total: parsed.total,
    instruction: parsed.instruction,
    ...stepStatus(vs),
    flavours,
  }));
  steps.sort((a, b) => order(a.started) - order(b.started) || (a.stage ?? '').localeCompare(b.stage ?? '') || a.index - b.index);

  const baseImages: Record<string, string> = {};
  const fromSteps = new Map<string, string>();
  for (const step of steps.filter(isFrom)) {
    const ref = step.instruction.replace(/^FROM\s+/i, '').trim();
    const at = ref.lastIndexOf('@sha256:');
    if (at < 0) continue;
    baseImages[ref.slice(0, at)] = ref.slice(at + 1);
    if (step.stage !== undefined) fromSteps.set(step.stage, ref.slice(0, at));
  }

  const countable = steps.filter((s) => !isFrom(s) && s.status !== 'not-started');
  const flavours = options.flavours.map(({ name, stage }): FlavourReport => {
    const closure = options.model ? new Set(stageClosure(options.model, stage).map((s) => s.name)) : undefined;
    const mine = countable.filter((s) => (closure && s.stage !== undefined ? closure.has(s.stage) : s.flavours.has(name)));
    const missed = mine.filter((s) => s.status === 'run' || s.status === 'error');
    const first = missed[0];
    const { flavours: _, ...firstStep } = first ?? { flavours: undefined };
    const starts = mine.map((s) => ms(s.started)).filter((n) => !Number.isNaN(n));
    const ends = mine.map((s) => ms(s.started) + s.durationMs).filter((n) => !Number.isNaN(n));
    const failed = mine.find((s) => s.status === 'error');
    const ownPhases = phases.filter((p) => p.flavour === name).map(({ flavour: _p, ...phase }) => phase);
    const imports = ownPhases.filter((p) => p.name.startsWith('importing cache manifest'));
    const cachedRoots = new Set(mine.filter((s) => s.status === 'cached').map((s) => rootOf(options.model, s.stage)));
    return {
      flavour: name,
      steps: { total: mine.length, cached: mine.length - missed.length, run: missed.length },
      stepDetails: inDockerfileOrder(mine, options.model).map(({ flavours: _f, ...step }) => step),
      ...(first ? { firstMiss: { step: firstStep as StepReport, cause: missCause(first, { options, flavour: name, fromSteps, baseImages, cachedRoots, imports }) } } : {}),
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
