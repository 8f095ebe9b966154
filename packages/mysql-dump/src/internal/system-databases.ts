import { SystemDatabaseError } from './errors.js';

// The server's own schemas: accounts and grants (mysql), and views over server state. Compared
// lower-cased because on case-insensitive file systems (and lower_case_table_names=1/2) `MySQL` is `mysql`.
const SYSTEM_DATABASES = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);

/** Whether `name` is one of the server's own databases (mysql, information_schema, performance_schema, sys), in any case. */
export function isMysqlSystemDatabase(name: string): boolean {
  return SYSTEM_DATABASES.has(name.toLowerCase());
}

/** Throws SystemDatabaseError for the first system database among the write targets. */
export function refuseSystemDatabases(targets: Iterable<string>): void {
  for (const name of targets) if (isMysqlSystemDatabase(name)) throw new SystemDatabaseError(name);
}
