import * as core from '@actions/core';
import type { RefOutcome } from '@org/dump-versioning';
import type { DumpSetResult } from '@org/dump-set';
import type { UsedMode } from './mode.js';

export interface PhaseTiming {
  name: string;
  /** When the phase started, in ms since the process started. */
  startMs: number;
  ms: number;
}

export interface DumpedFile {
  /** Path inside the dump set, `mysql/...` or `mongo/...`. */
  path: string;
  size: number;
}

/** Everything the job summary shows; built by main.ts from the run's results. */
export interface RefreshReport {
  service: string;
  commit: string;
  branch: string;
  store: string;
  dryRun: boolean;
  version: string;
  changed: boolean;
  manifest: string | undefined;
  mode: UsedMode;
  reason: string;
  /** Set when an incremental run was redone in full, with the reason the first attempt gave. */
  firstAttempt: string | undefined;
  phases: PhaseTiming[];
  /** Wall time from the process start (loading the action included) to the summary. */
  totalMs: number;
  files: DumpedFile[];
  uploads: { blobs: number; bytes: number } | undefined;
  /** `reason`: why a not-advanced ref was left alone (the publish's own words). */
  ref: { outcome: RefOutcome; previous: { commit: string; version: string } | undefined; reason: string | undefined } | undefined;
  retention: { versions: number; commits: number; blobs: number; bytes: number } | undefined;
  /** Retention failed after the publish: the summary says so, then the step fails with this error. */
  retentionFailure?: Error;
  schema: SchemaSection;
}

export type SchemaSection =
  | { kind: 'changes'; base: { commit: string; version: string }; mysql: string[]; mongo: string[]; files: string[] }
  | { kind: 'same'; base: { commit: string; version: string } }
  | { kind: 'first' }
  | { kind: 'skipped'; why: string };

type Summary = typeof core.summary;

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const code = (text: string) => `<code>${escapeHtml(text)}</code>`;
/** Escaped text whose `backtick spans` (as reasons and errors write input names) become <code>. */
const prose = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
const short = (sha: string) => sha.slice(0, 12);

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${((ms - minutes * 60_000) / 1000).toFixed(1)} s`;
}

function refLine(report: RefreshReport): string {
  if (report.dryRun) return 'dry run: nothing was published';
  const ref = report.ref;
  if (!ref) return 'not published';
  const previous = ref.previous ? ` (was ${code(short(ref.previous.commit))})` : '';
  switch (ref.outcome) {
    case 'created':
      return `created at ${code(short(report.commit))}`;
    case 'advanced':
      return `advanced to ${code(short(report.commit))}${previous}`;
    case 'unchanged':
      return `already at ${code(short(report.commit))}`;
    case 'reset':
      return `<strong>moved</strong> to ${code(short(report.commit))}${previous} after the branch's history was rewritten (forced push)`;
    case 'not-advanced':
      return `<strong>left alone</strong> at ${code(short(ref.previous?.commit ?? '?'))}: ${prose(ref.reason ?? 'not a forward move')}`;
  }
}

/** Sizes per engine: files and bytes of the dump set. */
function sizeRows(files: readonly DumpedFile[]): string[][] {
  const engines = new Map<string, { files: number; bytes: number }>();
  for (const file of files) {
    const engine = file.path.split('/')[0] ?? '';
    const totals = engines.get(engine) ?? { files: 0, bytes: 0 };
    totals.files++;
    totals.bytes += file.size;
    engines.set(engine, totals);
  }
  const rows = [...engines.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([engine, totals]) => [escapeHtml(engine), String(totals.files), formatBytes(totals.bytes)]);
  const total = files.reduce((sum, file) => sum + file.size, 0);
  return [...rows, ['<strong>total</strong>', String(files.length), formatBytes(total)]];
}

/** What the schema diff cannot list, said from the files that differ (each in code). */
export function unlistedChanges(files: string[]): string {
  const what = (file: string) =>
    file.endsWith('.sql')
      ? 'rows of its data tables, or the SQL of a view (views are compared by their columns)'
      : file.endsWith('.bson')
        ? 'documents of a data collection'
        : file.endsWith('.metadata.json')
          ? 'collection options'
          : 'its schema file';
  if (files.length === 0) return 'the versions differ only in their manifests';
  return `what differs: ${files.map((file) => `${code(file)} (${what(file)})`).join(', ')}`;
}

/**
 * How much of one engine's schema changes the summary shows. GitHub refuses a step summary over 1 MiB (and
 * then shows none of it), and a collation change over a thousand tables is tens of thousands of lines; the
 * log has them all.
 */
export const SUMMARY_SCHEMA_LIMIT = { lines: 400, bytes: 64 * 1024 };

/** The first lines of `lines` within SUMMARY_SCHEMA_LIMIT, and how many were left out. */
export function clipSchemaLines(lines: readonly string[], limit = SUMMARY_SCHEMA_LIMIT): { shown: string[]; omitted: number } {
  const shown: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    bytes += Buffer.byteLength(escapeHtml(line)) + 1;
    if (shown.length >= limit.lines || bytes > limit.bytes) break;
    shown.push(line);
  }
  return { shown, omitted: lines.length - shown.length };
}

