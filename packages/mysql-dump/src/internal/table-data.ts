import { escape, escapeId } from 'sql-escaper';
import type { Pool as CallbackPool } from 'mysql2';
import type { Pool } from 'mysql2/promise';
import { OversizedRowError } from './errors.js';
import { compareNames } from './normalize-ddl.js';

/**
 * How a column's value is written: bare number, hex literal, or quoted string. `float` (single precision) is
 * read as a double (`col + 0e0`: the server prints FLOAT with 6 digits only) and written as the shortest
 * decimal that reads back as the same single-precision value.
 */
export type ValueKind = 'number' | 'float' | 'binary' | 'string';

const NUMERIC_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric', 'double', 'real', 'year']);
const BINARY_TYPES = new Set([
  'binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'bit', 'geometry', 'point', 'linestring',
  'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection',
]);

export function valueKind(dataType: string): ValueKind {
  const t = dataType.toLowerCase();
  return t === 'float' ? 'float' : NUMERIC_TYPES.has(t) ? 'number' : BINARY_TYPES.has(t) ? 'binary' : 'string';
}

/** Types the server sorts by a prefix only (max_sort_length): ordering needs a digest of the whole value too. */
const LONG_TYPES = new Set([
  'tinytext', 'text', 'mediumtext', 'longtext', 'json', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'geometry', 'point',
  'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection',
]);
export const isLongType = (dataType: string) => LONG_TYPES.has(dataType.toLowerCase());

export interface DataColumn {
  name: string;
  kind: ValueKind;
  /** TEXT/BLOB/JSON/spatial: compared by the server on a prefix only. */
  long?: boolean;
}

/**
 * The shortest decimal text that reads back as the same single-precision value as `text` (a FLOAT read as
 * a double), e.g. `1.2345677614212036` -> `1.2345678`. Deterministic: a function of the stored value only.
 */
export function shortestFloat(text: string): string {
  const value = Number(text);
  if (!Number.isFinite(value)) return text;
  if (Object.is(value, -0)) return '-0e0';
  const single = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return String(candidate);
  }
  return String(single);
}

/** A data table to dump: insertable columns in ordinal order and the primary key (empty: order by all columns). */
export interface DataTable {
  name: string;
  columns: DataColumn[];
  primaryKey: string[];
  /**
   * Column name -> fixed SQL value text replacing whatever the row holds (volatile columns), except NULL:
   * a time that was never recorded (Prisma's `finished_at` of a failed migration) says something.
   */
  fixedValues: Map<string, string>;
  /** Column name -> old id -> new id, for columns pointing at a renumbered table. */
  remap: Map<string, Map<string, string>>;
}

/** Rows arrive as raw wire values (typeCast: false): Buffer, or null for SQL NULL. */
export type RawRow = (Buffer | null)[];

