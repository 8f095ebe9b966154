import type { StepReport } from './report.js';

// Which flavour and step a failed bake failed at, from what buildx itself says, and which vertex errors
// are not failures at all: BuildKit cancels the duplicate vertex of a step two targets share once one
// of them ran it (`failed to calculate checksum of ref ...: context canceled`), and cancels the steps
// still running when another target fails.

/**
 * A cancellation, not a failure of the step: BuildKit's own progress printer shows `CANCELED` for an
 * error that ends in `context canceled`, and so does this report.
 */
export function isCancellation(error: string | undefined): boolean {
  return error !== undefined && /\bcontext canceled\s*$/i.test(error);
}

/** One `ERROR: [target <name>: ]failed to solve: <error>` line of buildx (0.13 names no target, 0.17+ does with several). */
export interface SolveError {
  target?: string;
  error: string;
}

const ERROR_LINE = /^error:\s+(?:target\s+([^\s:]+):\s+)?(?:failed to solve:\s+)?(.+)$/i;

/** buildx's ERROR lines among the plain lines it printed between the statuses, in order. */
export function solveErrors(messages: readonly string[]): SolveError[] {
  return messages.flatMap((line) => {
    const match = ERROR_LINE.exec(line.trim());
    if (!match) return [];
    return [{ ...(match[1] ? { target: match[1] } : {}), error: (match[2] ?? '').trim() }];
  });
}

/** The failure of a bake that exited non-zero: whose build failed, at which step, with what error. */
export interface BuildFailure {
  /** The flavour buildx named (`target <name>:`), else the first whose steps hold the failed step. */
  flavour?: string;
  step?: StepReport;
  error: string;
}

/** buildx's message and a vertex error name the same failure (buildx may wrap it: `failed to compute cache key: ...`). */
const sameError = (message: string, vertexError: string) => message === vertexError || message.includes(vertexError) || vertexError.includes(message);

/**
 * The failure as buildx reports it: its first `ERROR` line, matched to the step whose vertex failed
 * with that error (the named target's own steps first). Without such a line, the first step that
 * failed other than by cancellation, else the first cancelled one. Undefined when nothing failed.
 */
export function findFailure(
  messages: readonly string[],
  steps: readonly StepReport[],
  flavourSteps: ReadonlyArray<{ flavour: string; steps: readonly StepReport[] }>,
): BuildFailure | undefined {
  const failedSteps = steps.filter((s) => s.status === 'error' && s.error);
  const real = failedSteps.filter((s) => !isCancellation(s.error));
  const ownerOf = (step: StepReport | undefined) => (step ? flavourSteps.find((f) => f.steps.some((s) => s === step || sameStep(s, step)))?.flavour : undefined);
  const flavourNames = new Set(flavourSteps.map((f) => f.flavour));
  const reported = solveErrors(messages)[0];
  if (reported) {
    const target = reported.target !== undefined && flavourNames.has(reported.target) ? reported.target : undefined;
    const matching = real.filter((s) => sameError(reported.error, s.error as string));
    const ofTarget = target ? flavourSteps.find((f) => f.flavour === target)?.steps ?? [] : [];
    const step = matching.find((s) => ofTarget.some((o) => sameStep(o, s))) ?? matching[0];
    const flavour = target ?? ownerOf(step);
    return { ...(flavour ? { flavour } : {}), ...(step ? { step } : {}), error: reported.error };
  }
  const step = real[0] ?? failedSteps[0];
  if (!step) return undefined;
  const flavour = ownerOf(step);
  return { ...(flavour ? { flavour } : {}), step, error: step.error as string };
}

/** The same Dockerfile step (platform, stage, number), whichever object carries it. */
export const sameStep = (a: Pick<StepReport, 'platform' | 'stage' | 'index' | 'total'>, b: Pick<StepReport, 'platform' | 'stage' | 'index' | 'total'>) =>
  (a.platform ?? '') === (b.platform ?? '') && (a.stage ?? '').toLowerCase() === (b.stage ?? '').toLowerCase() && a.index === b.index && a.total === b.total;
