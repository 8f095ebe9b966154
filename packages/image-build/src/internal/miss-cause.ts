import picomatch from 'picomatch';
import { ignoreEditReaches, visibleChangedFiles } from './context-ignore.js';
import type { ContextIgnore } from './context-ignore.js';
import { bindMountSources, contextSources, findStage, flag, fromArgNames, instructionText, parseDockerfile, rootStageOf, STEP_KEYWORDS, stepNamePattern } from './dockerfile-model.js';
import type { DockerfileModel, Stage, Step } from './dockerfile-model.js';
import { earlierChange, instructionFingerprint } from './stage-instructions.js';
import type { EarlierChange } from './stage-instructions.js';
import type { MissCause, ReportOptions, StepReport } from './report.js';

// Why the first cache miss of a flavour happened. Only what the inputs show is claimed; anything
// else is `unknown` with a hint that lists what is known and what remains possible.

export { instructionFingerprint };

export const isFrom = (s: Pick<StepReport, 'instruction'>) => /^FROM\s/i.test(s.instruction);
const isCopy = (s: Pick<StepReport, 'instruction'>) => /^(COPY|ADD)\s/i.test(s.instruction);
const isRun = (s: Pick<StepReport, 'instruction'>) => /^RUN\s/i.test(s.instruction);

/**
 * `ReportOptions.previous` as `previousFromRecord` fills it: besides the declared fields, what
 * records of this version on keep. Older records have none of these: the causes they would tell
 * stay unknown, never guessed.
 */
export interface PreviousBuildFacts extends NonNullable<ReportOptions['previous']> {
  /** `<platform>|<root stage>` (as `rootKey`) -> `ref@sha256:...`: what each root stage's FROM resolved to. */
  stageBases?: Record<string, string>;
  /** Per stage (lower case), its instructions in order (`stageInstructionList` entries). */
  stageInstructions?: Record<string, string[]>;
}

/** A base image change found in the record's per-stage bases: which root stage, and its previous reference. */
export type BaseImageChange = Extract<MissCause, { kind: 'base-image' }> & { stage: string; previousImage: string };

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

/**
 * The Dockerfile step a reported step is. BuildKit numbers a stage's RUN/COPY/ADD/WORKDIR steps after
 * its FROM (`[base 3/5]` is the second), so when the counts agree the number says which; else the
 * keyword and the text at the end of the name, variables matching any value (BuildKit shows `RUN echo
 * "pkgs $V"` as `RUN echo "pkgs 2"`).
 */
function modelStep(stage: Stage, step: StepReport): Step | undefined {
  const instruction = normalize(step.instruction);
  const keyword = instruction.split(' ')[0]?.toUpperCase();
  const numbered = stage.steps.filter((s) => STEP_KEYWORDS.has(s.keyword));
  const byNumber = numbered.length === step.total - 1 ? numbered[step.index - 2] : undefined;
  if (byNumber?.keyword === keyword) return byNumber;
  const candidates = stage.steps.filter((s) => s.keyword === keyword && s.text !== '');
  return candidates.find((s) => instruction.endsWith(normalize(s.text))) ?? candidates.find((s) => stepNamePattern(normalize(s.text)).test(instruction));
}

/** Build args the step's stage declares before it (all of the stage's when the step is not found). */
function declaredArgs(stage: Stage | undefined, step: StepReport): string[] | undefined {
  if (!stage) return undefined;
  const line = modelStep(stage, step)?.line ?? Number.POSITIVE_INFINITY;
  return stage.steps.filter((s) => s.keyword === 'ARG' && s.line < line).flatMap((s) => (s.argNames ?? []).map((a) => a.name));
}

const list = (names: string[]) => names.map((n) => `\`${n}\``).join(', ');

/**
 * A value kept per root stage, `key` being `<platform>|<stage>`. When BuildKit resolved two root
 * stages with the same FROM line to one vertex, it named that FROM step after one of them only: the
 * other then takes the value of a stage with the same FROM line and platform.
 */
