import { SystemDatabaseError, UnsafeDatabaseNameError } from './errors.js';

// The server's own schemas: accounts and grants (mysql), and views over server state. Compared
// lower-cased because on case-insensitive file systems (and lower_case_table_names=1/2) `MySQL` is `mysql`.
const SYSTEM_DATABASES = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);

/** Whether `name` is one of the server's own databases (mysql, information_schema, performance_schema, sys), in any case. */
export function isMysqlSystemDatabase(name: string): boolean {
  return SYSTEM_DATABASES.has(name.toLowerCase());
}

/** Throws SystemDatabaseError for the first system database among the write targets (or databases to dump). */
export function refuseSystemDatabases(targets: Iterable<string>, operation: 'load' | 'dump' = 'load'): void {
  for (const name of targets) if (isMysqlSystemDatabase(name)) throw new SystemDatabaseError(name, operation);
}

/** Bytes a file name may have (ext4, APFS, NTFS) minus the longest suffix a dump writes (`.schema.json.partial`). */
const MAX_NAME_BYTES = 255 - '.schema.json.partial'.length;

/**
 * Throws UnsafeDatabaseNameError for the first name that cannot be a dump file's name as it is (`<name>.sql`
 * in the output folder): a dump never escapes or encodes names, so the loader's `basename(file, '.sql')` gives
 * the database back exactly.
 */
export function refuseUnsafeFileNames(databases: Iterable<string>): void {
  for (const name of databases) {
    const problem = /[/\\]/.test(name)
      ? 'contains a path separator'
      : name === '' || name.startsWith('.')
        ? 'is empty or starts with a dot'
        : /[\x00-\x1f\x7f]/.test(name)
          ? 'contains a control character'
          : Buffer.byteLength(name) > MAX_NAME_BYTES
            ? `is longer than ${MAX_NAME_BYTES} bytes`
            : undefined;
    if (problem) throw new UnsafeDatabaseNameError(name, problem);
  }
}
