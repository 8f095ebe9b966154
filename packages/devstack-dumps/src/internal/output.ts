import cliProgress from 'cli-progress';
import type { DumpVersioningError, ProgressEvent, ProgressListener } from '@org/dump-versioning';
import { maskSecrets } from '@org/dump-set';
import type { CommandContext } from './context.js';

/** Transfers smaller than this finish before a bar would be readable. */
const PROGRESS_THRESHOLD = 1024 * 1024;

export function printJson(context: CommandContext, value: unknown) {
  context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLines(context: CommandContext, lines: ReadonlyArray<string>) {
  if (lines.length > 0) context.stdout.write(`${lines.join('\n')}\n`);
}

/** A plain aligned table for people (no borders, so it copies cleanly). */
export function table(headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string[] {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: ReadonlyArray<string>) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)];
}

export function bytes(count: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export const short = (sha: string) => sha.slice(0, 12);

export function printWarnings(context: CommandContext, warnings: ReadonlyArray<DumpVersioningError>) {
  for (const warning of warnings) context.stderr.write(`warning: ${warning.message}\n`);
}

/**
 * A progress bar on stderr for transfers over 1 MB when stderr is a terminal and output is not JSON;
 * otherwise a no-op listener.
 */
export function progressBar(context: CommandContext, json: boolean | undefined): { listener: ProgressListener | undefined; stop: () => void } {
  if (json || !context.stderr.isTTY) return { listener: undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | undefined;
  let phase: ProgressEvent['phase'] | undefined;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  const listener: ProgressListener = (event) => {
    if (event.total < PROGRESS_THRESHOLD) return;
    if (phase !== event.phase) {
      stop();
      phase = event.phase;
      bar = new cliProgress.SingleBar(
        {
          stream: context.stderr as NodeJS.WritableStream as NodeJS.WriteStream,
          format: `${event.phase.padEnd(8)} [{bar}] {percentage}% {done}/{size}`,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(event.total, 0, { done: bytes(0), size: bytes(event.total) });
    }
    bar?.update(event.done, { done: bytes(event.done), size: bytes(event.total) });
  };
  return { listener, stop };
}

/** Progress messages of dump/load as lines on stderr (stdout stays clean for --json), passwords masked. */
export function progressLines(context: CommandContext, urls: ReadonlyArray<string | undefined>): (message: string) => void {
  return (message) => context.stderr.write(`${maskSecrets(message, urls)}\n`);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** How far a resolution is from the requested commit, and how it was found (history walk or a branch ref). */
export function describeDistance(resolution: { distance: number; requested: string; via?: 'history' | 'branch-ref'; branch?: string; ancestors?: 'all' }): string {
  if (resolution.distance === 0) return '(exactly this commit)';
  if (resolution.via === 'branch-ref') {
    return `(${resolution.distance} first-parent commit(s) behind ${short(resolution.requested)}; found through branch ref ${resolution.branch ?? '?'}, beyond the history searched)`;
  }
  return `(${resolution.distance} ${resolution.ancestors === 'all' ? '' : 'first-parent '}commit(s) behind ${short(resolution.requested)})`;
}