function perRoot<T>(key: string, rootStage: Stage | undefined, model: DockerfileModel | undefined, get: (key: string) => T | undefined): T | undefined {
  const own = get(key);
  if (own !== undefined || !model || !rootStage || rootStage.from.stage) return own;
  const platform = key.slice(0, key.lastIndexOf('|'));
  const twins = model.stages.filter((s) => s !== rootStage && !s.from.stage && s.from.image === rootStage.from.image);
  return twins.map((s) => get(`${platform}|${s.name.toLowerCase()}`)).find((v) => v !== undefined);
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `ref@sha256:...` -> its parts (the digest last: a tag may precede it). */
export function splitBase(value: string): { ref: string; digest: string } | undefined {
  const at = value.lastIndexOf('@');
  const digest = value.slice(at + 1);
  return at > 0 && DIGEST.test(digest) ? { ref: value.slice(0, at), digest } : undefined;
}

/**
 * `cause`: the base image changed. `unchanged`: the previous build used the same digest, so neither
 * the base nor a build arg naming it is a cause. `unseen`: no FROM of the previous build resolved to
 * this digest, but its record names no base per stage (an older record), so the previous one is unknown.
 */
type BaseFinding = { cause?: MissCause; unchanged?: true; unseen?: string };

/**
 * The root stage's base image against the previous build: per stage when the record has per-stage
 * bases (a new tag, `FROM x:1@A` -> `FROM x:2@B`, or a build arg naming another image is then named
 * too), else by the image reference (older records: only a tag that moved).
 */
function baseImageFinding(key: string, rootStage: Stage | undefined, ctx: CauseContext, previous: PreviousBuildFacts | undefined): BaseFinding {
  const model = ctx.options.model;
  const image = perRoot(key, rootStage, model, (k) => ctx.fromSteps.get(k));
  const digest = image === undefined ? undefined : ctx.baseImages[image];
  if (image === undefined || digest === undefined) return {};
  const stage = rootStage?.name ?? key.slice(key.lastIndexOf('|') + 1);
  const recorded = previous?.stageBases ? perRoot(key, rootStage, model, (k) => previous.stageBases?.[k]) : undefined;
  const before = recorded === undefined ? undefined : splitBase(recorded);
  if (before) {
    if (before.digest === digest) return { unchanged: true };
    const cause: BaseImageChange = { kind: 'base-image', image, previous: before.digest, current: digest, stage, previousImage: before.ref };
    return { cause };
  }
  const sameRef = previous?.baseImages?.[image];
  if (sameRef !== undefined) return sameRef === digest ? { unchanged: true } : { cause: { kind: 'base-image', image, previous: sameRef, current: digest } };
  if (!previous?.baseImages) return {};
  // A digest some FROM of the previous build resolved to: the image may well be the one this stage had.
  if (Object.values(previous.baseImages).includes(digest)) return { unchanged: true };
  const ref = image.replace(/ \([^()]*\)$/, '');
  return { unseen: `the base image of stage ${stage} changed: ${ref}@${digest.slice(0, 19)} is none of the previous build's base images (its record is of an older version, without a base per stage)` };
}

/** The reported step as the Dockerfile parser reads it: BuildKit's name, variables already substituted. */
const parsedStep = (step: StepReport): Step | undefined => parseDockerfile(`FROM scratch\n${step.instruction}`).stages[0]?.steps[0];

const URL_SOURCE = /^[a-z][a-z0-9+.-]*:\/\/|^git@/i;

/** What a step reads from the build context: a COPY/ADD's sources (URLs are not), a RUN's bind mounts of it. */
const readFromContext = (parsed: Step | undefined): string[] => (parsed ? [...contextSources(parsed).filter((s) => !URL_SOURCE.test(s)), ...bindMountSources(parsed)] : []);

/**
 * The context sources of a COPY/ADD or a RUN's bind mounts, and the changed files among them that
 * BuildKit sends. An edit of the ignore file changes what a source sends with no file under it
 * changed: it is named when no sent file explains the step and the edit can reach the sources
 * (`unreached` when the file changed but cannot, for the hint).
 */
function copiedChanges(step: StepReport, changedFiles: string[], ignore: ContextIgnore | undefined): { files: string[]; excluded: string[]; unreached?: string } {
  const sources = readFromContext(parsedStep(step));
  if (!sources.length) return { files: [], excluded: [] };
  const matching = changedFiles.filter((f) => sources.some((s) => matchesSource(f.replace(/^\.\//, ''), s)));
  const wholeContext = sources.some((s) => ['', '.', '*'].includes(s.replace(/^\.?\/+/, '').replace(/\/+$/, '')));
  const { visible, excluded } = visibleChangedFiles(matching, ignore, wholeContext);
  const ignoreFile = ignore?.file;
  if (visible.length || !ignore || ignoreFile === undefined || !changedFiles.some((f) => f.replace(/^\.\//, '') === ignoreFile)) return { files: visible, excluded };
  return ignoreEditReaches(ignore, sources) ? { files: [ignoreFile], excluded } : { files: [], excluded, unreached: ignoreFile };
}

/**
 * What a step reads by name from outside the build and the context, whose content the record does
 * not keep: `COPY/ADD --from=<image>` (not a stage), `RUN --mount=from=<image>`, `ADD <url>`. An
 * image pinned by digest cannot change under its name and is left out.
 */
function namedSources(parsed: Step | undefined, model: DockerfileModel | undefined): string[] {
  if (!parsed) return [];
  // Without the model a bare name may be a stage: only a reference with a registry, tag or digest is surely an image.
  const isImage = (ref: string) => !/^\d+$/.test(ref) && !ref.includes('@sha256:') && (model ? findStage(model, ref) === undefined : /[/:.]/.test(ref));
  const from = parsed.keyword === 'COPY' || parsed.keyword === 'ADD' ? flag(parsed, 'from')?.value : undefined;
  const mounted = parsed.flags.filter((f) => f.name === 'mount' && f.options.from).map((f) => f.options.from as string);
  const urls = parsed.keyword === 'ADD' && !from && !flag(parsed, 'checksum') ? parsed.args.slice(0, -1).filter((s) => URL_SOURCE.test(s)) : [];
  return [
    ...(from && isImage(from) ? [`copies from image ${from}`] : []),
    ...mounted.filter(isImage).map((ref) => `mounts image ${ref}`),
    ...urls.map((url) => `downloads ${url}`),
  ];
}

/** `$NAME`, `${NAME}`, `${NAME:-x}`: the variables a text names. */
const referenced = (text: string) => new Set([...text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string));

/** The names an ENV sets (`ENV A=1 B=2`, or the old `ENV A 1`). */
const envNames = (step: Step) => (step.args[0]?.includes('=') ? step.args.map((a) => a.slice(0, a.indexOf('='))) : step.args.slice(0, 1));

/**
 * The changed build args a missed step sees. A RUN has every ARG its stage declared before it in
 * its environment. Any other step (COPY, ADD, WORKDIR: BuildKit expands their text and flags) only
 * the ones it names, directly or through an ENV set from them before it in the stage.
 */
function argsSeenBy(step: StepReport, stage: Stage | undefined, changed: string[]): string[] {
  const declared = declaredArgs(stage, step);
  const own = stage ? modelStep(stage, step) : undefined;
  if (isRun(step) || !stage || !own) {
    // Without the model step, BuildKit's name may still show a variable it could not substitute.
    return changed.filter((n) => (declared ? isRun(step) && declared.includes(n) : referenced(step.instruction).has(n)));
  }
  const carriers = new Map<string, Set<string>>();
  for (const s of stage.steps.filter((x) => x.line < own.line)) {
    if (s.keyword === 'ARG') for (const { name } of s.argNames ?? []) if (changed.includes(name)) carriers.set(name, new Set([name]));
    if (s.keyword !== 'ENV') continue;
    const carried = new Set([...referenced(s.text)].flatMap((v) => [...(carriers.get(v) ?? [])]));
    for (const name of envNames(s)) {
      if (carried.size) carriers.set(name, carried);
      else carriers.delete(name);
    }
  }
  const seen = new Set([...referenced(instructionText(own))].flatMap((v) => [...(carriers.get(v) ?? [])]));
  return changed.filter((n) => seen.has(n));
}

/** `an earlier instruction of stage base changed or was removed (line 7)`. */
export function describeEarlierChange(change: Omit<Extract<EarlierChange, { kind: 'earlier' }>, 'kind'>): string {
  const where = change.removed ? `removed ${change.removed} line ${change.line}` : `line ${change.line}`;
  return `an earlier instruction of stage ${change.stage} changed or was removed (${where})`;
}

/**
 * `base image of stage base changed localhost/base:1@sha256:a2dcfbbd4ac0 -> localhost/base:2@sha256:e3683c8f3a42`
 * for a base image whose reference changed (a new tag, or a build arg naming another image); undefined
 * for other causes, which `describeCause` words as before (`base image x:1 moved (A -> B)`).
 */
export function describeBaseImageChange(cause: MissCause): string | undefined {
  if (cause.kind !== 'base-image' || cause.stage === undefined || cause.previousImage === undefined) return undefined;
  const ref = cause.image.replace(/ \([^()]*\)$/, '');
  if (cause.previousImage === ref) return undefined;
  return `base image of stage ${cause.stage} changed ${cause.previousImage}@${cause.previous.slice(0, 19)} -> ${ref}@${cause.current.slice(0, 19)}`;
}

/** Why a miss is unexplained, from what is known about the cache, the record and the changed files. */
function unknownHint(step: StepReport, stage: Stage | undefined, ctx: CauseContext, base: BaseFinding, sameDockerfile: boolean): string {
  // The record's base of the stage differs, yet steps on it were cached: they came from another build
  // (or the record is older than the cache), so the change is no sure cause, but worth knowing.
  const moved = base.cause as Partial<BaseImageChange> | undefined;
  const baseNote = moved?.stage && moved.previous && moved.current
    ? `the base image of stage ${moved.stage} is not the previous build's (${moved.previous.slice(0, 19)} -> ${moved.current.slice(0, 19)}), yet steps on it were cached (from another build); `
    : '';
  return baseNote + hintText(step, stage, ctx, sameDockerfile);
}

/** `sameDockerfile`: the stage instructions of both builds agree up to the step (`earlierChange` found none). */
function hintText(step: StepReport, stage: Stage | undefined, ctx: CauseContext, sameDockerfile: boolean): string {
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
  const sameInstruction = sameDockerfile || (stage !== undefined && (recorded?.[stage.name.toLowerCase()] ?? []).includes(fingerprint));
  const parsed = parsedStep(step);
  // An image or URL source is fetched by name: the same name may give other content, which no record keeps.
  const named = namedSources(parsed, options.model);
  if (named.length) {
    const what = `${named.join(' and ')}, whose content may have changed under the same ${named.some((n) => n.startsWith('downloads')) ? 'tag or URL' : 'tag'} (not recorded)`;
    return sameInstruction ? `its instruction is unchanged and it ${what}` : `its instruction changed, or it ${what}`;
  }
  const bound = isRun(step) && readFromContext(parsed).length > 0;
  if (isCopy(step) || bound) {
    const file = bound ? 'a bind-mounted file' : 'a copied file';
    if (options.changedFiles === undefined) {
      return `its instruction or ${file} changed; the changed files are unknown (${options.changedFilesUnknown ?? 'no commit to compare with'})`;
    }
    const ignore = options.contextIgnore;
    const { excluded, unreached } = copiedChanges(step, options.changedFiles, ignore);
    const excludedNote = excluded.length ? `${ignore?.file ?? 'the ignore file'} excludes the changed ${excluded.slice(0, 5).join(', ')}${excluded.length > 5 ? ` (+${excluded.length - 5})` : ''}` : '';
    const unreachedNote = unreached ? `the edit of ${unreached} matches nothing under them` : '';
    const notes = [excludedNote, unreachedNote].filter(Boolean);
    const note = notes.length ? ` (${notes.join('; ')})` : '';
    return sameInstruction
      ? `its instruction is unchanged and no changed file matches its sources${note}: the cache may come from an older commit`
      : `its instruction or ${file} changed; no changed file matches its sources${note}`;
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
  const { model, changedFiles } = ctx.options;
  const previous = ctx.options.previous as PreviousBuildFacts | undefined;
  const stage = model && step.stage ? findStage(model, step.stage) : undefined;
  const changed = changedArgs(ctx.options.buildArgs?.[ctx.flavour], previous?.buildArgs?.[ctx.flavour]);
  // 1. The base image under this step's stage changed, or a changed build arg names it (`FROM
  //    ${BASE_IMAGE}`) and the previous digest is not known to match. Only when no step under the same
  //    root was cached: else the cache had this base, and the record may be older than the cache.
  const root = rootKey(step.platform ?? '', step.stage, model);
  const rootStage = model && stage ? rootStageOf(model, stage) : undefined;
  const base = baseImageFinding(root, rootStage, ctx, previous);
  if (!ctx.cachedRoots.has(root)) {
    if (base.cause) return base.cause;
    const names = model && rootStage && !base.unchanged ? fromArgNames(model, rootStage).filter((n) => changed.includes(n)) : [];
    if (names.length) return { kind: 'build-arg', names };
    if (base.unseen) return { kind: 'unknown', hint: base.unseen };
  }
  // 2. A COPY/ADD (or a RUN's bind mount of the context) whose sources include a changed file that
  //    BuildKit sends (not excluded by the ignore file), or an edit of the ignore file that reaches them.
  if (isCopy(step) || isRun(step)) {
    const { files } = copiedChanges(step, changedFiles ?? [], ctx.options.contextIgnore);
    if (files.length) return { kind: 'context-files', files };
  }
  // 3. A build arg that changed and that the step sees (see `argsSeenBy`).
  if (changed.length) {
    const names = argsSeenBy(step, stage, changed);
    if (names.length) return { kind: 'build-arg', names };
  }
  // 4. With both builds' stage instructions, the Dockerfile tells: the step is new or edited, or an
  //    instruction before it (an ENV, USER, a deleted line, ...) in its stage or a stage it builds FROM
  //    changed. Else the step's name is compared with the record (which ARG and ENV values shown in
  //    RUN names can fool).
  const own = stage ? modelStep(stage, step) : undefined;
  const earlier = model && stage && own && previous?.stageInstructions && ctx.anyCached ? earlierChange(model, stage, own, previous.stageInstructions) : undefined;
  if (earlier?.kind === 'edited') return { kind: 'instruction' };
  if (earlier?.kind === 'earlier') return { kind: 'earlier-instruction', stage: earlier.stage, line: earlier.line, ...(earlier.removed ? { removed: earlier.removed } : {}) };
  // A name with substituted values (it does not end with the Dockerfile's text) differs with them alone.
  const literal = own === undefined || normalize(step.instruction).endsWith(normalize(own.text));
  const recorded = previous?.instructions;
  if (!earlier && literal && recorded && ctx.anyCached && !Object.values(recorded).some((fps) => fps.includes(instructionFingerprint(step.instruction)))) {
    return { kind: 'instruction' };
  }
  return { kind: 'unknown', hint: unknownHint(step, stage, ctx, base, earlier?.kind === 'none') };
}
