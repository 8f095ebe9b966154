import { escape, escapeId } from 'sql-escaper';
import type { Pool as CallbackPool } from 'mysql2';
import type { Pool } from 'mysql2/promise';
import { compareNames } from './normalize-ddl.js';

/** How a column's value is written: bare number, hex literal, or quoted string. */
export type ValueKind = 'number' | 'binary' | 'string';

const NUMERIC_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric', 'float', 'double', 'real', 'year']);
const BINARY_TYPES = new Set([
  'binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'bit', 'geometry', 'point', 'linestring',
  'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection',
]);

export function valueKind(dataType: string): ValueKind {
  const t = dataType.toLowerCase();
  return NUMERIC_TYPES.has(t) ? 'number' : BINARY_TYPES.has(t) ? 'binary' : 'string';
}

export interface DataColumn {
  name: string;
  kind: ValueKind;
}

/** A data table to dump: insertable columns in ordinal order and the primary key (empty: order by all columns). */
export interface DataTable {
  name: string;
  columns: DataColumn[];
  primaryKey: string[];
  /** Column name -> fixed SQL value text replacing whatever the row holds (volatile columns). */
  fixedValues: Map<string, string>;
  /** Column name -> old id -> new id, for columns pointing at a renumbered table. */
  remap: Map<string, Map<string, string>>;
}

/** Rows arrive as raw wire values (typeCast: false): Buffer, or null for SQL NULL. */
export type RawRow = (Buffer | null)[];

export function sqlLiteral(value: Buffer | null, kind: ValueKind): string {
  if (value === null) return 'NULL';
  if (kind === 'number') return value.toString('latin1');
  if (kind === 'binary') return `X'${value.toString('hex')}'`;
  return escape(value.toString('utf8'));
}

/** Applies id remapping in place; a value without a mapping is kept (it points at a row we do not dump). */
export function remapRow(table: DataTable, row: RawRow): RawRow {
  if (table.remap.size === 0) return row;
  table.columns.forEach((column, i) => {
    const map = table.remap.get(column.name);
    const value = row[i];
    if (!map || value === null || value === undefined) return;
    const mapped = map.get(value.toString('latin1'));
    if (mapped !== undefined) row[i] = Buffer.from(mapped, 'latin1');
  });
  return row;
}

/** A value decoded once for sorting: numbers compare by value, then by text (`1.0` vs `1`). */
type SortValue = null | Buffer | string | { value: number; text: string };

function sortValue(raw: Buffer | null, kind: ValueKind): SortValue {
  if (raw === null) return null;
  if (kind === 'number') {
    const text = raw.toString('latin1');
    return { value: Number(text), text };
  }
  return kind === 'binary' ? raw : raw.toString('utf8');
}

function compareSortValues(a: SortValue, b: SortValue): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (typeof a === 'string') return compareNames(a, b as string);
  if (Buffer.isBuffer(a)) return Buffer.compare(a, b as Buffer);
  const y = b as { value: number; text: string };
  if (a.value !== y.value) return a.value < y.value ? -1 : 1;
  return compareNames(a.text, y.text);
}

/**
 * Sorts rows we had to hold in memory, in place, by the given columns. Each value is decoded once up front:
 * decoding inside the comparator made renumbering a few hundred rows take longer than reading them.
 */
export function sortRows(table: DataTable, rows: RawRow[], columns: string[]): void {
  const positions = columns.map((name) => {
    const i = table.columns.findIndex((c) => c.name === name);
    if (i < 0) throw new Error(`column \`${name}\` is not in data table \`${table.name}\``);
    return { i, kind: table.columns[i]!.kind };
  });
  const keyed = rows.map((row) => ({ row, key: positions.map(({ i, kind }) => sortValue(row[i] ?? null, kind)) }));
  keyed.sort((a, b) => {
    for (let k = 0; k < positions.length; k++) {
      const c = compareSortValues(a.key[k]!, b.key[k]!);
      if (c !== 0) return c;
    }
    return 0;
  });
  keyed.forEach(({ row }, i) => (rows[i] = row));
}

/** Sink with backpressure: resolves when the underlying stream can take more. */
export interface TextSink {
  write(text: string): Promise<void>;
}

const STATEMENT_BYTES = 1 << 20;

/** Writes rows as multi-row INSERT statements of about 1 MiB, one row per line (readable diffs). */
export class InsertWriter {
  private pending: string[] = [];
  private pendingBytes = 0;
  private readonly head: string;
  rows = 0;

  constructor(
    private readonly table: DataTable,
    private readonly sink: TextSink,
  ) {
    this.head = `INSERT INTO ${escapeId(table.name)} (${table.columns.map((c) => escapeId(c.name)).join(', ')}) VALUES\n`;
  }

  async add(row: RawRow): Promise<void> {
    const cells = this.table.columns.map((column, i) => this.table.fixedValues.get(column.name) ?? sqlLiteral(row[i] ?? null, column.kind));
    const line = `(${cells.join(',')})`;
    this.pending.push(line);
    this.pendingBytes += line.length + 2;
    this.rows += 1;
    if (this.pendingBytes >= STATEMENT_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = `${this.head}${this.pending.join(',\n')};\n`;
    this.pending = [];
    this.pendingBytes = 0;
    await this.sink.write(text);
  }
}

/** The SELECT that reads a data table in a total, reproducible order. */
export function selectSql(table: DataTable): string {
  const order = table.primaryKey.length > 0 ? table.primaryKey : table.columns.map((c) => c.name);
  return `SELECT ${table.columns.map((c) => escapeId(c.name)).join(', ')} FROM ${escapeId(table.name)} ORDER BY ${order
    .map((c) => escapeId(c))
    .join(', ')}`;
}

/** Reads a table whole in primary-key order, in one round trip: for the small tables we hold in memory anyway. */
export async function readRows(pool: Pool, table: DataTable): Promise<RawRow[]> {
  const [rows] = await pool.query({ sql: selectSql(table), rowsAsArray: true, typeCast: false });
  return rows as unknown as RawRow[];
}

/** Streams a table's rows in primary-key order (one row object at a time; memory stays flat). */
export async function* streamRows(pool: CallbackPool, table: DataTable): AsyncGenerator<RawRow> {
  const conn = await new Promise<import('mysql2').PoolConnection>((resolve, reject) =>
    pool.getConnection((error, c) => (error ? reject(error) : resolve(c))),
  );
  try {
    const stream = conn.query({ sql: selectSql(table), rowsAsArray: true, typeCast: false }).stream({ highWaterMark: 256 });
    for await (const row of stream) yield row as RawRow;
  } finally {
    conn.release();
  }
}
