import { ProgressStreamError } from './errors.js';

/** The parts of BuildKit's SolveStatus that `--progress=rawjson` prints (client.SolveStatus). */
export interface RawVertex {
  digest: string;
  inputs?: string[];
  name?: string;
  cached?: boolean;
  started?: string;
  completed?: string;
  error?: string;
}
export interface RawStatus {
  id: string;
  vertex: string;
  name?: string;
  total?: number;
  current?: number;
  started?: string;
  completed?: string;
}
export interface RawLog {
  vertex: string;
  stream?: number;
  /** base64 */
  data: string;
  timestamp?: string;
}
export interface RawWarning {
  vertex: string;
  level?: number;
  /** base64 */
  short?: string;
  url?: string;
}
export interface SolveStatus {
  vertexes?: RawVertex[];
  statuses?: RawStatus[];
  logs?: RawLog[];
  warnings?: RawWarning[];
}

/**
 * Splits buildx's stderr into SolveStatus objects and plain-text lines. buildx prints each status
 * as indented JSON (not one object per line) and interleaves plain lines such as
 * `WARNING: local cache import ... not found`, so objects are delimited by brace depth
 * (outside strings) and anything between them is kept as text. Feed chunks as they arrive.
 */
export class RawJsonReader {
  private buffer = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scanned = 0;

  constructor(
    private readonly onStatus: (status: SolveStatus) => void,
    private readonly onText: (line: string) => void = () => {},
  ) {}

  push(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      if (this.depth === 0 && !this.startObject()) return;
      if (!this.scanObject()) return;
    }
  }

  /** At depth 0: drop whitespace, hand plain lines out, stop at a `{` that opens an object. */
  private startObject(): boolean {
    for (;;) {
      const trimmed = this.buffer.replace(/^\s+/, '');
      this.buffer = trimmed;
      if (trimmed === '') return false;
      if (trimmed.startsWith('{')) {
        this.scanned = 0;
        return true;
      }
      const end = trimmed.indexOf('\n');
      if (end < 0) return false;
      this.onText(trimmed.slice(0, end).trimEnd());
      this.buffer = trimmed.slice(end + 1);
    }
  }

  private scanObject(): boolean {
    const text = this.buffer;
    for (let i = this.scanned; i < text.length; i++) {
      const c = text[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === '{') this.depth++;
      else if (c === '}' && --this.depth === 0) {
        const json = text.slice(0, i + 1);
        this.buffer = text.slice(i + 1);
        this.scanned = 0;
        try {
          this.onStatus(JSON.parse(json) as SolveStatus);
        } catch (error) {
          throw new ProgressStreamError(`The build progress stream has an unreadable object: ${(error as Error).message}`);
        }
        return true;
      }
    }
    this.scanned = text.length;
    return false;
  }

  /** The stream ended: a half-written object means the build was cut off. */
  end(): void {
    if (this.depth > 0) throw new ProgressStreamError('The build progress stream ended inside a status object (was the build killed?).');
    const rest = this.buffer.trim();
    if (rest) this.onText(rest);
    this.buffer = '';
  }
}

/** Parses a complete recorded stream. */
export function parseRawJson(text: string): { statuses: SolveStatus[]; text: string[] } {
  const statuses: SolveStatus[] = [];
  const lines: string[] = [];
  const reader = new RawJsonReader((s) => statuses.push(s), (l) => lines.push(l));
  reader.push(text);
  reader.end();
  return { statuses, text: lines };
}

/** Vertices merged by digest: later updates of the same vertex add `started`, `completed`, `cached`. */
export function mergeVertices(statuses: SolveStatus[]): RawVertex[] {
  const vertices = new Map<string, RawVertex>();
  for (const status of statuses) {
    for (const vertex of status.vertexes ?? []) {
      vertices.set(vertex.digest, { ...vertices.get(vertex.digest), ...vertex });
    }
  }
  return [...vertices.values()];
}
