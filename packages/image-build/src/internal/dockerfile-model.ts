import { DockerfileParser } from 'dockerfile-ast';
import type { Arg, Copy, From, Instruction } from 'dockerfile-ast';
import { DockerfileError } from './errors.js';

/** One `--flag=value` of an instruction; `options` splits `type=cache,target=/x` style values. */
export interface StepFlag {
  name: string;
  value: string;
  options: Record<string, string>;
}

/** One instruction, with 1-based line numbers as an editor and GitHub annotations count them. */
export interface Step {
  keyword: string;
  line: number;
  endLine: number;
  /** The arguments after the flags, as written (line continuations joined). */
  text: string;
  /** Arguments after the flags, split as the shell form would be (JSON form: the JSON strings). */
  args: string[];
  flags: StepFlag[];
  /** ARG only: the declared names with their defaults. */
  argNames?: Array<{ name: string; value: string | null }>;
}

export interface Stage {
  index: number;
  /** The `AS` name, or `stage-<index>` for unnamed stages (as BuildKit's progress names them). */
  name: string;
  /** The FROM line's image, or the stage it builds on. */
  from: { line: number; image: string; stage?: string; tag?: string; digest?: string };
  steps: Step[];
}

export interface DockerfileModel {
  /** Path as given, for findings and annotations. */
  file: string;
  globalArgs: Step[];
  stages: Stage[];
}

function lineOf(instruction: Instruction): { line: number; endLine: number } {
  const range = instruction.getRange();
  return { line: range.start.line + 1, endLine: range.end.line + 1 };
}

function flagsOf(instruction: Instruction): StepFlag[] {
  const withFlags = instruction as Instruction & { getFlags?: () => ReturnType<Copy['getFlags']> };
  if (typeof withFlags.getFlags !== 'function') return [];
  return withFlags.getFlags().map((flag) => ({
    name: flag.getName(),
    value: flag.getValue() ?? '',
    options: Object.fromEntries(flag.getOptions().map((o) => [o.getName(), o.getValue() ?? ''])),
  }));
}

function argsOf(instruction: Instruction): string[] {
  const json = instruction as Instruction & { getJSONStrings?: () => ReturnType<Copy['getJSONStrings']> };
  const strings = typeof json.getJSONStrings === 'function' ? json.getJSONStrings() : [];
  if (strings.length > 0) return strings.map((s) => s.getJSONValue());
  return instruction.getArguments().map((a) => a.getValue());
}