export function sqlLiteral(value: Buffer | null, kind: ValueKind): string {
  if (value === null) return 'NULL';
  if (kind === 'number') return value.toString('latin1');
  if (kind === 'float') return shortestFloat(value.toString('latin1'));
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
  if (kind === 'number' || kind === 'float') {
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
/** Room left in a packet for what a load sends with an INSERT (pending SET statements, `USE`). */
const PACKET_HEADROOM = 4096;

/** What InsertWriter checks each statement against: the server's max_allowed_packet (bytes). */
export interface PacketLimit {
  database: string;
  maxAllowedPacket: number;
}

/**
 * Writes rows as multi-row INSERT statements of about 1 MiB (bytes: the limit a load meets is the server's
 * packet), one row per line (readable diffs). A row bigger than that gets a statement of its own, and a
 * statement no client could send (over max_allowed_packet) fails the dump naming the row.
 */
export class InsertWriter {
  private pending: string[] = [];
  private pendingBytes = 0;
  private lastRow: RawRow = [];
  private readonly head: string;
  private readonly headBytes: number;
  /** Bytes of rows a statement may hold under the server's max_allowed_packet. */
  private readonly packetRoom: number;
  rows = 0;

  constructor(
    private readonly table: DataTable,
    private readonly sink: TextSink,
    private readonly limit?: PacketLimit,
  ) {
    this.head = `INSERT INTO ${escapeId(table.name, true)} (${table.columns.map((c) => escapeId(c.name, true)).join(', ')}) VALUES\n`;
    this.headBytes = Buffer.byteLength(this.head);
    this.packetRoom = limit ? limit.maxAllowedPacket - PACKET_HEADROOM - this.headBytes : Number.POSITIVE_INFINITY;
  }

  async add(row: RawRow): Promise<void> {
    const cells = this.table.columns.map((column, i) => {
      const value = row[i] ?? null;
      return (value === null ? undefined : this.table.fixedValues.get(column.name)) ?? sqlLiteral(value, column.kind);
    });
    const line = `(${cells.join(',')})`;
    const bytes = Buffer.byteLength(line) + 2;
    // A big row, or one that would take the statement over the server's packet (a server with a small
    // max_allowed_packet: only there do the bytes depend on it), starts a statement of its own, so a
    // statement over the limit is always one row, the one named.
    if (this.pending.length > 0 && (bytes >= STATEMENT_BYTES || this.pendingBytes + bytes > this.packetRoom)) await this.flush();
    this.pending.push(line);
    this.pendingBytes += bytes;
    this.lastRow = row;
    this.rows += 1;
    if (this.pendingBytes >= STATEMENT_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const bytes = this.headBytes + this.pendingBytes;
    if (this.limit && bytes + PACKET_HEADROOM > this.limit.maxAllowedPacket) {
      throw new OversizedRowError(this.limit.database, this.table.name, this.rowLabel(this.lastRow), bytes, this.limit.maxAllowedPacket);
    }
    const text = `${this.head}${this.pending.join(',\n')};\n`;
    this.pending = [];
    this.pendingBytes = 0;
    await this.sink.write(text);
  }

  /** `(id=5)` by primary key, or the row's position in the dump without one. */
  private rowLabel(row: RawRow): string {
    const key = this.table.primaryKey.map((name) => {
      const i = this.table.columns.findIndex((c) => c.name === name);
      const value = i < 0 ? '?' : sqlLiteral(row[i] ?? null, this.table.columns[i]!.kind);
      return `${name}=${value.length > 40 ? `${value.slice(0, 40)}…` : value}`;
    });
    return key.length > 0 ? `(${key.join(', ')})` : `${this.rows} (in dump order; the table has no primary key)`;
  }
}

/**
 * The SELECT that reads a data table in a total, reproducible order: by primary key, or without one by every
 * column, then (rows that tie under the columns' collations, such as 'a' and 'A' under a case-insensitive
 * one, or long values equal in their first max_sort_length bytes) by every column's bytes and by a digest of
 * each long column. Column references are qualified so they never resolve to a select-list alias.
 */
export function selectSql(table: DataTable): string {
  const ref = (name: string) => `${escapeId(table.name, true)}.${escapeId(name, true)}`;
  const order =
    table.primaryKey.length > 0
      ? table.primaryKey.map(ref)
      : [
          ...table.columns.map((c) => ref(c.name)),
          ...table.columns.filter((c) => c.kind !== 'binary').map((c) => `CAST(${ref(c.name)} AS BINARY)`),
          // SHA2, not MD5: MySQL 9 has no MD5 (nor SHA1).
          ...table.columns.filter((c) => c.long).map((c) => `SHA2(${ref(c.name)}, 256)`),
        ];
  const selected = table.columns.map((c) => (c.kind === 'float' ? `${ref(c.name)} + 0e0 AS ${escapeId(c.name, true)}` : ref(c.name)));
  return `SELECT ${selected.join(', ')} FROM ${escapeId(table.name, true)} ORDER BY ${order.join(', ')}`;
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
