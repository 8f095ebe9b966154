import type { Pool, PoolConnection } from 'mysql2/promise';
import type { EngineInfo } from './connect.js';
import { escapeId } from 'sql-escaper';
import { SequenceNotSupportedError } from './errors.js';
import { buildSemanticSchema, type SchemaRows, type SemanticSchema, type SemanticSequence } from './semantic-schema.js';

type Queryable = Pool | PoolConnection;

function hasIndexExpressions(engine: EngineInfo): boolean {
  if (engine.flavor !== 'mysql') return false;
  const [major = 0, minor = 0, patch = 0] = engine.version.split('.').map(Number);
  return major > 8 || (major === 8 && (minor > 0 || patch >= 13));
}

/** MariaDB 10.6+ STATISTICS.IGNORED; MySQL 8.0 STATISTICS.IS_VISIBLE. */
function ignoredIndexColumn(engine: EngineInfo): string {
  const [major = 0, minor = 0] = engine.version.split('.').map(Number);
  if (engine.flavor === 'mariadb') return major > 10 || (major === 10 && minor >= 6) ? ', IGNORED AS ignored' : '';
  return major >= 8 ? ", IF(IS_VISIBLE = 'NO', 'YES', 'NO') AS ignored" : '';
}

async function select<T>(db: Queryable, sql: string, params: unknown[]): Promise<T[]> {
  const [rows] = await db.query(sql, params);
  return rows as T[];
}

/** A stored program as information_schema lists it. */
export interface RoutineRow {
  name: string;
  type: string;
}

/** A trigger with what orders triggers by firing (table, timing, event, action order). */
export interface TriggerRow {
  name: string;
  tbl: string;
  timing: string;
  event: string;
  action_order: number | string | null;
}

/**
 * Everything a dump needs from information_schema for one database, read once: the semantic schema's rows
 * (columns also carry DATA_TYPE, for the data tables) plus what orders routines and triggers. Each kind is
 * one query filtered by schema, never one per table: on MariaDB, information_schema opens tables to answer.
 */
export interface Catalog {
  rows: SchemaRows;
  routines: RoutineRow[];
  triggers: TriggerRow[];
}

/**
 * Reads the catalog of one database for a dump. Refuses (`SequenceNotSupportedError`) a database with
 * sequences before anything is written: a dump that reloads them wrong must never be silent.
 */
export async function readCatalog(db: Queryable, database: string, engine: EngineInfo): Promise<Catalog> {
  const catalog = await readCatalogRows(db, database, engine);
  const sequences = catalog.rows.sequences ?? [];
  if (sequences.length > 0) throw new SequenceNotSupportedError(database, sequences.map((s) => s.name));
  return catalog;
}

/** Reads the definition of each sequence (one small query per sequence; sequences are rare). */
async function readSequences(db: Queryable, database: string, names: string[]): Promise<SemanticSequence[]> {
  return Promise.all(
    names.map(async (name) => {
      const [row] = await select<Omit<SemanticSequence, 'name' | 'cycle'> & { cycle: string | number }>(
        db,
        `SELECT CAST(start_value AS CHAR) AS start, CAST(increment AS CHAR) AS increment, CAST(minimum_value AS CHAR) AS min,
                CAST(maximum_value AS CHAR) AS max, CAST(cache_size AS CHAR) AS cache, CAST(cycle_option AS CHAR) AS cycle
           FROM ${escapeId(database, true)}.${escapeId(name, true)}`,
        [],
      );
      if (!row) throw new Error(`sequence \`${name}\` has no definition row`);
      return { name, start: row.start, increment: row.increment, min: row.min, max: row.max, cache: row.cache, cycle: String(row.cycle) === '1' };
    }),
  );
}

function hasSchemaComment(engine: EngineInfo): boolean {
  const [major = 0, minor = 0] = engine.version.split('.').map(Number);
  return engine.flavor === 'mariadb' && (major > 10 || (major === 10 && minor >= 5));
}