function stepOf(instruction: Instruction): Step {
  const content = instruction.getArgumentsContent() ?? '';
  // BuildKit strips an instruction line's `\r\n`, but a heredoc body (after the `<<EOF` line) keeps its
  // bytes: a CRLF body runs differently, so its `\r` stays in the text, written `\r` so no whitespace
  // collapsing (here, `instructionText`, `instructionFingerprint`) loses it.
  const lineEnd = content.indexOf('\n');
  const heredoc = lineEnd >= 0 && /<<-?\s*["']?[A-Za-z_]/.test(content.slice(0, lineEnd));
  const text = heredoc ? `${content.slice(0, lineEnd)}\n${content.slice(lineEnd + 1).replace(/\r/g, '\\r')}` : content;
  const step: Step = {
    keyword: instruction.getKeyword().toUpperCase(),
    ...lineOf(instruction),
    text: text.replace(/\s+/g, ' ').trim(),
    args: argsOf(instruction),
    flags: flagsOf(instruction),
  };
  if (step.keyword === 'ARG') step.argNames = argNamesOf(instruction as Arg, step.text);
  return step;
}

/** One word of an ARG instruction: quotes and backslash escapes keep a value with spaces together. */
const ARG_WORD = /(?:[^\s"'\\]|\\.|"(?:[^"\\]|\\.)*"|'[^']*')+/g;

/**
 * The names an ARG declares as BuildKit reads it: every word is `NAME` or `NAME=value`, so `ARG FOO
 * HTTP_PROXY` declares two ARGs without defaults (dockerfile-ast reads it like ENV's old `key value`
 * form: FOO with the value HTTP_PROXY). Values come unquoted from the parser.
 */
function argNamesOf(instruction: Arg, text: string): Array<{ name: string; value: string | null }> {
  const parsed = new Map(instruction.getProperties().map((p) => [p.getName(), p.getValue()]));
  return (text.match(ARG_WORD) ?? []).flatMap((word) => {
    const equals = word.indexOf('=');
    const name = equals < 0 ? word : word.slice(0, equals);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return [];
    return [{ name, value: equals < 0 ? null : (parsed.get(name) ?? word.slice(equals + 1)) }];
  });
}

/** Parses a Dockerfile into its stages with dockerfile-ast. */
export function parseDockerfile(content: string, file = 'Dockerfile'): DockerfileModel {
  const parsed = DockerfileParser.parse(content);
  const model: DockerfileModel = { file, globalArgs: [], stages: [] };
  const names = new Set<string>();
  for (const instruction of parsed.getInstructions()) {
    const keyword = instruction.getKeyword().toUpperCase();
    if (keyword === 'FROM') {
      const from = instruction as From;
      const index = model.stages.length;
      const name = from.getBuildStage() ?? `stage-${index}`;
      const image = from.getImage() ?? '';
      const base = image.toLowerCase();
      model.stages.push({
        index,
        name,
        from: {
          line: lineOf(instruction).line,
          image,
          ...(names.has(base) ? { stage: base } : {}),
          ...(from.getImageTag() ? { tag: from.getImageTag() as string } : {}),
          ...(from.getImageDigest() ? { digest: from.getImageDigest() as string } : {}),
        },
        steps: [],
      });
      names.add(name.toLowerCase());
      continue;
    }
    const step = stepOf(instruction);
    const stage = model.stages.at(-1);
    if (stage) stage.steps.push(step);
    else if (keyword === 'ARG') model.globalArgs.push(step);
  }
  if (model.stages.length === 0) throw new DockerfileError(`${file} has no FROM instruction.`);
  return model;
}

export function flag(step: Step, name: string): StepFlag | undefined {
  return step.flags.find((f) => f.name === name);
}

/** COPY/ADD sources from the build context (none for `--from` copies and heredocs). */
export function contextSources(step: Step): string[] {
  if ((step.keyword !== 'COPY' && step.keyword !== 'ADD') || flag(step, 'from')) return [];
  if (step.args.some((a) => a.startsWith('<<'))) return [];
  return step.args.slice(0, -1);
}

/**
 * RUN `--mount=type=bind` sources from the build context (`docker init`'s pattern of binding
 * requirements.txt or package.json for an install): the step reads them like a COPY would. A bind
 * without `from` reads the context; without `source`/`src` it binds the whole context (`.`).
 */
export function bindMountSources(step: Step): string[] {
  if (step.keyword !== 'RUN') return [];
  return step.flags
    .filter((f) => f.name === 'mount' && f.options.type === 'bind' && !f.options.from)
    .map((f) => f.options.source || f.options.src || '.');
}

export function findStage(model: DockerfileModel, name: string): Stage | undefined {
  const wanted = name.toLowerCase();
  return model.stages.find((s) => s.name.toLowerCase() === wanted);
}

/** The stages another stage needs: its FROM chain, `COPY --from` and `RUN --mount=from=` sources. */
export function stageDependencies(model: DockerfileModel, stage: Stage): Stage[] {
  const refs = new Set<string>();
  if (stage.from.stage) refs.add(stage.from.stage);
  for (const step of stage.steps) {
    const from = flag(step, 'from')?.value;
    if (from) refs.add(from.toLowerCase());
    for (const mount of step.flags.filter((f) => f.name === 'mount')) {
      if (mount.options.from) refs.add(mount.options.from.toLowerCase());
    }
  }
  return [...refs].flatMap((ref) => {
    const found = findStage(model, ref) ?? (/^\d+$/.test(ref) ? model.stages[Number(ref)] : undefined);
    return found ? [found] : [];
  });
}

/** Every stage a target stage builds, the target included, in Dockerfile order. */
export function stageClosure(model: DockerfileModel, target: string): Stage[] {
  const root = findStage(model, target);
  if (!root) {
    const known = model.stages.map((s) => s.name).join(', ');
    throw new DockerfileError(`${model.file} has no stage \`${target}\` (stages: ${known}); fix the \`targets\` input.`);
  }
  const seen = new Map<number, Stage>();
  const visit = (stage: Stage) => {
    if (seen.has(stage.index)) return;
    seen.set(stage.index, stage);
    for (const dep of stageDependencies(model, stage)) visit(dep);
  };
  visit(root);
  return [...seen.values()].sort((a, b) => a.index - b.index);
}

/** `${NAME}`, `$NAME`, `${NAME:-default}` and `${NAME:+alt}` as BuildKit expands them in FROM. */
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * The image a stage's FROM names after expanding global ARGs (their defaults, overridden by
 * `buildArgs`), or undefined when a variable has no value or the stage builds FROM another stage.
 */
export function resolveFromImage(model: DockerfileModel, stage: Stage, buildArgs: Record<string, string> = {}): string | undefined {
  if (stage.from.stage) return undefined;
  const values = new Map<string, string>();
  for (const step of model.globalArgs) {
    for (const { name, value } of step.argNames ?? []) {
      const given = buildArgs[name] ?? value;
      if (given !== null && given !== undefined) values.set(name, given);
    }
  }
  let unresolved = false;
  const image = stage.from.image.replace(VARIABLE, (_, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
    const value = values.get((braced ?? bare) as string);
    if (op === '-') return value || (word ?? '');
    if (op === '+') return value ? (word ?? '') : '';
    if (value === undefined) unresolved = true;
    return value ?? '';
  });
  // A FROM whose expansion names a stage is not an image either.
  if (unresolved || image === '' || findStage(model, image)) return undefined;
  return image;
}

/** `repo[:tag][@digest]` split as Docker reads it (a `:` before the last `/` is a registry port). */
export function splitImageRef(ref: string): { repository: string; tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const colon = name.lastIndexOf(':');
  const hasTag = colon > name.lastIndexOf('/');
  return {
    repository: hasTag ? name.slice(0, colon) : name,
    ...(hasTag ? { tag: name.slice(colon + 1) } : {}),
    ...(digest ? { digest } : {}),
  };
}

/** The stage at the root of `stage`'s FROM chain: the one whose FROM names an image. */
export function rootStageOf(model: DockerfileModel, stage: Stage): Stage {
  let current = stage;
  const seen = new Set<number>();
  while (current.from.stage && !seen.has(current.index)) {
    seen.add(current.index);
    const parent = findStage(model, current.from.stage);
    if (!parent) break;
    current = parent;
  }
  return current;
}

/**
 * Instructions BuildKit turns into numbered build steps (`[stage 2/5] RUN ...`, FROM being step 1).
 * The others (ENV, ARG, USER, LABEL, ...) change only the image config or what later steps see.
 */
export const STEP_KEYWORDS: ReadonlySet<string> = new Set(['RUN', 'COPY', 'ADD', 'WORKDIR']);

/** An instruction on one line as written: keyword, flags, arguments, whitespace runs collapsed. */
export function instructionText(step: Step): string {
  return [step.keyword, ...step.flags.map((f) => `--${f.name}=${f.value}`), step.text].filter((part) => part !== '').join(' ').replace(/\s+/g, ' ').trim();
}

/** The global ARGs a stage's FROM line names (`FROM ${BASE_IMAGE} AS base` -> `BASE_IMAGE`), each once. */
export function fromArgNames(model: DockerfileModel, stage: Stage): string[] {
  const globals = new Set(model.globalArgs.flatMap((s) => (s.argNames ?? []).map((a) => a.name)));
  const used = [...stage.from.image.matchAll(VARIABLE)].map((m) => (m[1] ?? m[4]) as string);
  return [...new Set(used)].filter((name) => globals.has(name));
}

/**
 * `text` as a pattern of the step name BuildKit prints: BuildKit substitutes ARG and ENV values into
 * the names of RUN steps (`RUN echo "pkgs $V"` is shown as `RUN echo "pkgs 2"`), so each variable
 * matches any text. Anchored at the end: the name may start with flags.
 */
export function stepNamePattern(text: string): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const parts = text.split(new RegExp(VARIABLE.source)).filter((_, i) => i % 5 === 0);
  return new RegExp(`${parts.map(escape).join('.*?')}$`, 's');
}
