import { createHash } from 'node:crypto';
import type { EngineInfo } from './connect.js';
import { compareNames, dropFinalSemicolon } from './normalize-ddl.js';
import { defaultsAreSqlLiterals, isExpressionDefault, normalizeCharset, normalizeCheckClause, normalizeCollation, normalizeColumnType, normalizeDefault, normalizeExpression, normalizeGenerationExpression } from './normalize-column.js';

/**
 * The schema as information_schema describes it, with flavour-specific spelling removed (int display
 * widths, utf8 vs utf8mb3, MariaDB's quoted defaults and `current_timestamp()`, the spelling of expression
 * defaults, collations implied by the charset, NO ACTION vs RESTRICT), so the same schema on MySQL 8.0 and
 * MariaDB yields the same value.
 * It carries no database name: a database loaded under another name has the same schema.
 */
export interface SemanticSchema {
  format: 1;
  charset: string;
  /** null when it is the default collation of `charset`. */
  collation: string | null;
  tables: SemanticTable[];
  views: { name: string; columns: SemanticColumn[] }[];
  routines: string[];
  triggers: string[];
  events: string[];
  /** MariaDB sequences (absent when there are none). */
  sequences?: SemanticSequence[];
  /**
   * Digest of each stored program's body as the server stores it (what the user wrote), keyed like the name
   * lists (`FUNCTION f`, trigger / event name); absent when there are no stored programs. Views are not
   * digested: MySQL and MariaDB re-print view SQL differently, so a digest would differ across flavours.
   */
  bodies?: { routines: Record<string, string>; triggers: Record<string, string>; events: Record<string, string> };
}

/** A MariaDB sequence's definition (numbers as decimal text: they may exceed 2^53). */
export interface SemanticSequence {
  name: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
}

export interface SemanticTable {
  name: string;
  engine: string | null;
  charset: string | null;
  collation: string | null;
  comment: string;
  columns: SemanticColumn[];
  indexes: SemanticIndex[];
  foreignKeys: SemanticForeignKey[];
  /**
   * CHECK constraints by name, the clause spelled as `normalizeGenerationExpression` does; present only when
   * there are any. A name the server made up (`<table>_chk_<n>` on MySQL; `CONSTRAINT_<n>` or the column's
   * name on MariaDB, for Django's unnamed `col >= 0` of a PositiveIntegerField) is '', so the same checks
   * compare equal across flavours.
   */
  checks?: { name: string; clause: string }[];
}

export interface SemanticColumn {
  name: string;
  type: string;
  nullable: boolean;
  /**
   * Literal text of the default; an expression default as `normalizeExpressionDefault` spells it
   * (CURRENT_TIMESTAMP, `curdate()+interval1year`); null for none / NULL.
   */
  default: string | null;
  charset: string | null;
  collation: string | null;
  autoIncrement: boolean;
  onUpdate: string | null;
  generated: 'virtual' | 'stored' | null;
  comment: string;
  /** Generation expression of a generated column, normalised (see `normalizeGenerationExpression`); absent otherwise. */
  expression?: string;
  /** Present (true) only for an INVISIBLE column: older schema files without it compare equal. */
  invisible?: true;
  /**
   * Present (true) only when `default` is an expression (`DEFAULT uuid()`), not literal text (`DEFAULT
   * 'uuid()'`), other than the current time and single literals (see `isExpressionDefault`).
   */
  defaultExpression?: true;
}

export interface SemanticIndex {
  name: string;
  unique: boolean;
  type: string;
  columns: { name: string | null; prefix: number | null; descending: boolean; expression?: string }[];
  /** Present (true) only for an index the optimiser ignores (MariaDB IGNORED, MySQL INVISIBLE). */
  ignored?: true;
  /** Present only when the index has a comment. */
  comment?: string;
}

export interface SemanticForeignKey {
  name: string;
  columns: string[];
  /** `table`, or `database.table` when it points into another database. */
  referencedTable: string;
  referencedColumns: string[];
  onUpdate: string;
  onDelete: string;
}

