import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { escapeId } from 'mysql2';
import { describeServerError, openSession, type EngineInfo, type Session } from './connect.js';
import { DJANGO_VOLATILE_COLUMNS, describeDataTables, resolveDataTables } from './data-plan.js';
import { readDatabaseObjects, renderEvents, renderHeader, renderRoutines, renderTables, renderTriggers, renderViews } from './ddl-reader.js';
import { UnknownDatabaseError } from './errors.js';
import { checkDumpPrivileges } from './privileges.js';
import { readSemanticSchema } from './read-schema.js';
import { DJANGO_RENUMBER_RULES, applicableRules, renumberRows, type RenumberRule } from './renumber.js';
import { serializeSchema, type SemanticSchema } from './semantic-schema.js';
import { InsertWriter, remapRow, rowComparator, streamRows, type DataTable, type RawRow, type TextSink } from './table-data.js';

export interface DumpMysqlOptions {
  /** mysql://user:password@host:port */
  url: string;
  /** Databases to dump; default: every database except the server's own. */
  databases?: string[];
  /** Tables that get rows (`table` or `database.table`); default: the Django reference tables present. */
  dataTables?: string[];
  /** `table.column` -> fixed value (null: NULL); replaces the default `{ 'django_migrations.applied': ... }`. */
  volatileColumns?: Record<string, string | null>;
  /** Creation-order ids to renumber by natural key; default: the Django rules. */
  renumber?: readonly RenumberRule[];
  /** Dump set directory; files go to `<outDir>/mysql/`. */
  outDir: string;
  /** Connections used to read DDL in parallel (default 4). */
  concurrency?: number;
  /** Seconds to retry while the server is unreachable (default 0: fail at once). */
  wait?: number;
  onProgress?: (progress: DumpProgress) => void;
}

export interface DumpProgress {
  database: string;
  phase: 'schema' | 'data' | 'done';
  done: number;
  total: number;
}

export interface DumpMysqlResult {
  /** Paths relative to outDir: `mysql/<db>.sql`, `mysql/<db>.schema.json`. */
  files: string[];
  schemas: Record<string, SemanticSchema>;
  /** Rows written per database and data table. */
  dataRows: Record<string, Record<string, number>>;
  engine: EngineInfo;
}

const SYSTEM_DATABASES = new Set(['information_schema', 'mysql', 'performance_schema', 'sys']);

function fileSink(path: string) {
  const stream = createWriteStream(path);
  const sink: TextSink = {
    async write(text) {
      if (!stream.write(text)) await once(stream, 'drain');
    },
  };
  const close = async () => {
    stream.end();
    await once(stream, 'finish');
  };
  return { sink, close, stream };
}

async function listTables(session: Session, databases: string[]): Promise<Map<string, Set<string>>> {
  const [rows] = await session.pool.query(
    "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?) AND TABLE_TYPE = 'BASE TABLE'",
    [databases],
  );
  const result = new Map(databases.map((db) => [db, new Set<string>()]));
  for (const row of rows as { db: string; t: string }[]) result.get(row.db)?.add(row.t);
  return result;
}

/** Dumps each database to `mysql/<db>.sql` + `mysql/<db>.schema.json`, written under temporary names and renamed when complete. */
export async function dumpMysql(options: DumpMysqlOptions): Promise<DumpMysqlResult> {
  const main = await openSession({ url: options.url, connections: 1, wait: options.wait });
  let databases: string[];
  let dataTablesByDb: Map<string, string[]>;
  try {
    const [rows] = await main.pool.query('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA');
    const existing = (rows as { name: string }[]).map((r) => r.name);
    databases = options.databases ?? existing.filter((db) => !SYSTEM_DATABASES.has(db)).sort();
    for (const db of databases) if (!existing.includes(db)) throw new UnknownDatabaseError(db, main.url.address);
    dataTablesByDb = resolveDataTables(options.dataTables, await listTables(main, databases));
  } catch (error) {
    throw describeServerError(error, main.url, { operation: 'listing databases' });
  } finally {
    await main.close();
  }

  const outDir = join(options.outDir, 'mysql');
  await mkdir(outDir, { recursive: true });
  const result: DumpMysqlResult = { files: [], schemas: {}, dataRows: {}, engine: main.engine };
  for (const database of databases) {
    // Multiple statements: table DDL is read in batches. Only our own SQL, with escaped identifiers, is sent.
    const session = await openSession({ url: options.url, database, connections: options.concurrency ?? 4, wait: options.wait, multipleStatements: true });
    try {
      const { schema, rows } = await dumpDatabase(session, database, dataTablesByDb.get(database) ?? [], options, outDir);
      result.schemas[database] = schema;
      result.dataRows[database] = rows;
      result.files.push(`mysql/${database}.sql`, `mysql/${database}.schema.json`);
    } catch (error) {
      throw describeServerError(error, session.url, { database, operation: `dumping database \`${database}\`` });
    } finally {
      await session.close();
    }
  }
  return result;
}

