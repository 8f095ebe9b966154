import type { PhaseTiming } from './summary.js';

/**
 * Wall time of each phase of the run, with its start as milliseconds since the process started (some
 * phases overlap: waiting for the servers runs beside the git and store work).
 */
export class PhaseClock {
  readonly phases: PhaseTiming[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  async time<T>(name: string, body: () => Promise<T>): Promise<T> {
    const startMs = this.now();
    try {
      return await body();
    } finally {
      this.phases.push({ name: this.unique(name), startMs, ms: this.now() - startMs });
    }
  }

  /** Milliseconds since the process started (performance.now()'s origin): the total the summary shows. */
  elapsed(): number {
    return this.now();
  }

  /** A phase that runs twice (a full run redoing an incremental one) is listed twice, told apart. */
  private unique(name: string): string {
    let candidate = name;
    for (let n = 2; this.phases.some((phase) => phase.name === candidate); n++) candidate = `${name} (${n})`;
    return candidate;
  }
}
