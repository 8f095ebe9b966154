import { escape } from 'mysql2';
import type { Pool } from 'mysql2/promise';
import { UnknownDataTableError, UnknownVolatileColumnError } from './errors.js';
import type { ForeignKeyColumn } from './renumber.js';
import { valueKind, type DataTable } from './table-data.js';

/** Tables whose rows a Django schema dump carries by default: reference data, never users or sessions. */
export const DJANGO_DATA_TABLES: readonly string[] = ['django_migrations', 'django_content_type', 'auth_permission', 'django_site'];

/** Columns whose value records when something ran, fixed so dumps do not change with the clock. */
export const DJANGO_VOLATILE_COLUMNS: Readonly<Record<string, string | null>> = {
  'django_migrations.applied': '2000-01-01 00:00:00',
};

/**
 * Which tables of each database get rows. Names are `table` (every dumped database that has it; at least
 * one must) or `database.table` (that database must have it). Without a list, the Django defaults that
 * exist are used.
 */
export function resolveDataTables(
  requested: readonly string[] | undefined,
  tablesByDatabase: ReadonlyMap<string, ReadonlySet<string>>,
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
    if (!found && explicit) throw new UnknownDataTableError(entry, targets);
  }
  for (const list of result.values()) list.sort();
  return result;
}

/** Column shapes, primary keys and foreign keys of the data tables of one database. */
export async function describeDataTables(
  pool: Pool,
  database: string,
  tableNames: string[],
  volatileColumns: Readonly<Record<string, string | null>>,
): Promise<{ tables: Map<string, DataTable>; foreignKeys: ForeignKeyColumn[] }> {
  const tables = new Map<string, DataTable>();
  if (tableNames.length === 0) return { tables, foreignKeys: [] };
  const [columnRows] = await pool.query(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS type, EXTRA AS extra FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?) ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    [database, tableNames],
  );
  const [keyRows] = await pool.query(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?) AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_NAME, SEQ_IN_INDEX`,
    [database, tableNames],
  );
  const [fkRows] = await pool.query(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, REFERENCED_TABLE_NAME AS rt, REFERENCED_COLUMN_NAME AS rc
       FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_SCHEMA = ? AND REFERENCED_TABLE_NAME IS NOT NULL
      ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
    [database, database],
  );
  for (const name of tableNames) tables.set(name, { name, columns: [], primaryKey: [], fixedValues: new Map(), remap: new Map() });
  for (const row of columnRows as { t: string; c: string; type: string; extra: string }[]) {
    // Generated columns cannot be inserted; the server recomputes them.
    if (/GENERATED|PERSISTENT/i.test(row.extra ?? '') && !/DEFAULT_GENERATED/i.test(row.extra ?? '')) continue;
    tables.get(row.t)?.columns.push({ name: row.c, kind: valueKind(row.type) });
  }
  for (const row of keyRows as { t: string; c: string }[]) tables.get(row.t)?.primaryKey.push(row.c);
  for (const [key, value] of Object.entries(volatileColumns)) {
    const dot = key.lastIndexOf('.');
    const table = tables.get(key.slice(0, dot));
    const column = key.slice(dot + 1);
    if (!table) continue;
    if (!table.columns.some((c) => c.name === column)) {
      throw new UnknownVolatileColumnError(key, database);
    }
    table.fixedValues.set(column, value === null ? 'NULL' : escape(value));
  }
  const foreignKeys = (fkRows as { t: string; c: string; rt: string; rc: string }[]).map((r) => ({
    table: r.t,
    column: r.c,
    referencedTable: r.rt,
    referencedColumn: r.rc,
  }));
  return { tables, foreignKeys };
}
