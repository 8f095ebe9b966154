import type { RenumberRule } from './renumber.js';

/**
 * A migration tool's bookkeeping table: its rows say which migrations ran, so a dump without them cannot
 * be migrated forward (the tool would run every migration again on the loaded schema). Such a table is
 * dumped with its rows whatever `dataTables` says, once its name and columns identify it; it never holds
 * users, sessions or tokens. `fixed` columns record when or in which run a migration was applied: they
 * get a fixed value so the same migrations give the same bytes, migrated incrementally or from scratch.
 */
export interface BookkeepingTable {
  tool: string;
  table: string;
  /** Columns the table must have (compared case-insensitively) to be taken for this tool's. */
  columns: readonly string[];
  /**
   * For a name an application could use too (`migrations`, `schema_migrations`): every column the tool
   * creates; a table with any other column is the application's, and keeps no rows unless listed.
   */
  only?: readonly string[];
  /** Column -> fixed value (null: NULL). Only columns the table has are fixed, and only where not NULL. */
  fixed: Readonly<Record<string, string | null>>;
}

const EPOCH = '2000-01-01 00:00:00';

export const BOOKKEEPING_TABLES: readonly BookkeepingTable[] = [
  { tool: 'Django', table: 'django_migrations', columns: ['app', 'name', 'applied'], fixed: { applied: EPOCH } },
  { tool: 'Alembic', table: 'alembic_version', columns: ['version_num'], fixed: {} },
  // Knex and Laravel number each `migrate` run's batch (rollback undoes the last batch): a loaded dump is one batch.
  { tool: 'Knex', table: 'knex_migrations', columns: ['name', 'batch', 'migration_time'], fixed: { batch: '1', migration_time: EPOCH } },
  { tool: 'Knex', table: 'knex_migrations_lock', columns: ['is_locked'], fixed: {} },
  { tool: 'Flyway', table: 'flyway_schema_history', columns: ['installed_rank', 'version', 'script', 'checksum', 'installed_on', 'execution_time'], fixed: { installed_on: EPOCH, execution_time: '0' } },
  { tool: 'Liquibase', table: 'DATABASECHANGELOG', columns: ['ID', 'AUTHOR', 'FILENAME', 'DATEEXECUTED', 'ORDEREXECUTED'], fixed: { DATEEXECUTED: EPOCH, DEPLOYMENT_ID: '0000000000' } },
  { tool: 'Liquibase', table: 'DATABASECHANGELOGLOCK', columns: ['ID', 'LOCKED'], fixed: { LOCKGRANTED: null, LOCKEDBY: null } },
  { tool: 'Sequelize', table: 'SequelizeMeta', columns: ['name'], fixed: {} },
  // Rails, golang-migrate and Ecto share the name; Ecto also records when.
  { tool: 'Rails, golang-migrate, Ecto', table: 'schema_migrations', columns: ['version'], only: ['version', 'dirty', 'inserted_at'], fixed: { inserted_at: EPOCH } },
  { tool: 'Rails', table: 'ar_internal_metadata', columns: ['key', 'value', 'created_at', 'updated_at'], fixed: { created_at: EPOCH, updated_at: EPOCH } },
  { tool: 'goose', table: 'goose_db_version', columns: ['version_id', 'is_applied', 'tstamp'], fixed: { tstamp: EPOCH } },
  { tool: 'Doctrine', table: 'doctrine_migration_versions', columns: ['version', 'executed_at'], fixed: { executed_at: EPOCH, execution_time: '0' } },
  { tool: 'Laravel', table: 'migrations', columns: ['id', 'migration', 'batch'], only: ['id', 'migration', 'batch'], fixed: { batch: '1' } },
  { tool: 'TypeORM', table: 'migrations', columns: ['id', 'timestamp', 'name'], only: ['id', 'timestamp', 'name'], fixed: {} },
  { tool: 'Phinx', table: 'phinxlog', columns: ['version', 'migration_name', 'start_time', 'end_time'], fixed: { start_time: EPOCH, end_time: EPOCH } },
  { tool: 'Prisma', table: '_prisma_migrations', columns: ['id', 'migration_name', 'checksum', 'started_at', 'finished_at'], fixed: { started_at: EPOCH, finished_at: EPOCH, rolled_back_at: EPOCH } },
];

/** Ids that only a run made: renumbered by natural key (Prisma writes a random UUID per applied migration). */
export const BOOKKEEPING_RENUMBER_RULES: readonly RenumberRule[] = [{ table: '_prisma_migrations', id: 'id', naturalKey: ['migration_name'] }];

/**
 * The bookkeeping tables among a database's base tables (`columnsByTable`: table -> its column names), each
 * with its fixed columns as `table.column` keys of the dumper's volatile columns (in the column's spelling).
 */
export function bookkeepingTablesIn(columnsByTable: ReadonlyMap<string, readonly string[]>): Array<{ table: string; tool: string; volatile: Record<string, string | null> }> {
  const found: Array<{ table: string; tool: string; volatile: Record<string, string | null> }> = [];
  for (const preset of BOOKKEEPING_TABLES) {
    const columns = columnsByTable.get(preset.table);
    if (!columns) continue;
    const byLowerName = new Map(columns.map((column) => [column.toLowerCase(), column]));
    if (!preset.columns.every((column) => byLowerName.has(column.toLowerCase()))) continue;
    if (preset.only && !columns.every((column) => preset.only!.includes(column.toLowerCase()))) continue;
    const volatile: Record<string, string | null> = {};
    for (const [column, value] of Object.entries(preset.fixed)) {
      const actual = byLowerName.get(column.toLowerCase());
      if (actual !== undefined) volatile[`${preset.table}.${actual}`] = value;
    }
    found.push({ table: preset.table, tool: preset.tool, volatile });
  }
  return found;
}