function addSchema(summary: Summary, section: SchemaSection): void {
  switch (section.kind) {
    case 'first':
      summary.addRaw('<p>First dump of this branch: nothing to compare with.</p>', true);
      return;
    case 'skipped':
      summary.addRaw(`<p>Not compared: ${prose(section.why)}.</p>`, true);
      return;
    case 'same':
      summary.addRaw(`<p>Same schema as version ${code(short(section.base.version))} (commit ${code(short(section.base.commit))}).</p>`, true);
      return;
    case 'changes': {
      summary.addRaw(`<p>Compared with version ${code(short(section.base.version))} (commit ${code(short(section.base.commit))}):</p>`, true);
      for (const [engine, lines] of [['MySQL', section.mysql], ['MongoDB', section.mongo]] as const) {
        if (lines.length === 0) continue;
        summary.addRaw(`<p><strong>${engine}</strong></p>`, true);
        // A code block keeps the indentation that nests columns and indexes under their table.
        const { shown, omitted } = clipSchemaLines(lines);
        summary.addCodeBlock(escapeHtml(shown.join('\n')));
        if (omitted > 0) summary.addRaw(`<p>… and ${omitted} more line(s), not shown here (a job summary holds at most 1 MiB): every line is in the job log, under Publish.</p>`, true);
      }
      if (section.mysql.length === 0 && section.mongo.length === 0) {
        summary.addRaw(`<p>No table, column, index, stored program or collection changed; ${unlistedChanges(section.files)}.</p>`, true);
      }
    }
  }
}

/** Appends the job summary for one refresh to `summary` (core.summary; its write() is the caller's). */
export function addRefreshSummary(report: RefreshReport, summary: Summary = core.summary): Summary {
  const title = `refresh-dumps: ${report.service} @ ${short(report.commit)}${report.dryRun ? ' (dry run)' : ''}`;
  summary.addHeading(escapeHtml(title), 2);
  const mode = report.firstAttempt
    ? `${report.mode}: ${prose(report.reason)} (an incremental attempt came first: ${prose(report.firstAttempt)})`
    : `${report.mode}: ${prose(report.reason)}`;
  summary.addTable([
    [{ data: 'Version', header: true }, `${code(report.version)} ${report.changed ? '<strong>changed</strong>' : 'unchanged'}`],
    [{ data: 'Commit', header: true }, code(report.commit)],
    [{ data: `Branch ${escapeHtml(report.branch)}`, header: true }, refLine(report)],
    [{ data: 'Mode', header: true }, mode],
    [{ data: 'Store', header: true }, `${escapeHtml(report.store)}${report.manifest ? `<br>${code(report.manifest)}` : ''}`],
  ]);

  summary.addHeading('Phases', 3);
  // Start offsets show which phases overlapped; the total is wall time, start-up included.
  const phases = [...report.phases].sort((a, b) => a.startMs - b.startMs);
  const firstStart = phases[0]?.startMs ?? report.totalMs;
  summary.addTable([
    [{ data: 'Phase', header: true }, { data: 'Started', header: true }, { data: 'Duration', header: true }],
    ['start-up (loading the action)', '0 ms', formatDuration(firstStart)],
    ...phases.map((phase) => [escapeHtml(phase.name), formatDuration(phase.startMs), formatDuration(phase.ms)]),
    [{ data: '<strong>total</strong>', colspan: '2' }, formatDuration(report.totalMs)],
  ]);

  summary.addHeading('Sizes', 3);
  summary.addTable([[{ data: 'Engine', header: true }, { data: 'Files', header: true }, { data: 'Size', header: true }], ...sizeRows(report.files)]);
  if (report.uploads) {
    const what = report.uploads.blobs === 0 ? 'No file uploaded (every blob was already in the store).' : `Uploaded ${report.uploads.blobs} new file(s), ${formatBytes(report.uploads.bytes)}.`;
    summary.addRaw(`<p>${what}</p>`, true);
  }
  if (report.retention) {
    const { versions, commits, blobs, bytes } = report.retention;
    summary.addRaw(`<p>Retention removed ${versions} version(s), ${commits} commit entr${commits === 1 ? 'y' : 'ies'} and ${blobs} blob(s) (${formatBytes(bytes)}).</p>`, true);
  }
  if (report.retentionFailure) {
    summary.addRaw(`<p><strong>Retention failed</strong> (the version above is published): ${prose(report.retentionFailure.message)}</p>`, true);
  }

  summary.addHeading('Schema changes', 3);
  addSchema(summary, report.schema);
  // Machine-readable copy for scripts (benchmarks, the demo); invisible in the rendered summary.
  const data = {
    version: report.version,
    changed: report.changed,
    mode: report.mode,
    totalMs: Math.round(report.totalMs),
    startupMs: Math.round(firstStart),
    phases: Object.fromEntries(report.phases.map((phase) => [phase.name, Math.round(phase.ms)])),
  };
  summary.addRaw(`<!-- refresh-dumps ${JSON.stringify(data)} -->`, true);
  return summary;
}

/** Reads the machine-readable line addRefreshSummary leaves in a summary file. */
export function readSummaryData(text: string): { version: string; changed: boolean; mode: UsedMode; totalMs: number; startupMs: number; phases: Record<string, number> } | undefined {
  const match = /<!-- refresh-dumps (\{.*?\}) -->/.exec(text);
  return match?.[1] ? (JSON.parse(match[1]) as ReturnType<typeof readSummaryData>) : undefined;
}

/** The tables and collections dumped with their rows, one line per engine. */
export function rowLines(rows: DumpSetResult['rows']): string[] {
  return (
    [
      ['MySQL rows dumped', rows.mysql],
      ['MongoDB documents dumped', rows.mongo],
    ] as const
  )
    .filter(([, counts]) => Object.keys(counts).length > 0)
    .map(([label, counts]) => `${label}: ${Object.entries(counts).map(([name, count]) => `${name} (${count})`).join(', ')}`);
}