/**
 * CHECK constraints with their table: MariaDB 10.3.10+ lists the table in CHECK_CONSTRAINTS (names are per
 * table there); MySQL 8.0.16+ only in TABLE_CONSTRAINTS (names are per database). Older servers: none.
 */
function checkConstraintsSql(engine: EngineInfo): string {
  const [major = 0, minor = 0, patch = 0] = engine.version.split('.').map(Number);
  const at = (a: number, b: number, c: number) => major > a || (major === a && (minor > b || (minor === b && patch >= c)));
  if (engine.flavor === 'mariadb' && at(10, 3, 10)) {
    return `SELECT TABLE_NAME AS table_name, CONSTRAINT_NAME AS constraint_name, CHECK_CLAUSE AS check_clause
              FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?`;
  }
  if (engine.flavor === 'mysql' && at(8, 0, 16)) {
    return `SELECT tc.TABLE_NAME AS table_name, cc.CONSTRAINT_NAME AS constraint_name, cc.CHECK_CLAUSE AS check_clause
              FROM information_schema.CHECK_CONSTRAINTS cc JOIN information_schema.TABLE_CONSTRAINTS tc
                ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME AND tc.CONSTRAINT_TYPE = 'CHECK'
             WHERE cc.CONSTRAINT_SCHEMA = ?`;
  }
  return 'SELECT 1 FROM DUAL WHERE ? IS NULL';
}

