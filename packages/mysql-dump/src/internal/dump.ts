import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { describeServerError, openSession, type EngineInfo, type Session } from './connect.js';
import { describeDataTables, resolveDataTables } from './data-plan.js';
import {
  DATA_SQL_MODE,
  FILE_SQL_MODE,
  commentName,
  readDatabaseObjects,
  renderEvents,
  renderHeader,
  renderRoutines,
  renderTables,
  renderTriggers,
  renderViews,
  type DatabaseObjects,
} from './ddl-reader.js';
import { UnknownDatabaseError, UnknownVolatileColumnError } from './errors.js';
import { checkDumpPrivileges } from './privileges.js';
import { refuseUnloadable } from './self-check.js';
import { isMysqlSystemDatabase, refuseSystemDatabases, refuseUnsafeFileNames } from './system-databases.js';
import { readCatalog, type Catalog } from './read-schema.js';
import { BOOKKEEPING_RENUMBER_RULES, bookkeepingTablesIn } from './bookkeeping.js';
import { DJANGO_RENUMBER_RULES, applicableRules, renumberTables, type RenumberRule } from './renumber.js';
import { buildSemanticSchema, serializeSchema, type SemanticSchema } from './semantic-schema.js';
import { InsertWriter, readRows, remapRow, sortRows, streamRows, type RawRow, type TextSink } from './table-data.js';

