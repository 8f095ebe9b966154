import { createHash } from 'node:crypto';
import picomatch from 'picomatch';
import { contextSources, findStage, parseDockerfile, rootStageOf } from './dockerfile-model.js';
import type { DockerfileModel, Stage, Step } from './dockerfile-model.js';
import type { MissCause, ReportOptions, StepReport } from './report.js';

// Why the first cache miss of a flavour happened. Only what the inputs show is claimed; anything
// else is `unknown` with a hint that lists what is known and what remains possible.

export const isFrom = (s: Pick<StepReport, 'instruction'>) => /^FROM\s/i.test(s.instruction);
const isCopy = (s: Pick<StepReport, 'instruction'>) => /^(COPY|ADD)\s/i.test(s.instruction);
const isRun = (s: Pick<StepReport, 'instruction'>) => /^RUN\s/i.test(s.instruction);

/** `sha256:<hex>` of an instruction as BuildKit names it (whitespace runs collapsed): kept in the build record. */
export function instructionFingerprint(instruction: string): string {
  return `sha256:${createHash('sha256').update(instruction.replace(/\s+/g, ' ').trim()).digest('hex')}`;
}

/** The root stage (the one FROM an image) under `stage`, per platform: what a base image applies to. */
export function rootKey(platform: string, stage: string | undefined, model?: DockerfileModel): string {
  const found = model && stage ? findStage(model, stage) : undefined;
  const root = model && found ? rootStageOf(model, found).name : stage;
  return `${platform}|${(root ?? '').toLowerCase()}`;
}

export interface CauseContext {
  options: ReportOptions;
  flavour: string;
  /** `<platform>|<root stage>` -> key of its base image in `baseImages`. */
  fromSteps: Map<string, string>;
  baseImages: Record<string, string>;
  /** `rootKey`s under which this flavour had a cached step: their base image cannot have moved. */
  cachedRoots: Set<string>;
  /** This flavour's `importing cache manifest from ...` phases; `error` when nothing was found. */
  imports: Array<{ name: string; error?: string }>;
  /** Some step of the whole build was cached: a cache was there to use. */
  anyCached: boolean;
}

function matchesSource(file: string, source: string): boolean {
  const src = source.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  if (src === '' || src === '.' || src === '*') return true;
  return file === src || file.startsWith(`${src}/`) || picomatch(src, { dot: true })(file);
}

/** Build args whose values differ; none when either side is unknown. */
function changedArgs(now: Record<string, string> | undefined, before: Record<string, string> | undefined): string[] {
  if (!now || !before) return [];
  const names = new Set([...Object.keys(now), ...Object.keys(before)]);
  return [...names].filter((n) => now[n] !== before[n]).sort();
}

const normalize = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The Dockerfile step a reported step is (same keyword, its text at the end of the name), if found. */
function modelStep(stage: Stage, step: StepReport): Step | undefined {
  const instruction = normalize(step.instruction);
  const keyword = instruction.split(' ')[0]?.toUpperCase();
  return stage.steps.find((s) => s.keyword === keyword && s.text !== '' && instruction.endsWith(normalize(s.text)));
}

/** Build args the step's stage declares before it (all of the stage's when the step is not found). */
function declaredArgs(stage: Stage | undefined, step: StepReport): string[] | undefined {
  if (!stage) return undefined;
  const line = modelStep(stage, step)?.line ?? Number.POSITIVE_INFINITY;
  return stage.steps.filter((s) => s.keyword === 'ARG' && s.line < line).flatMap((s) => (s.argNames ?? []).map((a) => a.name));
}

const list = (names: string[]) => names.map((n) => `\`${n}\``).join(', ');

