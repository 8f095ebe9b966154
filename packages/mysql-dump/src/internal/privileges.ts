import type { Pool } from 'mysql2/promise';
import { MissingPrivilegeError } from './errors.js';

/**
 * Privileges a complete dump needs. Without TRIGGER or EVENT the server simply hides those objects from
 * information_schema, so a dump would silently lack them; we check up front instead.
 */
export const DUMP_PRIVILEGES = ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT'] as const;

/** Of `wanted`, the privileges the user lacks on `database` (global or database-level grants). */
export function missingPrivileges(held: Iterable<string>, wanted: readonly string[]): string[] {
  const have = new Set([...held].map((p) => p.toUpperCase()));
  if (have.has('ALL PRIVILEGES') || have.has('ALL')) return [];
  return wanted.filter((p) => !have.has(p));
}

/**
 * Checks the dump privileges via information_schema, which lists the current user's own grants. Grants
 * that arrive through an active role are not listed there, so with a role active the check is skipped and
 * the server's own errors (mapped to MissingPrivilegeError) remain the safety net.
 */
export async function checkDumpPrivileges(pool: Pool, database: string, user: string, address: string): Promise<void> {
  const [roleRows] = await pool.query('SELECT CURRENT_ROLE() AS r').catch(() => [[{ r: null }]] as const);
  const role = (roleRows as { r: string | null }[])[0]?.r;
  if (role && role !== 'NONE') return;
  const grantee = "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";
  const [rows] = await pool.query(
    `SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ${grantee}
     UNION SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ${grantee} AND ? LIKE TABLE_SCHEMA`,
    [database],
  );
  const missing = missingPrivileges((rows as { p: string }[]).map((r) => r.p), DUMP_PRIVILEGES);
  if (missing.length > 0) {
    throw new MissingPrivilegeError(
      `user '${user}' on ${address} lacks ${missing.join(', ')} on database \`${database}\`, needed for a complete dump; grant ${missing.join(', ')} ON \`${database}\`.* or use another user`,
    );
  }
}