export interface DumpMysqlOptions {
  /** mysql://user:password@host:port */
  url: string;
  /** Databases to dump; default: every database except the server's own. */
  databases?: string[];
  /**
   * Tables that get rows (`table` or `database.table`); default: the Django reference tables present. The
   * migration tools' bookkeeping tables (django_migrations, alembic_version, ...: bookkeeping.ts) always do.
   */
  dataTables?: string[];
  /** `table.column` -> fixed value (null: NULL), on top of (and overriding) the bookkeeping tables' fixed columns. */
  volatileColumns?: Record<string, string | null>;
  /** Creation-order ids to renumber by natural key; default: the Django rules and Prisma's random migration ids. */
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

/**
 * Dumps each database to `mysql/<db>.sql` + `mysql/<db>.schema.json`, written under temporary names and renamed
 * when complete. Every database's catalog is read first (data tables are resolved across databases before
 * anything is written); the pool opened for listing already uses the first named database and dumps it.
 */
export async function dumpMysql(options: DumpMysqlOptions): Promise<DumpMysqlResult> {
  const connections = options.concurrency ?? 4;
  // Multiple statements: DDL is read in batches. Only our own SQL, with escaped identifiers, is sent.
  const open = (database: string | undefined) =>
    openSession({ url: options.url, database, connections, wait: options.wait, multipleStatements: true });
  const firstDatabase = options.databases?.[0];
  if (options.databases) {
    // Before connecting: named databases that cannot be dumped are the caller's to fix.
    refuseSystemDatabases(options.databases, 'dump');
    refuseUnsafeFileNames(options.databases);
  }
  const first = await open(firstDatabase);
  const result: DumpMysqlResult = { files: [], schemas: {}, dataRows: {}, engine: first.engine };
  try {
    const catalogs = new Map<string, Catalog>();
    let dataTablesByDb: Map<string, string[]>;
    const bookkeepingByDb = new Map<string, ReturnType<typeof bookkeepingTablesIn>>();
    try {
      const [rows] = await first.pool.query('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA');
      const existing = (rows as { name: string }[]).map((r) => r.name);
      const databases = options.databases ?? existing.filter((db) => !isMysqlSystemDatabase(db)).sort();
      refuseUnsafeFileNames(databases);
      for (const db of databases) if (!existing.includes(db)) throw new UnknownDatabaseError(db, first.url.address);
      for (const db of databases) catalogs.set(db, await readCatalog(first.pool, db, first.engine));
      const named = (view: boolean) =>
        new Map([...catalogs].map(([db, catalog]) => [db, new Set(catalog.rows.tables.filter((t) => /VIEW/i.test(t.table_type) === view).map((t) => t.table_name))]));
      dataTablesByDb = resolveDataTables(options.dataTables, named(false), named(true));
      // Migration tools' bookkeeping tables always keep their rows: without them a dump cannot be migrated forward.
      for (const [db, catalog] of catalogs) {
        const tables = dataTablesByDb.get(db)!;
        bookkeepingByDb.set(db, bookkeepingOf(catalog));
        for (const { table } of bookkeepingByDb.get(db)!) if (!tables.includes(table)) tables.push(table);
        tables.sort();
      }
      // A caller's volatile column on a table without rows would fix nothing: most likely a typo.
      for (const key of Object.keys(options.volatileColumns ?? {})) {
        const table = key.slice(0, Math.max(key.lastIndexOf('.'), 0));
        if (![...dataTablesByDb.values()].some((tables) => tables.includes(table))) {
          throw new UnknownVolatileColumnError(key, [...catalogs.keys()].map((db) => `\`${db}\``).join(', '), true);
        }
      }
    } catch (error) {
      throw describeServerError(error, first.url, { operation: 'listing databases' });
    }

    const outDir = join(options.outDir, 'mysql');
    await mkdir(outDir, { recursive: true });
    for (const [database, catalog] of catalogs) {
      const session = database === firstDatabase ? first : await open(database);
      try {
        const { schema, rows } = await dumpDatabase(session, database, catalog, dataTablesByDb.get(database) ?? [], bookkeepingByDb.get(database) ?? [], options, outDir);
        result.schemas[database] = schema;
        result.dataRows[database] = rows;
        result.files.push(`mysql/${database}.sql`, `mysql/${database}.schema.json`);
      } catch (error) {
        throw describeServerError(error, session.url, { database, operation: `dumping database \`${database}\`` });
      } finally {
        if (session !== first) await session.close();
      }
    }
  } finally {
    await first.close();
  }
  return result;
}

async function dumpDatabase(
  session: Session,
  database: string,
  catalog: Catalog,
  dataTableNames: string[],
  bookkeeping: ReturnType<typeof bookkeepingTablesIn>,
  options: DumpMysqlOptions,
  outDir: string,
): Promise<{ schema: SemanticSchema; rows: Record<string, number> }> {
  const report = (phase: DumpProgress['phase'], done: number, total: number) => options.onProgress?.({ database, phase, done, total });
  // The bookkeeping tables' fixed columns, then the caller's (which win for the same column).
  const volatile = Object.assign({}, ...bookkeeping.map((found) => found.volatile), options.volatileColumns ?? {}) as Record<string, string | null>;
  const { tables, foreignKeys } = describeDataTables(catalog.rows, dataTableNames, volatile);
  const rules = applicableRules(options.renumber ?? [...DJANGO_RENUMBER_RULES, ...BOOKKEEPING_RENUMBER_RULES], tables, foreignKeys);
  const sqlPath = join(outDir, `${database}.sql`);
  const partial = `${sqlPath}.partial`;
  const schemaPath = join(outDir, `${database}.schema.json`);
  const schemaPartial = `${schemaPath}.partial`;
  // Everything read up front runs concurrently over the pool; the file is written only once all succeeded.
  // Renumbered tables are small reference tables: read whole, renumbered below, and kept for writing.
  // The semantic schema needs only the catalog: it is built and written (under its temporary name) while
  // the server answers, once the reads have gone out on the connections already open (setImmediate runs
  // after the pool's writes; connections still being opened wait for it).
  const schemaWritten = (async () => {
    await new Promise(setImmediate);
    const built = buildSemanticSchema(catalog.rows, session.engine);
    await writeFile(schemaPartial, serializeSchema(built));
    return built;
  })();
  let objects: DatabaseObjects;
  let renumberedRows: RawRow[][];
  let schema: SemanticSchema;
  let maxAllowedPacket: number;
  try {
    [, objects, renumberedRows, schema, maxAllowedPacket] = await Promise.all([
      checkDumpPrivileges(session.pool, database, session.url.user, session.url.address, session.engine),
      readDatabaseObjects(session.pool, catalog, (done, total) => report('schema', done, total)),
      Promise.all(rules.map((rule) => readRows(session.pool, tables.get(rule.table)!))),
      schemaWritten,
      // Each INSERT the file holds must fit a packet, or no client can load it.
      session.pool.query('SELECT @@max_allowed_packet AS p').then(([rows]) => Number((rows as { p: number | string }[])[0]!.p)),
    ]);
  } catch (error) {
    // A failed read rejects at once; the schema file may still be being written.
    await schemaWritten.catch(() => undefined);
    await rm(schemaPartial, { force: true });
    throw error;
  }

  try {
    refuseUnloadable(objects, database);
  } catch (error) {
    await rm(schemaPartial, { force: true });
    throw error;
  }
  const file = fileSink(partial);
  const rowsWritten: Record<string, number> = {};
  try {
    await file.sink.write(renderHeader(objects));
    await file.sink.write(renderTables(objects));

    const held = renumberTables(rules, tables, foreignKeys, renumberedRows);

    const names = [...tables.keys()];
    let done = 0;
    if (names.length > 0) await file.sink.write(`SET SQL_MODE = '${DATA_SQL_MODE}';\n\n`);
    for (const name of names) {
      const table = tables.get(name)!;
      await file.sink.write(`-- Data ${commentName(name)}\n`);
      const writer = new InsertWriter(table, file.sink, { database, maxAllowedPacket });
      let rows = held.get(name);
      if (!rows && table.primaryKey.some((c) => table.remap.has(c))) {
        // Remapped ids inside the primary key change the order: sort after remapping.
        rows = (await readRows(session.pool, table)).map((row) => remapRow(table, row));
        sortRows(table, rows, table.primaryKey);
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
    if (names.length > 0) await file.sink.write(`SET SQL_MODE = '${FILE_SQL_MODE}';\n\n`);

    await file.sink.write(renderRoutines(objects));
    await file.sink.write(renderViews(objects));
    await file.sink.write(renderTriggers(objects));
    await file.sink.write(renderEvents(objects));
    await file.close();
    await rename(partial, sqlPath);
    await rename(schemaPartial, schemaPath).catch(async (error: unknown) => {
      // Never leave this dump's .sql beside another dump's (or no) schema file.
      await rm(sqlPath, { force: true });
      throw error;
    });
  } catch (error) {
    // Wait for the descriptor to close: a stream still opening would create the file after the rm.
    if (!file.stream.closed) {
      const closed = once(file.stream, 'close').catch(() => undefined);
      file.stream.destroy();
      await closed;
    }
    await rm(partial, { force: true });
    await rm(schemaPartial, { force: true });
    throw error;
  }
  report('done', 1, 1);
  return { schema, rows: rowsWritten };
}

/** The migration tools' bookkeeping tables among a database's base tables. */
function bookkeepingOf(catalog: Catalog): ReturnType<typeof bookkeepingTablesIn> {
  const baseTables = new Set(catalog.rows.tables.filter((t) => !/VIEW/i.test(t.table_type)).map((t) => t.table_name));
  const columnsByTable = new Map<string, string[]>();
  for (const row of catalog.rows.columns) {
    if (!baseTables.has(row.table_name)) continue;
    const columns = columnsByTable.get(row.table_name) ?? [];
    columns.push(row.column_name);
    columnsByTable.set(row.table_name, columns);
  }
  return bookkeepingTablesIn(columnsByTable);
}
