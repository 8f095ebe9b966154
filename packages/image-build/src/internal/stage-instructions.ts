import { createHash } from 'node:crypto';
import { findStage, instructionText, STEP_KEYWORDS } from './dockerfile-model.js';
import type { DockerfileModel, Stage, Step } from './dockerfile-model.js';

// Each stage's instructions in order, as the build record keeps them (`<KEYWORD> sha256:<hex>`), and
// the first difference to the previous build's that can explain a cache miss: an edited ENV, USER,
// SHELL or WORKDIR line, or a line deleted before the step, leaves the step's own text unchanged.

/** `sha256:<hex>` of an instruction as BuildKit names it (whitespace runs collapsed): kept in the build record. */
export function instructionFingerprint(instruction: string): string {
  return `sha256:${createHash('sha256').update(instruction.replace(/\s+/g, ' ').trim()).digest('hex')}`;
}

/**
 * Image config only: no build step and no later step's cache key depends on them (checked: a
 * changed LABEL leaves every step cached). Left out of the lists, so editing them is no cause.
 */
const CONFIG_ONLY = new Set(['LABEL', 'EXPOSE', 'CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'STOPSIGNAL', 'VOLUME', 'MAINTAINER']);

export interface ListedInstruction {
  keyword: string;
  line: number;
  /** `<KEYWORD> sha256:<hex>`, as the record keeps it. */
  entry: string;
  /** The model's step (none for the FROM entry). */
  step?: Step;
}

/** The global ARG a stage's `ARG NAME` (without a default of its own) takes its default from. */
function globalDefault(model: DockerfileModel, name: string): string | null | undefined {
  const found = model.globalArgs.flatMap((s) => s.argNames ?? []).filter((a) => a.name === name);
  return found.length ? (found[found.length - 1]?.value ?? null) : undefined;
}

function textOf(model: DockerfileModel, step: Step): string {
  const text = instructionText(step);
  if (step.keyword !== 'ARG') return text;
  // `ARG NAME` in a stage takes the global default: a changed default changes what its steps see.
  const inherited = (step.argNames ?? []).filter((a) => a.value === null).map((a) => `${a.name}=${JSON.stringify(globalDefault(model, a.name) ?? null)}`);
  return inherited.length ? `${text} (global ${inherited.join(' ')})` : text;
}

const entryOf = (keyword: string, text: string) => `${keyword} ${instructionFingerprint(text)}`;

/**
 * A stage's instructions in order, config-only ones left out. The first entry stands for the FROM
 * line: the parent stage's name, or just `FROM` for an image (whose digest the record compares).
 */
export function stageInstructionList(model: DockerfileModel, stage: Stage): ListedInstruction[] {
  const from = stage.from.stage ? `FROM ${stage.from.stage}` : 'FROM';
  return [
    { keyword: 'FROM', line: stage.from.line, entry: entryOf('FROM', from) },
    ...stage.steps.filter((s) => !CONFIG_ONLY.has(s.keyword)).map((step) => ({ keyword: step.keyword, line: step.line, entry: entryOf(step.keyword, textOf(model, step)), step })),
  ];
}

/** Per stage (lower case), the entries of `stageInstructionList`: what the build record keeps. */
export function recordedStageInstructions(model: DockerfileModel): Record<string, string[]> {
  return Object.fromEntries(model.stages.map((stage) => [stage.name.toLowerCase(), stageInstructionList(model, stage).map((i) => i.entry)]));
}

export const STAGE_ENTRY = /^[A-Z]+ sha256:[0-9a-f]{64}$/;

type Op = { type: 'add'; at: number } | { type: 'remove'; at: number; entry: string };

/** The edits that turn `before` into `now` (longest common subsequence), in order; `at` is an index of `now`. */
function edits(now: string[], before: string[]): Op[] {
  const n = now.length;
  const m = before.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = now[i] === before[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && now[i] === before[j]) {
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      ops.push({ type: 'add', at: i++ });
    } else {
      ops.push({ type: 'remove', at: i, entry: before[j++] as string });
    }
  }
  return ops;
}

/** Where the missed step sits in its stage's list, if the model step is known. */
function positionOf(list: ListedInstruction[], step: Step | undefined): number | undefined {
  const at = step ? list.findIndex((i) => i.step === step) : -1;
  return at >= 0 ? at : undefined;
}

/**
 * `edited`: the missed step itself is new or edited. `earlier`: an instruction before it, in its stage
 * or a stage it is built FROM, changed or was added (`line` is that line), or was removed (before
 * `line`, or after it when it was the last of an ancestor stage). `none`: the step and everything
 * before it that its cache key depends on are as in the previous build.
 */
export type EarlierChange = { kind: 'edited' } | { kind: 'earlier'; stage: string; line: number; removed?: 'before' | 'after' } | { kind: 'none' };

interface ChainStage {
  stage: Stage;
  list: ListedInstruction[];
  /** Entries that precede the missed step: the whole list of an ancestor, the missed step's own stage up to it. */
  end: number;
}

/**
 * Whether an edit of a `keyword` instruction at `at` of chain stage `c` can change the cache key of
 * the missed step: RUN/COPY/ADD/WORKDIR and FROM change every later step; ENV, ARG, USER and SHELL
 * only what a later RUN sees (ENV and ARG also a later step whose text names a variable; ARG stays
 * in its stage); ONBUILD only the stages built FROM this one.
 */
function relevant(chain: ChainStage[], c: number, at: number, keyword: string): boolean {
  if (keyword === 'FROM' || STEP_KEYWORDS.has(keyword)) return true;
  if (keyword === 'ONBUILD') return c < chain.length - 1;
  if (!['ENV', 'ARG', 'USER', 'SHELL'].includes(keyword)) return false;
  const later = chain.flatMap((s, k) => (k < c || (keyword === 'ARG' && k !== c) ? [] : s.list.slice(k === c ? at : 0, s.end + (k === chain.length - 1 ? 1 : 0))));
  return later.some((i) => i.keyword === 'RUN' || ((keyword === 'ENV' || keyword === 'ARG') && i.step !== undefined && STEP_KEYWORDS.has(i.keyword) && i.step.text.includes('$')));
}

/**
 * The first difference to the previous build, along the FROM chain of the missed step's stage (root
 * first), that can have changed the step's cache key: the step itself is new or edited, or an
 * earlier instruction changed, was added or was removed. Undefined when a stage of the chain is not
 * in the record (renamed, or an older record): nothing is known then.
 */
export function earlierChange(model: DockerfileModel, stage: Stage, step: Step, previous: Record<string, string[]>): EarlierChange | undefined {
  const stages: Stage[] = [stage];
  for (let parent = stage.from.stage ? findStage(model, stage.from.stage) : undefined; parent && !stages.includes(parent); ) {
    stages.unshift(parent);
    parent = parent.from.stage ? findStage(model, parent.from.stage) : undefined;
  }
  const chain: ChainStage[] = [];
  for (const s of stages) {
    const list = stageInstructionList(model, s);
    const end = s === stage ? positionOf(list, step) : list.length;
    if (end === undefined || !previous[s.name.toLowerCase()]) return undefined;
    chain.push({ stage: s, list, end });
  }
  for (const [c, { stage: s, list, end }] of chain.entries()) {
    const own = c === chain.length - 1;
    for (const op of edits(list.map((i) => i.entry), previous[s.name.toLowerCase()] as string[])) {
      if (own && op.type === 'add' && op.at === end) return { kind: 'edited' };
      if (op.at > end || (op.type === 'add' && op.at === end)) continue;
      const keyword = op.type === 'add' ? (list[op.at]?.keyword as string) : (op.entry.split(' ')[0] as string);
      if (!relevant(chain, c, op.at + (op.type === 'add' ? 1 : 0), keyword)) continue;
      const next = list[op.at];
      if (op.type === 'add' || next) return { kind: 'earlier', stage: s.name, line: (next as ListedInstruction).line, ...(op.type === 'remove' ? { removed: 'before' as const } : {}) };
      return { kind: 'earlier', stage: s.name, line: list[list.length - 1]?.line ?? s.from.line, removed: 'after' };
    }
  }
  return { kind: 'none' };
}
