import { escape, escapeId } from 'mysql2';
import type { Pool } from 'mysql2/promise';
import { MissingPrivilegeError } from './errors.js';
import {
  chooseDelimiter,
  compareNames,
  normalizeCreateEvent,
  normalizeCreateRoutine,
  normalizeCreateTable,
  normalizeCreateTrigger,
  normalizeCreateView,
  orderViews,
} from './normalize-ddl.js';

export interface StoredProgram {
  name: string;
  ddl: string;
  sqlMode: string;
}

/** Normalised DDL of every object of one database, in file order. */
export interface DatabaseObjects {
  charset: string;
  collation: string;
  tables: { name: string; ddl: string }[];
  /** In dependency order. */
  views: { name: string; ddl: string }[];
  routines: StoredProgram[];
  triggers: StoredProgram[];
  events: StoredProgram[];
}

type Row = Record<string, unknown>;

async function rows(pool: Pool, sql: string, params: unknown[] = []): Promise<Row[]> {
  const [result] = await pool.query(sql, params);
  return result as Row[];
}

/** Statements per round trip when reading table DDL (needs a pool opened with multipleStatements). */
const SHOW_CREATE_BATCH = 50;

/**
 * SHOW CREATE TABLE for many tables, several per round trip: per-query overhead, not server work,
 * dominates one-at-a-time reads of a wide schema (measured ~4x faster on 1000 tables).
 */
async function showCreateTables(pool: Pool, names: string[], onTable?: (done: number, total: number) => void): Promise<string[]> {
  let done = 0;
  const batches: string[][] = [];
  for (let i = 0; i < names.length; i += SHOW_CREATE_BATCH) batches.push(names.slice(i, i + SHOW_CREATE_BATCH));
  const results = await Promise.all(
    batches.map(async (batch) => {
      const [result] = await pool.query(batch.map((name) => `SHOW CREATE TABLE ${escapeId(name)}`).join(';\n'));
      const perStatement = (batch.length === 1 ? [result] : result) as Row[][];
      return perStatement.map((rowsOfOne, i) => {
        const ddl = rowsOfOne[0]?.['Create Table'];
        if (typeof ddl !== 'string') throw new Error(`SHOW CREATE TABLE \`${batch[i]}\` returned no DDL`);
        onTable?.(++done, names.length);
        return normalizeCreateTable(ddl);
      });
    }),
  );
  return results.flat();
}

async function showCreate(pool: Pool, what: string, name: string): Promise<Row> {
  const [first] = await rows(pool, `SHOW CREATE ${what} ${escapeId(name)}`);
  if (!first) throw new Error(`SHOW CREATE ${what} \`${name}\` returned nothing`);
  return first;
}

function requireText(value: unknown, what: string, name: string, privilege: string): string {
  // MySQL returns NULL instead of an error when the user may see that a routine exists but not its body.
  if (typeof value !== 'string') {
    throw new MissingPrivilegeError(`cannot read the body of ${what} \`${name}\`: the user needs ${privilege}`);
  }
  return value;
}

/**
 * Reads every object of the pool's current database with SHOW CREATE, concurrently (the pool caps the
 * number of connections; the rest queue). The pool must allow multiple statements (table DDL is batched). Tables, routines and events are in name order, views in
 * dependency order, triggers by table, timing, event and action order (their firing order).
 */
