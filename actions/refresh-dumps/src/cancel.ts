import { ActionError } from '@org/action-inputs';

/**
 * A cancelled workflow run: the runner sends SIGINT, then SIGTERM about 7.5 s later, then kills the
 * process. Without a handler Node exits on the first signal, leaving the store lease a publish or prune
 * holds, which then blocks later prunes (10 min) or publishes (5 min). During the publish and retention,
 * both signals abort instead: they stop at their next safe point and release their leases.
 */
export type CancelledPhase = { phase: 'publish'; commit: string } | { phase: 'retention'; version: string };

/** The step's one failure message for a run cancelled during `phase`. */
export function cancelledMessage(signal: string, during: CancelledPhase): string {
  const cancelled = `The workflow run was cancelled (${signal})`;
  if (during.phase === 'publish') {
    return `${cancelled} while publishing ${during.commit}: the publish stopped before naming a version (no commit entry or ref written) and released its lease on the store; the blobs it uploaded stay and the next publish reuses them. Re-run the workflow to publish this commit`;
  }
  return `${cancelled} during retention, after version ${during.version} was published: retention stopped before or between its delete batches (nothing kept names what it deleted) and released its lease; the next run's retention catches up`;
}

export class CancelledError extends ActionError {
  constructor(
    readonly signal: string,
    during: CancelledPhase,
  ) {
    super(cancelledMessage(signal, during), true);
  }
}

/** The abort reason: which signal cancelled the run. */
class Cancel extends Error {
  constructor(readonly signal: string) {
    super(`cancelled (${signal})`);
  }
}

/** Where signal handlers go (the process; tests pass an EventEmitter). */
export interface SignalSource {
  on(event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * Runs `work` with SIGINT and SIGTERM turned into an abort of the signal it is given; the handlers are
 * removed when it settles. A later signal only logs: the runner's kill ends the process in any case, and
 * exiting earlier could only cut the release of a lease short.
 */
export async function whileCancellable<T>(work: (signal: AbortSignal) => Promise<T>, log: (message: string) => void, source: SignalSource = process): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log(`${signal}: still stopping the publish or retention (releasing its store lease)`);
      return;
    }
    log(`${signal}: the run is being cancelled; stopping the publish or retention at its next safe point and releasing its store lease`);
    controller.abort(new Cancel(signal));
  };
  source.on('SIGINT', onSignal);
  source.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    source.off('SIGINT', onSignal);
    source.off('SIGTERM', onSignal);
  }
}

/** Whether `error` is the abort's reason, or wraps it (its `cause` chain). */
function stoppedBy(error: unknown, reason: unknown): boolean {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 10; current = (current as { cause?: unknown }).cause, depth++) {
    if (current === reason) return true;
  }
  return false;
}

/**
 * Runs one cancellable part of the run: what it throws because `signal` was aborted (the abort reason, or
 * an error wrapping it) becomes the one CancelledError for `during`. Any other failure is its own, even
 * after a cancel (a publish past its commit entry that then failed must not read "stopped before naming a
 * version"). Work that finished despite the abort returns normally.
 */
export async function unlessCancelled<T>(signal: AbortSignal | undefined, during: CancelledPhase, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (signal?.aborted && stoppedBy(error, signal.reason)) throw new CancelledError(signal.reason instanceof Cancel ? signal.reason.signal : 'aborted', during);
    throw error;
  }
}