/** information_schema rows of one database, as read by `readSchemaRows` (lower-case keys). */
export interface SchemaRows {
  database: string;
  /** `comment`: MariaDB 10.5+ only (the dump writes it; the semantic schema leaves it out). */
  schema: { charset: string; collation: string; comment?: string };
  defaultCollations: { charset: string; collation: string }[];
  tables: { table_name: string; table_type: string; engine: string | null; table_collation: string | null; table_comment: string | null }[];
  columns: {
    table_name: string;
    column_name: string;
    ordinal_position: number | string;
    column_default: string | null;
    is_nullable: string;
    column_type: string;
    character_set_name: string | null;
    collation_name: string | null;
    extra: string | null;
    column_comment: string | null;
    /** DATA_TYPE (`int`, `varchar`...): how a data table's values are written; not part of the semantic schema. */
    data_type?: string;
    generation_expression?: string | null;
  }[];
  statistics: {
    table_name: string;
    index_name: string;
    non_unique: number | string;
    seq_in_index: number | string;
    column_name: string | null;
    sub_part: number | string | null;
    index_type: string;
    collation: string | null;
    expression?: string | null;
    index_comment?: string | null;
    /** 'YES' when the optimiser ignores the index: MariaDB IGNORED, MySQL NOT IS_VISIBLE. */
    ignored?: string | null;
  }[];
  foreignKeys: {
    table_name: string;
    constraint_name: string;
    column_name: string;
    ordinal_position: number | string;
    referenced_table_schema: string;
    referenced_table_name: string;
    referenced_column_name: string;
    update_rule: string;
    delete_rule: string;
  }[];
  routines: string[];
  triggers: string[];
  events: string[];
  /** Definitions of the MariaDB sequences among `tables` (TABLE_TYPE 'SEQUENCE'). */
  sequences?: SemanticSequence[];
  /** CHECK constraints (MariaDB 10.3.10+, MySQL 8.0.16+). */
  checks?: { table_name: string; constraint_name: string; check_clause: string }[];
  /** Body text of stored programs, keyed like `routines` / `triggers` / `events` (null: not readable). */
  bodies?: { routines: Record<string, string | null>; triggers: Record<string, string | null>; events: Record<string, string | null> };
}

/**
 * Short digest of a stored program's body (line endings, surrounding whitespace and the `;` MySQL 8+ keeps
 * after a body created in a multi-statement query ignored, as the dump drops it: see dropFinalSemicolon).
 */
export function bodyDigest(text: string): string {
  return createHash('sha256').update(withoutFinalSemicolon(text.replace(/\r\n?/g, '\n').trim())).digest('hex').slice(0, 16);
}

/** The body without that `;`; a body the lexer cannot read under the default sql_mode is taken as it is. */
function withoutFinalSemicolon(body: string): string {
  try {
    return dropFinalSemicolon(body);
  } catch {
    return body;
  }
}

function parseExtra(extra: string): Pick<SemanticColumn, 'autoIncrement' | 'onUpdate' | 'generated'> {
  const lower = extra.toLowerCase();
  const onUpdate = /on update ([a-z_]+(?:\(\d*\))?)/.exec(lower);
  return {
    autoIncrement: lower.includes('auto_increment'),
    onUpdate: onUpdate ? normalizeExpression(onUpdate[1]!) : null,
    generated: /\bvirtual\b/.test(lower) ? 'virtual' : /\b(stored|persistent)\b/.test(lower) ? 'stored' : null,
  };
}

function normalizeRule(rule: string): string {
  const upper = rule.toUpperCase();
  return upper === 'NO ACTION' ? 'RESTRICT' : upper;
}

const byName = <T extends { name: string }>(a: T, b: T) => compareNames(a.name, b.name);

