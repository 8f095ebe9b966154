import { describe, expect, test } from 'vitest';
import { SystemDatabaseError, isMysqlSystemDatabase, loadMysql } from '../src/index.js';

// Nothing listens on port 1: were a target checked after connecting, the error would be "unreachable".
const UNREACHABLE = 'mysql://root:Sup3rSecret@127.0.0.1:1';

describe('isMysqlSystemDatabase', () => {
  test.each([
    ['mysql', true],
    ['MySQL', true],
    ['MYSQL', true],
    ['information_schema', true],
    ['INFORMATION_SCHEMA', true],
    ['performance_schema', true],
    ['Performance_Schema', true],
    ['sys', true],
    ['SYS', true],
    ['shop', false],
    ['mysql_app', false],
    ['my_sys', false],
    ['sys2', false],
    ['', false],
  ])('%s -> %s', (name, expected) => {
    expect(isMysqlSystemDatabase(name)).toBe(expected);
  });
});

describe('loadMysql refuses a system database target before connecting', () => {
  test.each([
    ['renamed to mysql', { files: ['/nonexistent/shop.sql'], databaseRename: 'mysql' }, 'mysql'],
    ['renamed to MySQL', { files: ['/nonexistent/shop.sql'], databaseRename: 'MySQL', replace: true }, 'MySQL'],
    ['mapped to sys', { files: ['/nonexistent/shop.sql', '/nonexistent/auth.sql'], databaseRename: { auth: 'sys' } }, 'sys'],
    ['a dump of mysql under its own name', { files: ['/nonexistent/mysql.sql'], replace: true }, 'mysql'],
    ['performance_schema', { files: ['/nonexistent/shop.sql'], databaseRename: { shop: 'PERFORMANCE_SCHEMA' } }, 'PERFORMANCE_SCHEMA'],
  ])('%s', async (_case, options, database) => {
    const error = await loadMysql({ url: UNREACHABLE, ...options }).then(
      () => new Error('the load succeeded'),
      (caught: unknown) => caught as Error,
    );
    expect(error).toBeInstanceOf(SystemDatabaseError);
    expect(error).toMatchObject({ code: 'system-database', database, fatal: true });
    expect(error.message).toBe(
      `\`${database}\` is a MySQL system database; refusing to drop or load into it — give the service's own database name`,
    );
  });
});
