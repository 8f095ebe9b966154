import { describe, expect, it } from 'vitest';
import type { EngineInfo } from '../src/internal/connect.js';
import { describeMissingDumpPrivileges, routineVisibilityGrant, seesEveryRoutine, type PrivilegeScope } from '../src/internal/privileges.js';
import { MARIADB_GRANTS, MYSQL8_GRANTS, asQueried, type RecordedGrants } from './fixtures/recorded-grants.js';

const MYSQL_80: EngineInfo = { flavor: 'mysql', version: '8.0.36' };
const MYSQL_84: EngineInfo = { flavor: 'mysql', version: '8.4.0' };
const MARIADB: EngineInfo = { flavor: 'mariadb', version: '10.11.19' };

const check = (grants: RecordedGrants, engine: EngineInfo, database: string) =>
  describeMissingDumpPrivileges(asQueried(grants, database), engine, { database, user: 'u', address: 'db:3306' });

describe('the dump privilege check, on recorded MySQL 8 grants', () => {
  it.each([MYSQL_80, MYSQL_84].map((e) => [e.version, e] as const))('%s: root and a backup user with SHOW_ROUTINE may dump', (_v, engine) => {
    expect(check(MYSQL8_GRANTS.root, engine, 'payflow')).toBeNull();
    expect(check(MYSQL8_GRANTS.backup, engine, 'payflow')).toBeNull();
  });

  it.each([MYSQL_80, MYSQL_84].map((e) => [e.version, e] as const))('%s: without SHOW_ROUTINE the dump is refused, naming the grant', (_v, engine) => {
    expect(check(MYSQL8_GRANTS.backupWithoutShowRoutine, engine, 'payflow')).toBe(
      "user 'u' on db:3306 lacks SHOW_ROUTINE (without it information_schema lists only the user's own routines of `payflow`), " +
        'needed for a complete dump; grant SHOW_ROUTINE ON *.* or use another user',
    );
  });

  it('EXECUTE on the database lists every routine: only the missing database privileges are named', () => {
    expect(check(MYSQL8_GRANTS.payflowOwner, MYSQL_80, 'payflow')).toBe(
      "user 'u' on db:3306 lacks SHOW VIEW, EVENT on database `payflow`, needed for a complete dump; grant SHOW VIEW, EVENT ON `payflow`.* or use another user",
    );
  });

  it('both kinds missing are named together', () => {
    expect(check(MYSQL8_GRANTS.exporter, MYSQL_80, 'payflow')).toBe(
      "user 'u' on db:3306 lacks SELECT, TRIGGER, EVENT on database `payflow` and SHOW_ROUTINE (without it information_schema lists " +
        "only the user's own routines of `payflow`), needed for a complete dump; grant SELECT, TRIGGER, EVENT ON `payflow`.* and " +
        'SHOW_ROUTINE ON *.* or use another user',
    );
    expect(check(MYSQL8_GRANTS.payflowReport, MYSQL_80, 'payflow')).toMatch(/lacks SELECT, SHOW VIEW, TRIGGER, EVENT on database `payflow` and SHOW_ROUTINE/);
  });

  it('SHOW_ROUTINE is global: the backup user may dump its other database too', () => {
    expect(check(MYSQL8_GRANTS.backup, MYSQL_80, 'ops')).toBeNull();
    expect(check(MYSQL8_GRANTS.backupWithoutShowRoutine, MYSQL_80, 'ops')).toMatch(/lacks SHOW_ROUTINE/);
  });
});

describe('the dump privilege check, on recorded MariaDB 10.11 grants', () => {
  it('SELECT, SHOW VIEW, TRIGGER, EVENT alone: refused, naming SELECT on mysql.proc', () => {
    expect(check(MARIADB_GRANTS.dumpGrants, MARIADB, 'shop')).toBe(
      "user 'u' on db:3306 lacks SELECT on mysql.proc (without it information_schema lists only the user's own routines of `shop`), " +
        'needed for a complete dump; grant SELECT ON mysql.proc or use another user',
    );
  });

  it.each([
    ['root', MARIADB_GRANTS.root],
    ['plus SELECT on mysql.proc', MARIADB_GRANTS.withProc],
    ['plus EXECUTE on the database (names listed; a hidden body fails when read)', MARIADB_GRANTS.withExecute],
  ] as const)('%s: may dump', (_name, grants) => expect(check(grants, MARIADB, 'shop')).toBeNull());
});

describe('seesEveryRoutine and routineVisibilityGrant per server', () => {
  const rows = (...pairs: [PrivilegeScope, string][]) => pairs.map(([scope, privilege]) => ({ scope, privilege }));

  it.each([
    ['global SELECT, MySQL 8.0', rows(['global', 'SELECT']), MYSQL_80, true],
    ['SELECT on the database only, MySQL 8.0', rows(['database', 'SELECT']), MYSQL_80, false],
    ['SELECT on mysql.*, MySQL 8.0 (no mysql.proc there)', rows(['mysql-database', 'SELECT']), MYSQL_80, false],
    ['SELECT on mysql.*, MariaDB', rows(['mysql-database', 'SELECT']), MARIADB, true],
    ['SELECT on mysql.proc, MySQL 5.7', rows(['mysql.proc', 'SELECT']), { flavor: 'mysql', version: '5.7.44' }, true],
    ['ALTER ROUTINE on the database', rows(['database', 'ALTER ROUTINE']), MYSQL_80, true],
    ['CREATE ROUTINE globally', rows(['global', 'CREATE ROUTINE']), MARIADB, true],
    ['SHOW CREATE ROUTINE on the database, MariaDB 11.3', rows(['database', 'SHOW CREATE ROUTINE']), { flavor: 'mariadb', version: '11.3.2' }, true],
    ['USAGE only', rows(['global', 'USAGE']), MARIADB, false],
  ] as const)('%s', (_name, held, engine, expected) => expect(seesEveryRoutine(held, engine)).toBe(expected));

  it.each([
    [{ flavor: 'mysql', version: '8.0.20' }, 'SHOW_ROUTINE ON *.*'],
    [{ flavor: 'mysql', version: '8.0.19' }, 'SELECT ON *.*'],
    [{ flavor: 'mysql', version: '5.7.44' }, 'SELECT ON mysql.proc'],
    [{ flavor: 'mariadb', version: '10.11.19' }, 'SELECT ON mysql.proc'],
    [{ flavor: 'mariadb', version: '11.3.2' }, 'SHOW CREATE ROUTINE ON `shop`.*'],
  ] as const)('%o: grant %s', (engine, grant) => expect(routineVisibilityGrant(engine, 'shop').grant).toBe(grant));
});