/** Builds the semantic schema from information_schema rows of one database. Pure. */
export function buildSemanticSchema(rows: SchemaRows, engine: EngineInfo): SemanticSchema {
  const defaultCollation = new Map<string, string>();
  for (const row of rows.defaultCollations) {
    defaultCollation.set(normalizeCharset(row.charset)!, normalizeCollation(row.collation)!);
  }
  const charsetOf = (collation: string | null) => (collation === null ? null : normalizeCharset(collation.split('_')[0]!));
  const explicitCollation = (charset: string | null, collation: string | null) => {
    const normalized = normalizeCollation(collation);
    return charset !== null && defaultCollation.get(charset) === normalized ? null : normalized;
  };

  const sqlLiterals = defaultsAreSqlLiterals(engine);
  const columnsByTable = new Map<string, SemanticColumn[]>();
  const sortedColumns = [...rows.columns].sort(
    (a, b) => compareNames(a.table_name, b.table_name) || Number(a.ordinal_position) - Number(b.ordinal_position),
  );
  for (const c of sortedColumns) {
    const extra = c.extra ?? '';
    const charset = normalizeCharset(c.character_set_name);
    const column: SemanticColumn = {
      name: c.column_name,
      type: normalizeColumnType(c.column_type),
      nullable: c.is_nullable.toUpperCase() === 'YES',
      default: normalizeDefault(c.column_default, extra, sqlLiterals, engine),
      charset,
      collation: explicitCollation(charset, c.collation_name),
      ...parseExtra(extra),
      comment: c.column_comment ?? '',
    };
    if (column.generated && c.generation_expression) column.expression = normalizeGenerationExpression(c.generation_expression, engine);
    if (/\binvisible\b/i.test(extra)) column.invisible = true;
    if (isExpressionDefault(c.column_default, extra, sqlLiterals, engine)) column.defaultExpression = true;
    const list = columnsByTable.get(c.table_name) ?? [];
    list.push(column);
    columnsByTable.set(c.table_name, list);
  }

  const indexesByTable = new Map<string, Map<string, SemanticIndex>>();
  const sortedStats = [...rows.statistics].sort((a, b) => Number(a.seq_in_index) - Number(b.seq_in_index));
  for (const s of sortedStats) {
    const indexes = indexesByTable.get(s.table_name) ?? new Map<string, SemanticIndex>();
    indexesByTable.set(s.table_name, indexes);
    const index = indexes.get(s.index_name) ?? {
      name: s.index_name,
      unique: Number(s.non_unique) === 0,
      type: s.index_type.toUpperCase(),
      columns: [],
      ...(String(s.ignored ?? '').toUpperCase() === 'YES' ? { ignored: true as const } : {}),
      ...(s.index_comment ? { comment: s.index_comment } : {}),
    };
    indexes.set(s.index_name, index);
    index.columns.push({
      name: s.column_name,
      prefix: s.sub_part === null ? null : Number(s.sub_part),
      descending: s.collation === 'D',
      ...(s.expression ? { expression: s.expression } : {}),
    });
  }

  const fksByTable = new Map<string, Map<string, SemanticForeignKey>>();
  const sortedFks = [...rows.foreignKeys].sort((a, b) => Number(a.ordinal_position) - Number(b.ordinal_position));
  for (const f of sortedFks) {
    const fks = fksByTable.get(f.table_name) ?? new Map<string, SemanticForeignKey>();
    fksByTable.set(f.table_name, fks);
    const fk = fks.get(f.constraint_name) ?? {
      name: f.constraint_name,
      columns: [],
      referencedTable:
        f.referenced_table_schema === rows.database ? f.referenced_table_name : `${f.referenced_table_schema}.${f.referenced_table_name}`,
      referencedColumns: [],
      onUpdate: normalizeRule(f.update_rule),
      onDelete: normalizeRule(f.delete_rule),
    };
    fks.set(f.constraint_name, fk);
    fk.columns.push(f.column_name);
    fk.referencedColumns.push(f.referenced_column_name);
  }

  const checksByTable = new Map<string, { name: string; clause: string }[]>();
  for (const c of rows.checks ?? []) {
    const jsonColumn = engine.flavor === 'mariadb' ? mariadbJsonColumn(c, columnsByTable.get(c.table_name) ?? [], engine) : undefined;
    if (jsonColumn) {
      // MariaDB's JSON is LONGTEXT (utf8mb4_bin) with a CHECK (json_valid(col)) named after the column; MySQL's is
      // a type of its own. The same declaration (Django's JSONField too) reads the same on both.
      Object.assign(jsonColumn, { type: 'json', charset: null, collation: null });
      continue;
    }
    const list = checksByTable.get(c.table_name) ?? [];
    const columns = new Set((columnsByTable.get(c.table_name) ?? []).map((column) => column.name));
    list.push({ name: generatedCheckName(c.table_name, c.constraint_name, columns) ? '' : c.constraint_name, clause: normalizeCheckClause(c.check_clause, engine) });
    checksByTable.set(c.table_name, list);
  }

  const tables: SemanticTable[] = [];
  const views: SemanticSchema['views'] = [];
  for (const t of rows.tables) {
    const columns = columnsByTable.get(t.table_name) ?? [];
    if (/VIEW/i.test(t.table_type)) {
      views.push({ name: t.table_name, columns });
      continue;
    }
    if (/SEQUENCE/i.test(t.table_type)) continue;
    const charset = charsetOf(t.table_collation);
    tables.push({
      name: t.table_name,
      engine: t.engine,
      charset,
      collation: explicitCollation(charset, t.table_collation),
      comment: t.table_comment ?? '',
      columns,
      indexes: [...(indexesByTable.get(t.table_name)?.values() ?? [])].sort(byName),
      foreignKeys: [...(fksByTable.get(t.table_name)?.values() ?? [])].sort(byName),
      ...(checksByTable.has(t.table_name) ? { checks: checksByTable.get(t.table_name)!.sort((a, b) => byName(a, b) || compareNames(a.clause, b.clause)) } : {}),
    });
  }
  const charset = normalizeCharset(rows.schema.charset)!;
  const schema: SemanticSchema = {
    format: 1,
    charset,
    collation: explicitCollation(charset, rows.schema.collation),
    tables: tables.sort(byName),
    views: views.sort(byName),
    routines: [...rows.routines].sort(compareNames),
    triggers: [...rows.triggers].sort(compareNames),
    events: [...rows.events].sort(compareNames),
  };
  if (rows.sequences && rows.sequences.length > 0) schema.sequences = rows.sequences.map((s) => ({ ...s })).sort(byName);
  if (rows.bodies) {
    const digests = (names: string[], bodies: Record<string, string | null>) =>
      Object.fromEntries(names.flatMap((name) => (typeof bodies[name] === 'string' ? [[name, bodyDigest(bodies[name])]] : [])));
    const bodies = {
      routines: digests(schema.routines, rows.bodies.routines),
      triggers: digests(schema.triggers, rows.bodies.triggers),
      events: digests(schema.events, rows.bodies.events),
    };
    if (Object.values(bodies).some((b) => Object.keys(b).length > 0)) schema.bodies = bodies;
  }
  return schema;
}