/** Reads the catalog of one database (a handful of queries, run concurrently), sequences included. */
async function readCatalogRows(db: Queryable, database: string, engine: EngineInfo): Promise<Catalog> {
  const p = [database];
  const [schemata, defaultCollations, tables, columns, statistics, fkColumns, fkRules, routines, triggers, events, checks] = await Promise.all([
    select<{ charset: string; collation: string; comment?: string }>(
      db,
      // MariaDB 10.5+ has database comments (MySQL has none).
      `SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation${hasSchemaComment(engine) ? ', SCHEMA_COMMENT AS comment' : ''}
         FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?`,
      p,
    ),
    select<{ charset: string; collation: string }>(
      db,
      "SELECT CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation FROM information_schema.COLLATIONS WHERE IS_DEFAULT = 'Yes'",
      [],
    ),
    select<SchemaRows['tables'][number]>(
      db,
      `SELECT TABLE_NAME AS table_name, TABLE_TYPE AS table_type, ENGINE AS engine, TABLE_COLLATION AS table_collation,
              TABLE_COMMENT AS table_comment
         FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?`,
      p,
    ),
    select<SchemaRows['columns'][number]>(
      db,
      `SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name, ORDINAL_POSITION AS ordinal_position,
              COLUMN_DEFAULT AS column_default, IS_NULLABLE AS is_nullable, COLUMN_TYPE AS column_type,
              CHARACTER_SET_NAME AS character_set_name, COLLATION_NAME AS collation_name, EXTRA AS extra,
              COLUMN_COMMENT AS column_comment, DATA_TYPE AS data_type, GENERATION_EXPRESSION AS generation_expression
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?`,
      p,
    ),
    select<SchemaRows['statistics'][number]>(
      db,
      `SELECT TABLE_NAME AS table_name, INDEX_NAME AS index_name, NON_UNIQUE AS non_unique, SEQ_IN_INDEX AS seq_in_index,
              COLUMN_NAME AS column_name, SUB_PART AS sub_part, INDEX_TYPE AS index_type, COLLATION AS collation,
              INDEX_COMMENT AS index_comment
              ${hasIndexExpressions(engine) ? ', EXPRESSION AS expression' : ''}${ignoredIndexColumn(engine)}
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ?`,
      p,
    ),
    select<Omit<SchemaRows['foreignKeys'][number], 'update_rule' | 'delete_rule'>>(
      db,
      `SELECT TABLE_NAME AS table_name, CONSTRAINT_NAME AS constraint_name, COLUMN_NAME AS column_name,
              ORDINAL_POSITION AS ordinal_position, REFERENCED_TABLE_SCHEMA AS referenced_table_schema,
              REFERENCED_TABLE_NAME AS referenced_table_name, REFERENCED_COLUMN_NAME AS referenced_column_name
         FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_NAME IS NOT NULL`,
      p,
    ),
    // Joined in JS: MariaDB takes ~0.5 s for this join on 1000 tables, the two scans ~20 ms each.
    select<{ table_name: string; constraint_name: string; update_rule: string; delete_rule: string }>(
      db,
      `SELECT TABLE_NAME AS table_name, CONSTRAINT_NAME AS constraint_name, UPDATE_RULE AS update_rule, DELETE_RULE AS delete_rule
         FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?`,
      p,
    ),
    select<RoutineRow & { definition: string | null }>(
      db,
      'SELECT ROUTINE_TYPE AS type, ROUTINE_NAME AS name, ROUTINE_DEFINITION AS definition FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?',
      p,
    ),
    select<TriggerRow & { statement: string | null }>(
      db,
      `SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl, ACTION_TIMING AS timing, EVENT_MANIPULATION AS event,
              ACTION_ORDER AS action_order, ACTION_STATEMENT AS statement FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?`,
      p,
    ),
    select<{ name: string; definition: string | null; type: string; interval_value: string | null; interval_field: string | null }>(
      db,
      `SELECT EVENT_NAME AS name, EVENT_DEFINITION AS definition, EVENT_TYPE AS type, INTERVAL_VALUE AS interval_value,
              INTERVAL_FIELD AS interval_field FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
      p,
    ),
    select<NonNullable<SchemaRows['checks']>[number]>(db, checkConstraintsSql(engine), p),
  ]);
  const rules = new Map(fkRules.map((r) => [`${r.table_name}\0${r.constraint_name}`, r]));
  const foreignKeys = fkColumns.map((k) => {
    const rule = rules.get(`${k.table_name}\0${k.constraint_name}`);
    return { ...k, update_rule: rule?.update_rule ?? 'RESTRICT', delete_rule: rule?.delete_rule ?? 'RESTRICT' };
  });
  const schema = schemata[0];
  if (!schema) throw new Error(`database \`${database}\` does not exist`);
  const rows: SchemaRows = {
    database,
    schema,
    defaultCollations,
    tables,
    columns,
    statistics,
    foreignKeys,
    routines: routines.map((r) => `${r.type} ${r.name}`),
    triggers: triggers.map((r) => r.name),
    events: events.map((r) => r.name),
    ...(checks.length > 0 ? { checks } : {}),
    bodies: {
      routines: Object.fromEntries(routines.map((r) => [`${r.type} ${r.name}`, r.definition])),
      // What fires it belongs to a trigger's definition as much as its statement.
      triggers: Object.fromEntries(triggers.map((r) => [r.name, r.statement === null ? null : `${r.timing} ${r.event} ON ${r.tbl}\n${r.statement}`])),
      events: Object.fromEntries(
        events.map((r) => [
          r.name,
          r.definition === null ? null : `${r.type} ${r.interval_value ?? ''} ${r.interval_field ?? ''}\n${r.definition}`,
        ]),
      ),
    },
  };
  const sequenceNames = tables.filter((t) => /SEQUENCE/i.test(t.table_type)).map((t) => t.table_name);
  if (sequenceNames.length > 0) rows.sequences = await readSequences(db, database, sequenceNames);
  return {
    rows,
    routines: routines.map(({ name, type }) => ({ name, type })),
    triggers: triggers.map(({ name, tbl, timing, event, action_order }) => ({ name, tbl, timing, event, action_order })),
  };
}

/** The semantic schema of one database; unlike a dump, describes sequences rather than refusing them. */
export async function readSemanticSchema(db: Queryable, database: string, engine: EngineInfo): Promise<SemanticSchema> {
  return buildSemanticSchema((await readCatalogRows(db, database, engine)).rows, engine);
}
