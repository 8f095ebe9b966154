import { compareNames } from './normalize-ddl.js';
import type { SemanticColumn, SemanticIndex, SemanticSchema, SemanticTable } from './semantic-schema.js';

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
  /** CHECK constraints: `changed` when the clause differs. */
  checks: NamedChanges;
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

function diffNamed<T extends { name: string }>(a: T[], b: T[], withPosition = false, key: (item: T) => string = (item) => item.name): NamedChanges {
  const before = new Map(a.map((item, i) => [key(item), { item, i }]));
  const after = new Map(b.map((item, i) => [key(item), { item, i }]));
  const result: NamedChanges = { added: [], removed: [], changed: [] };
  for (const name of [...after.keys()].sort(compareNames)) if (!before.has(name)) result.added.push(name);
  for (const name of [...before.keys()].sort(compareNames)) if (!after.has(name)) result.removed.push(name);
  // Positions are compared among the items both sides share, so one added column does not "move" all later ones.
  const sharedBefore = a.filter((x) => after.has(key(x))).map(key);
  const sharedAfter = b.filter((x) => before.has(key(x))).map(key);
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
    options: fieldChanges(a, b, ['name', 'columns', 'indexes', 'foreignKeys', 'checks']),
    columns: diffNamed(a.columns, b.columns, true),
    indexes: diffNamed(a.indexes, b.indexes),
    foreignKeys: diffNamed(a.foreignKeys, b.foreignKeys),
    // A check the server named (name '') is known by its clause.
    checks: diffNamed(a.checks ?? [], b.checks ?? [], false, (check) => check.name || `(unnamed) ${check.clause}`),
  };
  const empty =
    change.options.length === 0 && emptyNamed(change.columns) && emptyNamed(change.indexes) && emptyNamed(change.foreignKeys) && emptyNamed(change.checks);
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

/** About how many characters one rendered value may take before it is cut with an ellipsis. */
const MAX_VALUE = 120;

/** `text` cut to `max` characters, the last one an ellipsis. */
function clip(text: string, max = MAX_VALUE): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Two long values cut so that their difference shows: a long common start is elided (a leading
 * ellipsis keeps 20 characters of context before the first difference), then each is clipped.
 */
function clipPair(a: string, b: string, max = MAX_VALUE): [string, string] {
  if (a.length <= max && b.length <= max) return [a, b];
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  const start = common > 40 ? common - 20 : 0;
  const cut = (text: string) => clip(start > 0 ? `…${text.slice(start)}` : text, max);
  return [cut(a), cut(b)];
}

const yesNo = (v: unknown) => (v === true ? 'yes' : v === false || v === undefined || v === null ? 'no' : JSON.stringify(v));
const isFlag = (v: unknown) => typeof v === 'boolean' || v === undefined;

/** A scalar pair as column lines show it: text quoted, booleans yes / no, a missing field `absent`. */
function valuePair(from: unknown, to: unknown): string {
  if (typeof from === 'boolean' || typeof to === 'boolean') {
    if (isFlag(from) && isFlag(to)) return `${yesNo(from)} -> ${yesNo(to)}`;
  }
  if (typeof from === 'string' && typeof to === 'string') {
    const [a, b] = clipPair(from, to);
    return `${JSON.stringify(a)} -> ${JSON.stringify(b)}`;
  }
  const one = (v: unknown) => (v === undefined ? 'absent' : typeof v === 'string' ? JSON.stringify(clip(v)) : clip(JSON.stringify(v)));
  return `${one(from)} -> ${one(to)}`;
}

/** `(a, b) -> (a, b, c)`; lists too long for that as what was added and removed (or `reordered`), else both cut where they differ. */
function listPair(from: string[], to: string[]): string {
  const a = `(${from.join(', ')})`;
  const b = `(${to.join(', ')})`;
  if (a.length <= MAX_VALUE && b.length <= MAX_VALUE) return `${a} -> ${b}`;
  const parts = [...to.filter((x) => !from.includes(x)).map((x) => `+${x}`), ...from.filter((x) => !to.includes(x)).map((x) => `-${x}`)];
  if (parts.length === 0) return 'reordered';
  const changes = parts.join(', ');
  if (changes.length <= MAX_VALUE) return changes;
  // Long members (index expressions) that differ late: both sides cut where they start to differ.
  const [ca, cb] = clipPair(a, b);
  return `${ca} -> ${cb}`;
}

const generic = (changes: FieldChange[]) => changes.map((c) => `${c.field} ${valuePair(c.from, c.to)}`);
const fields = (changes: FieldChange[]) => generic(changes).join(', ');

