import { isCancellation } from './build-failure.js';
import type { SolveStatus } from './rawjson.js';

interface VertexState {
  number: number;
  name: string;
  announced: boolean;
  finished: boolean;
}

/**
 * Turns the rawjson SolveStatus stream back into a readable log like `--progress=plain`: a line when
 * a step starts, its output, and `CACHED` / `DONE 1.2s` / `ERROR` when it ends. The action reads
 * rawjson for the report, and people still need to see what the build did and why it failed.
 */
export class ProgressLog {
  private readonly vertices = new Map<string, VertexState>();
  private next = 1;

  constructor(private readonly write: (line: string) => void) {}

  private stateOf(digest: string, name: string | undefined): VertexState {
    let state = this.vertices.get(digest);
    if (!state) {
      state = { number: this.next++, name: name ?? digest, announced: false, finished: false };
      this.vertices.set(digest, state);
    } else if (name) {
      state.name = name;
    }
    return state;
  }

  status(status: SolveStatus): void {
    for (const vertex of status.vertexes ?? []) {
      const state = this.stateOf(vertex.digest, vertex.name);
      if ((vertex.started || vertex.cached) && !state.announced) {
        state.announced = true;
        this.write(`#${state.number} ${state.name}`);
      }
      if (state.finished || !(vertex.completed || vertex.cached || vertex.error)) continue;
      state.finished = true;
      // As buildx prints it: a vertex BuildKit cancelled (a duplicate of a shared step, or one still
      // running when another target failed) did not fail.
      if (vertex.error) this.write(isCancellation(vertex.error) ? `#${state.number} CANCELED` : `#${state.number} ERROR: ${vertex.error}`);
      else if (vertex.cached) this.write(`#${state.number} CACHED`);
      else {
        const seconds = vertex.started && vertex.completed ? (Date.parse(vertex.completed) - Date.parse(vertex.started)) / 1000 : 0;
        this.write(`#${state.number} DONE ${seconds.toFixed(1)}s`);
      }
    }
    for (const log of status.logs ?? []) {
      const state = this.stateOf(log.vertex, undefined);
      const text = Buffer.from(log.data, 'base64').toString('utf8');
      for (const line of text.split(/\r?\n/)) if (line.trim() !== '') this.write(`#${state.number} ${line}`);
    }
    for (const warning of status.warnings ?? []) {
      this.write(`WARNING: ${warning.short ? Buffer.from(warning.short, 'base64').toString('utf8') : 'see the build log'}`);
    }
  }
}
