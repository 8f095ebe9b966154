import { compareNames } from './normalize-ddl.js';
import type { SemanticSchema, SemanticTable } from './semantic-schema.js';

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}
export interface NamedChanges {
  added: string[];
  removed: string[];
  changed: { name: string; changes: FieldChange[] }[];
}
export interface TableChange {
  table: string;
  options: FieldChange[];
  columns: NamedChanges;
  indexes: NamedChanges;
  foreignKeys: NamedChanges;
}
/** What changed from schema `a` (before) to schema `b` (after). Every list is in name order. */
export interface SchemaDiff {
  database: FieldChange[];
  tables: { added: string[]; removed: string[]; changed: TableChange[] };
  views: NamedChanges;
  /** MariaDB sequences: definition changes (start, increment, min, max, cache, cycle) are `changed`. */
  sequences: NamedChanges;
  /** `changed`: the body digest differs (only when both schemas carry one; older schema files do not). */
  routines: ProgramChanges;
  triggers: ProgramChanges;
  events: ProgramChanges;
}
export interface ProgramChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function fieldChanges(a: object, b: object, skip: string[] = []): FieldChange[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !skip.includes(k)).sort(compareNames);
  const out: FieldChange[] = [];
  for (const key of keys) {
    const from = (a as Record<string, unknown>)[key];
    const to = (b as Record<string, unknown>)[key];
    if (!same(from, to)) out.push({ field: key, from, to });
  }
  return out;
}

function diffNamed<T extends { name: string }>(a: T[], b: T[], withPosition = false): NamedChanges {
  const before = new Map(a.map((item, i) => [item.name, { item, i }]));
  const after = new Map(b.map((item, i) => [item.name, { item, i }]));
  const result: NamedChanges = { added: [], removed: [], changed: [] };
  for (const name of [...after.keys()].sort(compareNames)) if (!before.has(name)) result.added.push(name);
  for (const name of [...before.keys()].sort(compareNames)) if (!after.has(name)) result.removed.push(name);
  // Positions are compared among the items both sides share, so one added column does not "move" all later ones.
  const sharedBefore = a.filter((x) => after.has(x.name)).map((x) => x.name);
  const sharedAfter = b.filter((x) => before.has(x.name)).map((x) => x.name);
  for (const name of [...before.keys()].sort(compareNames)) {
    const x = before.get(name);
    const y = after.get(name);
    if (!x || !y) continue;
    const changes = fieldChanges(x.item, y.item, ['name']);
    if (withPosition && sharedBefore.indexOf(name) !== sharedAfter.indexOf(name)) {
      changes.push({ field: 'position', from: x.i + 1, to: y.i + 1 });
    }
    if (changes.length > 0) result.changed.push({ name, changes });
  }
  return result;
}

function diffPrograms(a: string[], b: string[], bodiesA: Record<string, string> | undefined, bodiesB: Record<string, string> | undefined): ProgramChanges {
  const setA = new Set(a);
  const setB = new Set(b);
  return {
    added: b.filter((x) => !setA.has(x)).sort(compareNames),
    removed: a.filter((x) => !setB.has(x)).sort(compareNames),
    changed: a
      .filter((x) => setB.has(x) && bodiesA?.[x] !== undefined && bodiesB?.[x] !== undefined && bodiesA[x] !== bodiesB[x])
      .sort(compareNames),
  };
}

const emptyNamed = (c: NamedChanges) => c.added.length + c.removed.length + c.changed.length === 0;

function diffTable(a: SemanticTable, b: SemanticTable): TableChange | null {
  const change: TableChange = {
    table: a.name,
    options: fieldChanges(a, b, ['name', 'columns', 'indexes', 'foreignKeys']),
    columns: diffNamed(a.columns, b.columns, true),
    indexes: diffNamed(a.indexes, b.indexes),
    foreignKeys: diffNamed(a.foreignKeys, b.foreignKeys),
  };
  const empty = change.options.length === 0 && emptyNamed(change.columns) && emptyNamed(change.indexes) && emptyNamed(change.foreignKeys);
  return empty ? null : change;
}

/** Compares two semantic schemas. */
export function diffSchemas(a: SemanticSchema, b: SemanticSchema): SchemaDiff {
  const tables = diffNamed(a.tables, b.tables);
  const byNameA = new Map(a.tables.map((t) => [t.name, t]));
  const byNameB = new Map(b.tables.map((t) => [t.name, t]));
  const changed = tables.changed
    .map(({ name }) => diffTable(byNameA.get(name)!, byNameB.get(name)!))
    .filter((c): c is TableChange => c !== null);
  return {
    database: fieldChanges({ charset: a.charset, collation: a.collation }, { charset: b.charset, collation: b.collation }),
    tables: { added: tables.added, removed: tables.removed, changed },
    views: diffNamed(a.views, b.views),
    sequences: diffNamed(a.sequences ?? [], b.sequences ?? []),
    routines: diffPrograms(a.routines, b.routines, a.bodies?.routines, b.bodies?.routines),
    triggers: diffPrograms(a.triggers, b.triggers, a.bodies?.triggers, b.bodies?.triggers),
    events: diffPrograms(a.events, b.events, a.bodies?.events, b.bodies?.events),
  };
}

export function isEmptyDiff(diff: SchemaDiff): boolean {
  return (
    diff.database.length === 0 &&
    diff.tables.added.length + diff.tables.removed.length + diff.tables.changed.length === 0 &&
    emptyNamed(diff.views) &&
    emptyNamed(diff.sequences) &&
    [diff.routines, diff.triggers, diff.events].every((x) => x.added.length + x.removed.length + x.changed.length === 0)
  );
}

const show = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v));
const fields = (changes: FieldChange[]) => changes.map((c) => `${c.field} ${show(c.from)} -> ${show(c.to)}`).join(', ');

function describeNamed(kind: string, c: NamedChanges): string[] {
  return [
    ...c.added.map((n) => `+ ${kind} ${n}`),
    ...c.removed.map((n) => `- ${kind} ${n}`),
    ...c.changed.map((x) => `~ ${kind} ${x.name}: ${fields(x.changes)}`),
  ];
}

/** Human-readable lines (`+ table x`, `~ table y`, `  + column z`) for CLI output and job summaries. */
export function describeSchemaDiff(diff: SchemaDiff): string[] {
  const lines: string[] = [];
  if (diff.database.length > 0) lines.push(`~ database: ${fields(diff.database)}`);
  lines.push(...diff.tables.added.map((t) => `+ table ${t}`), ...diff.tables.removed.map((t) => `- table ${t}`));
  for (const t of diff.tables.changed) {
    lines.push(`~ table ${t.table}`);
    if (t.options.length > 0) lines.push(`  ~ options: ${fields(t.options)}`);
    for (const line of [
      ...describeNamed('column', t.columns),
      ...describeNamed('index', t.indexes),
      ...describeNamed('foreign key', t.foreignKeys),
    ]) {
      lines.push(`  ${line}`);
    }
  }
  lines.push(...describeNamed('view', diff.views), ...describeNamed('sequence', diff.sequences));
  for (const kind of ['routine', 'trigger', 'event'] as const) {
    const c = diff[`${kind}s`];
    lines.push(...c.added.map((n) => `+ ${kind} ${n}`), ...c.removed.map((n) => `- ${kind} ${n}`), ...c.changed.map((n) => `~ ${kind} ${n}`));
  }
  return lines;
}
