import type { Pool } from 'mysql2/promise';
import { parseServerVersion, type EngineInfo } from './connect.js';
import { MissingPrivilegeError } from './errors.js';

/**
 * Privileges on the database a complete dump needs. Without TRIGGER or EVENT the server simply hides those
 * objects from information_schema, so a dump would silently lack them; we check up front instead. Routines
 * are hidden the same way, but what shows them is not a database privilege: see `seesEveryRoutine`.
 */
export const DUMP_PRIVILEGES = ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT'] as const;

/** Where a privilege of the current user applies, as `checkDumpPrivileges` reads it. */
export type PrivilegeScope = 'global' | 'database' | 'mysql-database' | 'mysql.proc';

/** One privilege of the current user: global, on the dumped database, on the `mysql` database or on mysql.proc. */
export interface PrivilegeRow {
  scope: PrivilegeScope;
  privilege: string;
}

/** Of `wanted`, the privileges the user lacks on `database` (global or database-level grants). */
export function missingPrivileges(held: Iterable<string>, wanted: readonly string[]): string[] {
  const have = new Set([...held].map((p) => p.toUpperCase()));
  if (have.has('ALL PRIVILEGES') || have.has('ALL')) return [];
  return wanted.filter((p) => !have.has(p));
}

const atLeast = (version: string, [major, minor, patch]: [number, number, number]) => {
  const [a = 0, b = 0, c = 0] = version.split('.').map(Number);
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
};

/** MariaDB and MySQL before 8.0 keep routines in mysql.proc; SELECT on it shows them all. */
const hasProcTable = (engine: EngineInfo) => engine.flavor === 'mariadb' || !atLeast(engine.version, [8, 0, 0]);

/**
 * Whether information_schema.ROUTINES lists every routine of the database to this user. Otherwise it lists
 * only the routines the user defined or holds a routine-level grant on, without an error. Every routine is
 * listed with global SELECT (both flavours), SHOW_ROUTINE (MySQL 8.0.20+), SELECT on mysql.proc (MariaDB,
 * MySQL 5.7), SHOW CREATE ROUTINE (MariaDB 11.3+), or EXECUTE, ALTER ROUTINE or CREATE ROUTINE on the
 * database or globally. The last three show names but not bodies; a hidden body stops the dump loudly
 * when its DDL is read, so names are all this check needs.
 */
export function seesEveryRoutine(rows: readonly PrivilegeRow[], engine: EngineInfo): boolean {
  const held = (...scopes: PrivilegeScope[]) => new Set(rows.filter((r) => scopes.includes(r.scope)).map((r) => r.privilege.toUpperCase()));
  const broad = held('global', 'database');
  const anyOf = (set: Set<string>, names: string[]) => names.some((name) => set.has(name));
  if (anyOf(broad, ['ALL PRIVILEGES', 'ALL', 'EXECUTE', 'ALTER ROUTINE', 'CREATE ROUTINE', 'SHOW CREATE ROUTINE'])) return true;
  if (anyOf(held('global'), ['SELECT', 'SHOW_ROUTINE'])) return true;
  return hasProcTable(engine) && held('mysql-database', 'mysql.proc').has('SELECT');
}

/** The privilege that shows every routine of `database` on this server, and how to grant it. */
export function routineVisibilityGrant(engine: EngineInfo, database: string): { privilege: string; grant: string } {
  if (engine.flavor === 'mariadb' && atLeast(engine.version, [11, 3, 0])) {
    return { privilege: 'SHOW CREATE ROUTINE', grant: `SHOW CREATE ROUTINE ON \`${database}\`.*` };
  }
  if (hasProcTable(engine)) return { privilege: 'SELECT on mysql.proc', grant: 'SELECT ON mysql.proc' };
  if (atLeast(engine.version, [8, 0, 20])) return { privilege: 'SHOW_ROUTINE', grant: 'SHOW_ROUTINE ON *.*' };
  return { privilege: 'global SELECT', grant: 'SELECT ON *.*' };
}

/** Why the user's dump of `database` would be incomplete, naming what to grant; null when it would be complete. */
export function describeMissingDumpPrivileges(
  rows: readonly PrivilegeRow[],
  engine: EngineInfo,
  target: { database: string; user: string; address: string },
): string | null {
  const { database, user, address } = target;
  const parts: { lacks: string; grant: string }[] = [];
  const missing = missingPrivileges(rows.filter((r) => r.scope === 'global' || r.scope === 'database').map((r) => r.privilege), DUMP_PRIVILEGES);
  if (missing.length > 0) parts.push({ lacks: `${missing.join(', ')} on database \`${database}\``, grant: `${missing.join(', ')} ON \`${database}\`.*` });
  if (!seesEveryRoutine(rows, engine)) {
    const { privilege, grant } = routineVisibilityGrant(engine, database);
    parts.push({ lacks: `${privilege} (without it information_schema lists only the user's own routines of \`${database}\`)`, grant });
  }
  if (parts.length === 0) return null;
  return (
    `user '${user}' on ${address} lacks ${parts.map((p) => p.lacks).join(' and ')}, needed for a complete dump; ` +
    `grant ${parts.map((p) => p.grant).join(' and ')} or use another user`
  );
}

/**
 * Checks the dump privileges via information_schema, which lists the current user's own grants. Grants
 * that arrive through an active role are not listed there, so with a role active the check is skipped and
 * the server's own errors (mapped to MissingPrivilegeError) remain the safety net. `engine` saves a query.
 */
export async function checkDumpPrivileges(pool: Pool, database: string, user: string, address: string, engine?: EngineInfo): Promise<void> {
  const [[roleRows], server] = await Promise.all([
    pool.query('SELECT CURRENT_ROLE() AS r').catch(() => [[{ r: null }]] as const),
    engine ?? pool.query('SELECT VERSION() AS v').then(([rows]) => parseServerVersion(String((rows as { v: string }[])[0]?.v ?? ''))),
  ]);
  const role = (roleRows as { r: string | null }[])[0]?.r;
  if (role && role !== 'NONE') return;
  const grantee = "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";
  const [rows] = await pool.query(
    `SELECT 'global' AS scope, PRIVILEGE_TYPE AS privilege FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ${grantee}
     UNION ALL SELECT 'database', PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ${grantee} AND ? LIKE TABLE_SCHEMA
     UNION ALL SELECT 'mysql-database', PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ${grantee} AND 'mysql' LIKE TABLE_SCHEMA
     UNION ALL SELECT 'mysql.proc', PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES
                WHERE GRANTEE = ${grantee} AND TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'proc'`,
    [database],
  );
  const message = describeMissingDumpPrivileges(rows as PrivilegeRow[], server, { database, user, address });
  if (message) throw new MissingPrivilegeError(message);
}