async function dumpDatabase(
  session: Session,
  database: string,
  dataTableNames: string[],
  options: DumpMysqlOptions,
  outDir: string,
): Promise<{ schema: SemanticSchema; rows: Record<string, number> }> {
  const report = (phase: DumpProgress['phase'], done: number, total: number) => options.onProgress?.({ database, phase, done, total });
  // Everything read up front runs concurrently over the pool; the file is written only once all succeeded.
  const [, { tables, foreignKeys }, schema, objects] = await Promise.all([
    checkDumpPrivileges(session.pool, database, session.url.user, session.url.address),
    describeDataTables(session.pool, database, dataTableNames, options.volatileColumns ?? DJANGO_VOLATILE_COLUMNS),
    readSemanticSchema(session.pool, database, session.engine),
    readDatabaseObjects(session.pool, database, (done, total) => report('schema', done, total)),
  ]);

  const sqlPath = join(outDir, `${database}.sql`);
  const partial = `${sqlPath}.partial`;
  const file = fileSink(partial);
  const rowsWritten: Record<string, number> = {};
  try {
    await file.sink.write(renderHeader(objects));
    await file.sink.write(renderTables(objects));

    // Renumbered tables are small reference tables: read whole, renumber, and keep for writing below.
    const held = new Map<string, RawRow[]>();
    for (const rule of applicableRules(options.renumber ?? DJANGO_RENUMBER_RULES, tables, foreignKeys)) {
      const table = tables.get(rule.table)!;
      const rows: RawRow[] = [];
      for await (const row of streamRows(session.raw, table)) rows.push(remapRow(table, row));
      const mapping = renumberRows(table, rows, rule);
      held.set(rule.table, rows);
      for (const fk of foreignKeys) {
        if (fk.referencedTable === rule.table && fk.referencedColumn === rule.id) tables.get(fk.table)?.remap.set(fk.column, mapping);
      }
    }

    const names = [...tables.keys()];
    let done = 0;
    for (const name of names) {
      const table = tables.get(name)!;
      await file.sink.write(`-- Data ${escapeId(name)}\n`);
      const writer = new InsertWriter(table, file.sink);
      let rows = held.get(name);
      if (!rows && table.primaryKey.some((c) => table.remap.has(c))) {
        // Remapped ids inside the primary key change the order: sort after remapping.
        rows = [];
        for await (const row of streamRows(session.raw, table)) rows.push(remapRow(table, row));
        rows.sort(rowComparator(table, table.primaryKey));
      }
      if (rows) {
        for (const row of rows) await writer.add(row);
      } else {
        for await (const row of streamRows(session.raw, table)) await writer.add(remapRow(table, row));
      }
      await writer.flush();
      await file.sink.write('\n');
      rowsWritten[name] = writer.rows;
      report('data', ++done, names.length);
    }

    await file.sink.write(renderRoutines(objects));
    await file.sink.write(renderViews(objects));
    await file.sink.write(renderTriggers(objects));
    await file.sink.write(renderEvents(objects));
    await file.close();
    await writeFile(join(outDir, `${database}.schema.json.partial`), serializeSchema(schema));
    await rename(partial, sqlPath);
    await rename(join(outDir, `${database}.schema.json.partial`), join(outDir, `${database}.schema.json`));
  } catch (error) {
    file.stream.destroy();
    await rm(partial, { force: true });
    await rm(join(outDir, `${database}.schema.json.partial`), { force: true });
    throw error;
  }
  report('done', 1, 1);
  return { schema, rows: rowsWritten };
}
