import { escape } from 'sql-escaper';
import { InvalidVolatileColumnError, UnknownDataTableError, UnknownVolatileColumnError } from './errors.js';
import { compareNames } from './normalize-ddl.js';
import type { ForeignKeyColumn } from './renumber.js';
import type { SchemaRows } from './semantic-schema.js';
import { isLongType, valueKind, type DataTable } from './table-data.js';

/** Tables whose rows a Django schema dump carries by default: reference data, never users or sessions. */
export const DJANGO_DATA_TABLES: readonly string[] = ['django_migrations', 'django_content_type', 'auth_permission', 'django_site'];

/** Columns whose value records when something ran, fixed so dumps do not change with the clock. */
export const DJANGO_VOLATILE_COLUMNS: Readonly<Record<string, string | null>> = {
  'django_migrations.applied': '2000-01-01 00:00:00',
};

/**
 * `table.column=value` entries (an input or flag) as volatile columns; `=NULL` fixes the column to NULL.
 * The value is taken as written after the first `=`, spaces included.
 */
export function parseVolatileColumns(entries: readonly string[]): Record<string, string | null> {
  const columns: Record<string, string | null> = {};
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    const key = equals < 0 ? '' : entry.slice(0, equals).trim();
    const dot = key.lastIndexOf('.');
    if (dot <= 0 || dot === key.length - 1) throw new InvalidVolatileColumnError(entry);
    const value = entry.slice(equals + 1);
    columns[key] = value === 'NULL' ? null : value;
  }
  return columns;
}

/**
 * Which tables of each database get rows. Names are `table` (every dumped database that has it; at least
 * one must) or `database.table` (that database must be dumped and have it). Without a list, the Django
 * defaults that exist are used.
 */
export function resolveDataTables(
  requested: readonly string[] | undefined,
  tablesByDatabase: ReadonlyMap<string, ReadonlySet<string>>,
  /** Views per database: a data table named like one gets its own message. */
  viewsByDatabase: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
): Map<string, string[]> {
  const result = new Map<string, string[]>([...tablesByDatabase.keys()].map((db) => [db, []]));
  const databases = [...tablesByDatabase.keys()];
  const explicit = requested !== undefined;
  for (const entry of requested ?? DJANGO_DATA_TABLES) {
    const dot = entry.indexOf('.');
    const qualified = dot > 0 && tablesByDatabase.has(entry.slice(0, dot));
    const targets = qualified ? [entry.slice(0, dot)] : databases;
    const table = qualified ? entry.slice(dot + 1) : entry;
    let found = false;
    for (const db of targets) {
      if (tablesByDatabase.get(db)?.has(table)) {
        found = true;
        const list = result.get(db)!;
        if (!list.includes(table)) list.push(table);
      }
    }
    if (!found && explicit) {
      // `db.table` with a db not being dumped (and no table literally named so): name the database, not a
      // missing table, so the fix (dump that database too) is clear.
      if (!qualified && dot > 0) throw new UnknownDataTableError(entry, databases, entry.slice(0, dot));
      const view = targets.find((db) => viewsByDatabase.get(db)?.has(table));
      throw new UnknownDataTableError(entry, targets, undefined, view);
    }
  }
  for (const list of result.values()) list.sort();
  return result;
}

/**
 * Column shapes, primary keys and foreign keys of the data tables of one database, taken from the
 * information_schema rows already read for the semantic schema (no queries of its own).
 */
export function describeDataTables(
  rows: SchemaRows,
  tableNames: string[],
  volatileColumns: Readonly<Record<string, string | null>>,
): { tables: Map<string, DataTable>; foreignKeys: ForeignKeyColumn[] } {
  const tables = new Map<string, DataTable>();
  if (tableNames.length === 0) return { tables, foreignKeys: [] };
  const wanted = new Set(tableNames);
  const byPosition = <T>(position: (row: T) => number | string) => (a: T, b: T) => Number(position(a)) - Number(position(b));
  const columnRows = rows.columns.filter((c) => wanted.has(c.table_name)).sort(byPosition((c) => c.ordinal_position));
  const keyRows = rows.statistics
    .filter((s) => wanted.has(s.table_name) && s.index_name === 'PRIMARY')
    .sort(byPosition((s) => s.seq_in_index));
  const fkRows = rows.foreignKeys
    .filter((f) => f.referenced_table_schema === rows.database)
    .sort(
      (a, b) =>
        compareNames(a.table_name, b.table_name) ||
        compareNames(a.constraint_name, b.constraint_name) ||
        Number(a.ordinal_position) - Number(b.ordinal_position),
    );
  for (const name of tableNames) tables.set(name, { name, columns: [], primaryKey: [], fixedValues: new Map(), remap: new Map() });
  for (const row of columnRows) {
    // Generated columns cannot be inserted; the server recomputes them.
    if (/GENERATED|PERSISTENT/i.test(row.extra ?? '') && !/DEFAULT_GENERATED/i.test(row.extra ?? '')) continue;
    const dataType = row.data_type ?? row.column_type.split(/[\s(]/)[0]!;
    tables.get(row.table_name)?.columns.push({ name: row.column_name, kind: valueKind(dataType), ...(isLongType(dataType) ? { long: true } : {}) });
  }
  for (const row of keyRows) if (row.column_name !== null) tables.get(row.table_name)?.primaryKey.push(row.column_name);
  for (const [key, value] of Object.entries(volatileColumns)) {
    const dot = key.lastIndexOf('.');
    if (dot <= 0) throw new UnknownVolatileColumnError(key, rows.database);
    // Only data tables get rows; a key for another table has nothing to normalise here.
    const table = tables.get(key.slice(0, dot));
    if (!table) continue;
    // Column names are case-insensitive in MySQL.
    const column = table.columns.find((c) => c.name.toLowerCase() === key.slice(dot + 1).toLowerCase());
    if (!column) throw new UnknownVolatileColumnError(key, rows.database);
    table.fixedValues.set(column.name, value === null ? 'NULL' : escape(value));
  }
  const foreignKeys = fkRows.map((r) => ({
    table: r.table_name,
    column: r.column_name,
    referencedTable: r.referenced_table_name,
    referencedColumn: r.referenced_column_name,
  }));
  return { tables, foreignKeys };
}