type IndexPart = SemanticIndex['columns'][number];
/** One key part as DDL writes it: `name`, `name(10)`, `(expression)`, with ` DESC` when descending. */
function indexPart(part: IndexPart): string {
  // An expression whole: the list pair cuts long lines where they differ (cut here, two expressions that
  // differ late would read alike).
  const base = part.name === null ? `(${part.expression ?? '?'})` : part.prefix === null ? part.name : `${part.name}(${part.prefix})`;
  return part.descending ? `${base} DESC` : base;
}

function indexFields(changes: FieldChange[]): string[] {
  return changes.map((c) => {
    if (c.field === 'columns') return `columns ${listPair((c.from as IndexPart[]).map(indexPart), (c.to as IndexPart[]).map(indexPart))}`;
    if (c.field === 'type') return `type ${String(c.from)} -> ${String(c.to)}`;
    if (c.field === 'comment') return `comment ${valuePair(c.from ?? '', c.to ?? '')}`;
    return `${c.field} ${valuePair(c.from, c.to)}`;
  });
}

const FOREIGN_KEY_ORDER = ['columns', 'referencedTable', 'referencedColumns', 'onDelete', 'onUpdate'];

function foreignKeyFields(changes: FieldChange[]): string[] {
  const rank = (field: string) => {
    const i = FOREIGN_KEY_ORDER.indexOf(field);
    return i < 0 ? FOREIGN_KEY_ORDER.length : i;
  };
  return [...changes]
    .sort((x, y) => rank(x.field) - rank(y.field))
    .map((c) => {
      if (c.field === 'columns' || c.field === 'referencedColumns') return `${c.field} ${listPair(c.from as string[], c.to as string[])}`;
      if (FOREIGN_KEY_ORDER.includes(c.field)) return `${c.field} ${clip(String(c.from))} -> ${clip(String(c.to))}`;
      return `${c.field} ${valuePair(c.from, c.to)}`;
    });
}

/** A view's columns: the name list when it differs, then each shared column whose definition changed. */
function viewFields(changes: FieldChange[]): string[] {
  const out: string[] = [];
  for (const change of changes) {
    if (change.field !== 'columns') {
      out.push(`${change.field} ${valuePair(change.from, change.to)}`);
      continue;
    }
    const from = change.from as SemanticColumn[];
    const to = change.to as SemanticColumn[];
    const names = (list: SemanticColumn[]) => list.map((c) => c.name);
    if (!same(names(from), names(to))) out.push(`columns ${listPair(names(from), names(to))}`);
    const after = new Map(to.map((c) => [c.name, c]));
    for (const column of [...from].sort((x, y) => compareNames(x.name, y.name))) {
      const other = after.get(column.name);
      const columnChanges = other ? fieldChanges(column, other, ['name']) : [];
      if (columnChanges.length > 0) out.push(`column ${column.name}: ${fields(columnChanges)}`);
    }
  }
  return out;
}

function describeNamed(kind: string, c: NamedChanges, render: (changes: FieldChange[]) => string[] = generic, separator = ', '): string[] {
  return [
    ...c.added.map((n) => `+ ${kind} ${n}`),
    ...c.removed.map((n) => `- ${kind} ${n}`),
    ...c.changed.map((x) => `~ ${kind} ${x.name}: ${render(x.changes).join(separator)}`),
  ];
}

/**
 * Human-readable lines (`+ table x`, `~ table y`, `  ~ column z: type "int" -> "bigint"`,
 * `  ~ index ix: columns (a) -> (a, b DESC)`) for CLI output and job summaries. Values longer than about
 * 120 characters are cut with an ellipsis.
 */
export function describeSchemaDiff(diff: SchemaDiff): string[] {
  const lines: string[] = [];
  if (diff.database.length > 0) lines.push(`~ database: ${fields(diff.database)}`);
  lines.push(...diff.tables.added.map((t) => `+ table ${t}`), ...diff.tables.removed.map((t) => `- table ${t}`));
  for (const t of diff.tables.changed) {
    lines.push(`~ table ${t.table}`);
    if (t.options.length > 0) lines.push(`  ~ options: ${fields(t.options)}`);
    for (const line of [
      ...describeNamed('column', t.columns),
      ...describeNamed('index', t.indexes, indexFields),
      ...describeNamed('foreign key', t.foreignKeys, foreignKeyFields),
      ...describeNamed('check', t.checks),
    ]) {
      lines.push(`  ${line}`);
    }
  }
  lines.push(...describeNamed('view', diff.views, viewFields, '; '), ...describeNamed('sequence', diff.sequences));
  for (const kind of ['routine', 'trigger', 'event'] as const) {
    const c = diff[`${kind}s`];
    lines.push(...c.added.map((n) => `+ ${kind} ${n}`), ...c.removed.map((n) => `- ${kind} ${n}`), ...c.changed.map((n) => `~ ${kind} ${n}: body changed`));
  }
  return lines;
}