export async function readDatabaseObjects(
  pool: Pool,
  database: string,
  onTable?: (done: number, total: number) => void,
): Promise<DatabaseObjects> {
  const [[schema], tableRows, routineRows, triggerRows, eventRows] = await Promise.all([
    rows(
      pool,
      'SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [database],
    ),
    rows(pool, 'SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [database]),
    rows(pool, 'SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS type FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?', [database]),
    rows(
      pool,
      `SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl, ACTION_TIMING AS timing, EVENT_MANIPULATION AS event,
              ACTION_ORDER AS action_order FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?`,
      [database],
    ),
    rows(pool, 'SELECT EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?', [database]),
  ]);

  const names = (list: Row[], filter: (r: Row) => boolean = () => true) =>
    list.filter(filter).map((r) => String(r.name)).sort(compareNames);
  const baseTables = names(tableRows, (r) => !/VIEW/i.test(String(r.type)));
  const viewNames = names(tableRows, (r) => /VIEW/i.test(String(r.type)));

  const tables = showCreateTables(pool, baseTables, onTable).then((ddls) => baseTables.map((name, i) => ({ name, ddl: ddls[i]! })));
  const views = Promise.all(
    viewNames.map(async (name) => {
      const row = await showCreate(pool, 'VIEW', name);
      return [name, normalizeCreateView(requireText(row['Create View'], 'view', name, 'SHOW VIEW and SELECT'))] as const;
    }),
  );
  const routines = Promise.all(
    [...routineRows]
      .sort((a, b) => compareNames(String(a.type), String(b.type)) || compareNames(String(a.name), String(b.name)))
      .map(async (r) => {
        const kind = String(r.type).toUpperCase() === 'FUNCTION' ? 'FUNCTION' : 'PROCEDURE';
        const name = String(r.name);
        const row = await showCreate(pool, kind, name);
        const body = requireText(row[`Create ${kind === 'FUNCTION' ? 'Function' : 'Procedure'}`], kind.toLowerCase(), name, 'SHOW_ROUTINE (MySQL 8) or SELECT on mysql.proc / ownership of the routine');
        return { name, ddl: normalizeCreateRoutine(body, kind), sqlMode: String(row.sql_mode ?? '') };
      }),
  );
  const triggers = Promise.all(
    [...triggerRows]
      .sort(
        (a, b) =>
          compareNames(String(a.tbl), String(b.tbl)) ||
          compareNames(String(a.timing), String(b.timing)) ||
          compareNames(String(a.event), String(b.event)) ||
          Number(a.action_order ?? 0) - Number(b.action_order ?? 0) ||
          compareNames(String(a.name), String(b.name)),
      )
      .map(async (r) => {
        const name = String(r.name);
        const row = await showCreate(pool, 'TRIGGER', name);
        return { name, ddl: normalizeCreateTrigger(requireText(row['SQL Original Statement'], 'trigger', name, 'TRIGGER')), sqlMode: String(row.sql_mode ?? '') };
      }),
  );
  const events = Promise.all(
    names(eventRows).map(async (name) => {
      const row = await showCreate(pool, 'EVENT', name);
      return { name, ddl: normalizeCreateEvent(requireText(row['Create Event'], 'event', name, 'EVENT')), sqlMode: String(row.sql_mode ?? '') };
    }),
  );

  // Awaited together so one failure (e.g. a missing privilege) cannot leave the others' rejections unhandled.
  const [tableDdl, viewDdl, routineDdl, triggerDdl, eventDdl] = await Promise.all([tables, views, routines, triggers, events]);
  const viewMap = new Map(viewDdl);
  return {
    charset: String(schema?.charset),
    collation: String(schema?.collation),
    tables: tableDdl,
    views: orderViews(viewMap).map((name) => ({ name, ddl: viewMap.get(name)! })),
    routines: routineDdl,
    triggers: triggerDdl,
    events: eventDdl,
  };
}

/** SQL mode the dump file runs under (as mysqldump: permissive, explicit zero ids kept). */
export const FILE_SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO';

export function renderHeader(objects: DatabaseObjects): string {
  return [
    '-- Deterministic dump of one MySQL database by @org/mysql-dump. It names no database:',
    '-- load it with `mysql <database> < file.sql` or `devstack-dumps load`.',
    'SET NAMES utf8mb4;',
    "SET TIME_ZONE = '+00:00';",
    'SET FOREIGN_KEY_CHECKS = 0;',
    'SET UNIQUE_CHECKS = 0;',
    `SET SQL_MODE = '${FILE_SQL_MODE}';`,
    `ALTER DATABASE CHARACTER SET ${objects.charset} COLLATE ${objects.collation};`,
    '',
    '',
  ].join('\n');
}

export function renderTables(objects: DatabaseObjects): string {
  return objects.tables.map((t) => `-- Table ${escapeId(t.name)}\n${t.ddl};\n\n`).join('');
}

export function renderViews(objects: DatabaseObjects): string {
  return objects.views.map((v) => `-- View ${escapeId(v.name)}\n${v.ddl};\n\n`).join('');
}

/** Stored programs need the client's DELIMITER command: their bodies contain `;`. */
function renderPrograms(kind: string, programs: StoredProgram[]): string {
  return programs
    .map((p) => {
      const delimiter = chooseDelimiter(p.ddl);
      return [
        `-- ${kind} ${escapeId(p.name)}`,
        `SET SESSION SQL_MODE = ${escape(p.sqlMode)};`,
        `DELIMITER ${delimiter}`,
        `${p.ddl}${delimiter}`,
        'DELIMITER ;',
        `SET SESSION SQL_MODE = '${FILE_SQL_MODE}';`,
        '',
        '',
      ].join('\n');
    })
    .join('');
}

export const renderRoutines = (o: DatabaseObjects) => renderPrograms('Routine', o.routines);
export const renderTriggers = (o: DatabaseObjects) => renderPrograms('Trigger', o.triggers);
export const renderEvents = (o: DatabaseObjects) => renderPrograms('Event', o.events);