/** Why a miss is unexplained, from what is known about the cache, the record and the changed files. */
function unknownHint(step: StepReport, stage: Stage | undefined, ctx: CauseContext): string {
  const { options } = ctx;
  if (!ctx.anyCached) {
    const failed = ctx.imports.filter((i) => i.error);
    if (ctx.imports.length > 0 && failed.length === ctx.imports.length) {
      return `no cache was imported (${failed[0]?.error}) and no step was cached: the first build of this cache scope, or its cache is gone`;
    }
    if (ctx.imports.length === 0) return 'no step of the build was cached and no cache was imported: there was no cache to use yet';
    return 'no step of the build was cached although a cache was imported: it was made from other base images or early steps';
  }
  // Some step was cached, so there was a cache: the question is what differs for this one.
  const recorded = options.previous?.instructions;
  const fingerprint = instructionFingerprint(step.instruction);
  const sameInstruction = stage !== undefined && (recorded?.[stage.name.toLowerCase()] ?? []).includes(fingerprint);
  if (isCopy(step)) {
    if (options.changedFiles === undefined) {
      return `its instruction or a copied file changed; the changed files are unknown (${options.changedFilesUnknown ?? 'no commit to compare with'})`;
    }
    return sameInstruction
      ? 'its instruction is unchanged and no changed file matches its sources: the cache may come from an older commit'
      : 'its instruction or a copied file changed; no changed file matches its sources';
  }
  const knownArgs = options.buildArgs?.[ctx.flavour] !== undefined && options.previous?.buildArgs?.[ctx.flavour] !== undefined;
  const args = isRun(step) && !knownArgs ? (declaredArgs(stage, step) ?? []) : [];
  const argNote = args.length ? `; the stage declares build arg${args.length > 1 ? 's' : ''} ${list(args)} before it, whose previous values are unknown` : '';
  if (sameInstruction) {
    return `its instruction is unchanged and the steps before it were cached${argNote}; else the cache has no result for this step (not exported, or evicted)`;
  }
  return `its instruction or an earlier input changed${argNote}`;
}

export function missCause(step: StepReport, ctx: CauseContext): MissCause {
  const { model, changedFiles, previous } = ctx.options;
  const stage = model && step.stage ? findStage(model, step.stage) : undefined;
  // 1. The base image under this step's stage moved (no step under the same root was cached).
  const root = rootKey(step.platform ?? '', step.stage, model);
  const image = !ctx.cachedRoots.has(root) ? ctx.fromSteps.get(root) : undefined;
  const before = image ? previous?.baseImages?.[image] : undefined;
  if (image && before && before !== ctx.baseImages[image]) {
    return { kind: 'base-image', image, previous: before, current: ctx.baseImages[image] as string };
  }
  // 2. A COPY/ADD whose sources include a changed file.
  if (isCopy(step)) {
    const parsed = parseDockerfile(`FROM scratch\n${step.instruction}`).stages[0]?.steps[0];
    const sources = parsed ? contextSources(parsed) : [];
    const files = (changedFiles ?? []).filter((f) => sources.some((s) => matchesSource(f.replace(/^\.\//, ''), s)));
    if (files.length) return { kind: 'context-files', files };
  }
  // 3. A build arg that changed and is declared in this stage before the step (or named in it without a model).
  const changed = changedArgs(ctx.options.buildArgs?.[ctx.flavour], previous?.buildArgs?.[ctx.flavour]);
  if (changed.length && isRun(step)) {
    const declared = declaredArgs(stage, step);
    const names = changed.filter((n) => (declared ? declared.includes(n) : new RegExp(`\\$\\{?${n}\\b`).test(step.instruction)));
    if (names.length) return { kind: 'build-arg', names };
  }
  // 4. The instruction is in no stage of the previous build: it was edited (or added).
  const recorded = previous?.instructions;
  if (recorded && ctx.anyCached && !Object.values(recorded).some((fps) => fps.includes(instructionFingerprint(step.instruction)))) {
    return { kind: 'instruction' };
  }
  return { kind: 'unknown', hint: unknownHint(step, stage, ctx) };
}
