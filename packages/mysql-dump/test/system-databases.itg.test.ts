import { afterAll, beforeAll, expect, test } from 'vitest';
import { countingProxy, type CountingProxy } from '../../../test/support/counting-proxy.js';
import { describeWithServices } from '../../../test/support/services.js';
import { SystemDatabaseError, dumpMysql, loadMysql } from '../src/index.js';
import { TestDatabases, mysqlUrl, tempDir } from './helpers/test-databases.js';

const GUARD_USER = 'md_sysguard';


describeWithServices(['mysql'], 'loads into a system database are refused before connecting', () => {
  const dbs = new TestDatabases();
  let dumpDir: string;
  let copy: string;
  let guardUrl: string;
  let proxy: CountingProxy;

  /** What a wiped or altered `mysql` schema would change (not the number of users: other test files create theirs meanwhile). */
  const snapshot = async () => {
    const [rows] = await (await dbs.admin()).query(
      `SELECT (SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mysql') AS tables,
              (SELECT COUNT(*) FROM mysql.user WHERE User IN ('root', '${GUARD_USER}')) AS users`,
    );
    return (rows as { tables: string; users: number }[])[0];
  };

  beforeAll(async () => {
    const source = await dbs.create('sysguard');
    await dbs.run(source, 'CREATE TABLE item (id INT PRIMARY KEY);');
    dumpDir = await tempDir('sysguard');
    await dumpMysql({ url: mysqlUrl(), databases: [source], outDir: dumpDir });
    // The loads below run as a user with no privilege on `mysql`: should the guard ever regress, the
    // server refuses the DROP instead of the test wiping the shared server's accounts.
    const admin = await dbs.admin();
    await admin.query(`DROP USER IF EXISTS '${GUARD_USER}'@'%'`);
    await admin.query(`CREATE USER '${GUARD_USER}'@'%' IDENTIFIED BY 'guardpw'`);
    copy = dbs.name('sysguard_copy');
    await admin.query(`GRANT ALL ON \`${copy}\`.* TO '${GUARD_USER}'@'%'`);
    proxy = await countingProxy(mysqlUrl(), 3306);
    guardUrl = `mysql://${GUARD_USER}:guardpw@${new URL(proxy.url).host}`;
  });
  afterAll(async () => {
    await proxy?.close();
    await (await dbs.admin()).query(`DROP USER IF EXISTS '${GUARD_USER}'@'%'`);
    await dbs.dropAll();
  });

  test.each([['mysql'], ['MySQL'], ['sys'], ['performance_schema'], ['INFORMATION_SCHEMA']])(
    'replace into %s: refused with no connection made, the mysql schema untouched',
    async (target) => {
      const before = await snapshot();
      const error = await loadMysql({ url: guardUrl, dir: dumpDir, databaseRename: target, replace: true }).then(
        () => new Error('the load succeeded'),
        (caught: unknown) => caught as Error,
      );
      expect(error).toBeInstanceOf(SystemDatabaseError);
      expect(error).toMatchObject({ code: 'system-database', database: target });
      expect(proxy.connections()).toBe(0);
      expect(await snapshot()).toEqual(before);
    },
  );

  // The control: the same user through the same proxy loads an ordinary target (so 0 above means "never connected").
  test('an ordinary target loads through the proxy', async () => {
    await loadMysql({ url: guardUrl, dir: dumpDir, databaseRename: copy });
    expect(proxy.connections()).toBeGreaterThan(0);
  });
});
