import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { parseServerVersion, type EngineInfo } from '../src/internal/connect.js';
import { routineVisibilityGrant } from '../src/internal/privileges.js';
import { MissingPrivilegeError, dumpMysql } from '../src/index.js';
import { TestDatabases, mysqlUrl, tempDir } from './helpers/test-databases.js';

const ROUTINES = `
CREATE TABLE item (id INT PRIMARY KEY);
CREATE PROCEDURE p_hello() SELECT 1;
CREATE FUNCTION f_double(x INT) RETURNS INT DETERMINISTIC NO SQL RETURN x * 2;
`;

/**
 * information_schema.ROUTINES lists only the routines a user may see, without an error. A dump user that
 * may not see them all is refused up front, naming the grant; with it, the dump has every routine.
 * Each test user is this run's own (unique name), dropped at the end.
 */
describeWithServices(['mysql'], 'dumping routines needs a user that may see them all', () => {
  const dbs = new TestDatabases();
  const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 7)}`;
  const users: string[] = [];
  let engine: EngineInfo;
  let db: string;

  /** Creates a user of this run with `grants` (each `PRIVILEGES ON target`) and returns its URL. */
  const createUser = async (label: string, grants: string[]): Promise<{ name: string; url: string }> => {
    const name = `md_rtn_${label}_${suffix}`;
    users.push(name);
    const admin = await dbs.admin();
    await admin.query(`CREATE USER '${name}'@'%' IDENTIFIED BY 'rtnpw'`);
    for (const grant of grants) await admin.query(`GRANT ${grant} TO '${name}'@'%'`);
    const url = new URL(mysqlUrl());
    url.username = name;
    url.password = 'rtnpw';
    return { name, url: url.toString() };
  };
  /** Dumps `database` as the user at `url`; the result with the dump file's text. */
  const dumpAs = async (url: string, database: string) => {
    const outDir = await tempDir('rtn');
    const result = await dumpMysql({ url, databases: [database], outDir });
    return { ...result, sql: await readFile(join(outDir, 'mysql', `${database}.sql`), 'utf8') };
  };

  beforeAll(async () => {
    const [rows] = await (await dbs.admin()).query('SELECT VERSION() AS v');
    engine = parseServerVersion(String((rows as { v: string }[])[0]!.v));
    db = await dbs.create('rtn');
    await dbs.run(db, ROUTINES);
  });
  afterAll(async () => {
    const admin = await dbs.admin();
    for (const name of users) await admin.query(`DROP USER IF EXISTS '${name}'@'%'`);
    await dbs.dropAll();
  });

  it('SELECT, SHOW VIEW, TRIGGER, EVENT alone: refused, naming the grant; after the grant every routine is dumped', async () => {
    const user = await createUser('dump', [`SELECT, SHOW VIEW, TRIGGER, EVENT ON \`${db}\`.*`]);
    const { privilege, grant } = routineVisibilityGrant(engine, db);
    const error = await dumpAs(user.url, db).then(() => new Error('the dump succeeded'), (caught: unknown) => caught as Error);
    expect(error).toBeInstanceOf(MissingPrivilegeError);
    expect(error.message).toBe(
      `user '${user.name}' on ${new URL(mysqlUrl()).host} lacks ${privilege} (without it information_schema lists only the user's own ` +
        `routines of \`${db}\`), needed for a complete dump; grant ${grant} or use another user`,
    );

    await (await dbs.admin()).query(`GRANT ${grant} TO '${user.name}'@'%'`);
    const dumped = await dumpAs(user.url, db);
    expect(dumped.schemas[db]!.routines).toEqual(['FUNCTION f_double', 'PROCEDURE p_hello']);
    expect(dumped.sql).toMatch(/PROCEDURE `p_hello`/);
    expect(dumped.sql).toMatch(/RETURN x \* 2/);
  });

  it('the definer of every routine, with ALL on its database, is not refused', async () => {
    const own = await dbs.create('rtn_own');
    const user = await createUser('owner', [`ALL ON \`${own}\`.*`]);
    await dbs.run(own, `CREATE DEFINER='${user.name}'@'%' PROCEDURE p_own() SELECT 2;`);
    const dumped = await dumpAs(user.url, own);
    expect(dumped.schemas[own]!.routines).toEqual(['PROCEDURE p_own']);
    expect(dumped.sql).toMatch(/PROCEDURE `p_own`/);
  });

  it("EXECUTE on the database lists the routines but not others' bodies: the dump still fails, naming the privilege", async () => {
    const user = await createUser('exec', [`SELECT, SHOW VIEW, TRIGGER, EVENT, EXECUTE ON \`${db}\`.*`]);
    const error = await dumpAs(user.url, db).then(() => new Error('the dump succeeded'), (caught: unknown) => caught as Error);
    expect(error).toBeInstanceOf(MissingPrivilegeError);
    expect(error.message).toMatch(/cannot read the body of (function|procedure) `(f_double|p_hello)`/);
  });
});