/**
 * Canonical JSON text of a schema (what `<db>.schema.json` holds): indented, but each column, index and
 * foreign key on one line, so a git diff shows one line per changed item and the file stays small.
 */
export function serializeSchema(schema: SemanticSchema): string {
  return `${formatJson(schema, '')}\n`;
}

/**
 * Whether `value` nests objects at most `limit` deep (arrays add none: a column is 1 deep, an index with its
 * column list 2, a table 3). Stops at the first deeper object, so asking at every level stays linear.
 */
function nestsAtMost(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every((v) => nestsAtMost(v, limit));
  return limit > 0 && Object.values(value).every((v) => nestsAtMost(v, limit - 1));
}

function formatJson(value: unknown, indent: string): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value) ? nestsAtMost(value, 0) : indent.length >= 4 && nestsAtMost(value, 2)) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(',\n')}\n${indent}}`;
}

/** The column a MariaDB `JSON` declaration made: LONGTEXT utf8mb4_bin whose column CHECK is json_valid of it. */
function mariadbJsonColumn(check: { constraint_name: string; check_clause: string }, columns: SemanticColumn[], engine: EngineInfo): SemanticColumn | undefined {
  const column = columns.find((candidate) => candidate.name === check.constraint_name);
  if (!column || column.type !== 'longtext' || column.charset !== 'utf8mb4' || column.collation !== 'utf8mb4_bin') return undefined;
  const clause = normalizeCheckClause(check.check_clause, engine).toLowerCase();
  return clause === `json_valid(\`${column.name.replace(/`/g, '``').toLowerCase()}\`)` ? column : undefined;
}

/** A CHECK constraint name the server generated for an unnamed check (see SemanticTable.checks). */
function generatedCheckName(table: string, name: string, columns: ReadonlySet<string>): boolean {
  return (name.startsWith(`${table}_chk_`) && /^\d+$/.test(name.slice(table.length + 5))) || /^CONSTRAINT_\d+$/.test(name) || columns.has(name);
}
