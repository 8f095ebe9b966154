import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { renderHeader, type DatabaseObjects } from '../src/internal/ddl-reader.js';
import { RefusedStatementError, dumpMysql, loadMysql } from '../src/index.js';
import { TestDatabases, mysqlUrl, readText, tempDir } from './helpers/test-databases.js';

const HEADER = renderHeader({ charset: 'utf8mb4', collation: 'utf8mb4_general_ci' } as DatabaseObjects);
const LEGIT_TABLE = 'CREATE TABLE `legit` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\nINSERT INTO `legit` (`id`) VALUES\n(1);\n';
const ATTACKER = "'md_attacker'@'%'";

/** What a dump set written by someone else could hold after a legit table; each would touch `victim` if run. */
const attacks = (victim: string): [string, string][] => [
  ['DROP DATABASE', `DROP DATABASE \`${victim}\`;`],
  ['an executable comment', `/*!DROP DATABASE \`${victim}\`*/;`],
  ['a versioned executable comment', `/*!50000 DROP TABLE \`${victim}\`.\`t\` */;`],
  ["MariaDB's executable comment", `/*M!100000 DROP TABLE \`${victim}\`.\`t\` */;`],
  ['a comment between keywords', `DROP /**/ DATABASE \`${victim}\`;`],
  ['USE in an executable comment, then an unqualified DROP', `/*! USE \`${victim}\` */;\nDROP TABLE \`t\`;`],
  ['PREPARE ... EXECUTE', `PREPARE s FROM 'DROP TABLE \`${victim}\`.\`t\`';\nEXECUTE s;`],
  ['a database-qualified DROP TABLE', `DROP TABLE \`${victim}\`.\`t\`;`],
  ['a database-qualified INSERT', `INSERT INTO \`${victim}\`.\`t\` (\`id\`, \`secret\`) VALUES\n(2,'planted');`],
  ['a database-qualified CREATE TABLE', `CREATE TABLE \`${victim}\`.\`planted\` (\n  \`id\` int\n) ENGINE=InnoDB;`],
  ['CREATE USER and GRANT', `CREATE USER ${ATTACKER} IDENTIFIED BY 'attacker-pw';\nGRANT ALL ON *.* TO ${ATTACKER};`],
  ['a second statement after a stored program', `DELIMITER $$\nCREATE PROCEDURE \`p\`() SELECT 1; DROP TABLE \`${victim}\`.\`t\`$$\nDELIMITER ;`],
  [
    'a statement between two compound bodies',
    `DELIMITER $$\nCREATE PROCEDURE \`p\`() BEGIN SELECT 1; END; DROP TABLE \`${victim}\`.\`t\`; CREATE PROCEDURE \`q\`() BEGIN SELECT 2; END$$\nDELIMITER ;`,
  ],
  ['a second statement after a view', `DELIMITER $$\nCREATE VIEW \`v\` AS select 1 AS \`x\`; DROP TABLE \`${victim}\`.\`t\`$$\nDELIMITER ;`],
];

describeWithServices(['mysql'], 'mysql load: a dump set with a statement dumpMysql never writes loads nothing', () => {
  const dbs = new TestDatabases();
  let victim: string;

  const admin = () => dbs.admin();
  const schemaExists = async (name: string) => {
    const [rows] = await (await admin()).query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
    return (rows as unknown[]).length > 0;
  };
  /** The victim database exactly as created: one table, one row; and no account was added. */
  const expectUntouched = async () => {
    const conn = await admin();
    const [tables] = await conn.query('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1', [victim]);
    expect(tables).toEqual([{ name: 't' }]);
    const [rows] = await conn.query(`SELECT id, secret FROM \`${victim}\`.t`);
    expect(rows).toEqual([{ id: 1, secret: 'keep' }]);
    const [users] = await conn.query("SELECT 1 FROM mysql.user WHERE User = 'md_attacker'");
    expect(users).toEqual([]);
  };
  const dumpSet = async (files: Record<string, string>) => {
    const dir = await tempDir('allowlist');
    await mkdir(join(dir, 'mysql'));
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, 'mysql', name), text);
    return dir;
  };

  beforeAll(() => {
    victim = dbs.name('victim');
  });
  beforeEach(async () => {
    const conn = await admin();
    await conn.query(`DROP DATABASE IF EXISTS \`${victim}\``);
    await conn.query(`CREATE DATABASE \`${victim}\``);
    await conn.query(`CREATE TABLE \`${victim}\`.t (id INT PRIMARY KEY, secret VARCHAR(20)); INSERT INTO \`${victim}\`.t VALUES (1, 'keep')`);
    await conn.query(`DROP USER IF EXISTS ${ATTACKER}`);
  });
  afterAll(async () => {
    await (await admin()).query(`DROP USER IF EXISTS ${ATTACKER}`);
    await dbs.dropAll();
  });

  it.each(attacks('md_victim_placeholder').map(([what], i) => [what, i] as const))('%s: refused, the target absent, the victim untouched', async (_what, i) => {
    const [, attack] = attacks(victim)[i]!;
    const target = dbs.name(`refused${i}`);
    const dir = await dumpSet({ 'shop.sql': `${HEADER}${LEGIT_TABLE}\n${attack}\n` });
    const error = await loadMysql({ url: mysqlUrl(), dir, databaseRename: target }).then(
      () => new Error('the load succeeded'),
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(RefusedStatementError);
    expect((error as RefusedStatementError).line).toBeGreaterThan(HEADER.split('\n').length);
    expect((error as Error).message).toMatch(/shop\.sql line \d+: refused `.+`: it contains .*not written by `devstack-dumps dump` or refresh-dumps/);
    expect(await schemaExists(target)).toBe(false);
    await expectUntouched();
  });

  it('with replace, a refused dump leaves the existing target as it was (nothing dropped)', async () => {
    const target = await dbs.create('refused_replace');
    await dbs.run(target, 'CREATE TABLE keep_me (id INT); INSERT INTO keep_me VALUES (7);');
    const dir = await dumpSet({ 'shop.sql': `${HEADER}${LEGIT_TABLE}\nDROP TABLE \`${victim}\`.\`t\`;\n` });
    await expect(loadMysql({ url: mysqlUrl(), dir, databaseRename: target, replace: true })).rejects.toThrow(RefusedStatementError);
    const [rows] = await (await admin()).query(`SELECT id FROM \`${target}\`.keep_me`);
    expect(rows).toEqual([{ id: 7 }]);
    await expectUntouched();
  });

  it('one refused file of a set loads none of the others', async () => {
    const first = dbs.name('refused_first');
    const second = dbs.name('refused_second');
    const dir = await dumpSet({ 'a.sql': `${HEADER}${LEGIT_TABLE}`, 'b.sql': `${HEADER}${LEGIT_TABLE}\nDROP TABLE \`${victim}\`.\`t\`;\n` });
    const line = `${HEADER}${LEGIT_TABLE}\n`.split('\n').length;
    await expect(loadMysql({ url: mysqlUrl(), dir, databaseRename: { a: first, b: second } })).rejects.toThrow(new RegExp(`b\\.sql line ${line}: refused \`DROP TABLE`));
    expect(await schemaExists(first)).toBe(false);
    expect(await schemaExists(second)).toBe(false);
    await expectUntouched();
  });

  it('stored programs with every kind of block, dumped from the server, load and dump again to the same bytes', async () => {
    const source = await dbs.create('programs');
    await dbs.run(
      source,
      `CREATE TABLE t (id INT PRIMARY KEY, \`begin\` INT, \`end\` INT, note VARCHAR(40));
DELIMITER $$
CREATE PROCEDURE every_block(IN n INT)
    MODIFIES SQL DATA
    COMMENT 'blocks; all of them'
main: BEGIN
  DECLARE done INT DEFAULT 0; -- a comment; with semicolons
  DECLARE v INT;
  DECLARE c CURSOR FOR SELECT t.end FROM t WHERE t.begin > 0;
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = 1;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION, SQLSTATE VALUE '23000' BEGIN ROLLBACK; RESIGNAL; END;
  /* block; comment */ SET v = 0;
  IF n > 0 THEN SET v = CASE WHEN n > 10 THEN 10 ELSE n END; ELSEIF n < 0 THEN SET v = -1; ELSE BEGIN END; END IF;
  CASE n WHEN 1 THEN SELECT IF(n = 1, 1, 2); WHEN 2 THEN SELECT REPEAT('x', 2); ELSE DO 1; END CASE;
  lp: LOOP SET n = n - 1; IF n <= 0 THEN LEAVE lp; END IF; END LOOP lp;
  WHILE n < 3 DO SET n = n + 1; END WHILE;
  REPEAT SET n = n - 1; UNTIL n <= 0 OR (CASE WHEN n = 1 THEN 1 END) END REPEAT;
  OPEN c; FETCH c INTO v; CLOSE c;
  INSERT INTO t (id, note) VALUES (n, 'END; DROP DATABASE x');
END main$$
CREATE FUNCTION label_of(x INT) RETURNS VARCHAR(20) CHARSET utf8mb4 DETERMINISTIC
BEGIN
  RETURN CASE x WHEN 1 THEN 'one;' ELSE 'many' END;
END$$
CREATE TRIGGER t_bu BEFORE UPDATE ON t FOR EACH ROW BEGIN
  IF NEW.end < NEW.begin THEN SET NEW.end = NEW.begin; END IF;
END$$
CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE COMMENT 'x;' DO BEGIN DELETE FROM t WHERE id < 0; DELETE FROM t WHERE id > 1000; END$$
DELIMITER ;
SET SESSION sql_mode = 'ANSI_QUOTES';
CREATE PROCEDURE ansi_names() SELECT "note" FROM "t";
SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES';
CREATE FUNCTION win_path() RETURNS VARCHAR(20) DETERMINISTIC RETURN 'C:\\';
SET SESSION sql_mode = DEFAULT;
SET NAMES latin1;
CREATE VIEW v_latin AS SELECT 'abc' AS label, id FROM t;
SET NAMES utf8mb4;`,
    );
    const dir = await tempDir('programs');
    await dumpMysql({ url: mysqlUrl(), databases: [source], outDir: dir });
    const sql = await readText(join(dir, 'mysql', `${source}.sql`));
    const copy = dbs.name('programs_copy');
    await loadMysql({ url: mysqlUrl(), dir, databaseRename: copy });
    const again = await tempDir('programs-again');
    await dumpMysql({ url: mysqlUrl(), databases: [copy], outDir: again });
    expect(await readText(join(again, 'mysql', `${copy}.sql`))).toBe(sql);
    expect(sql).toContain("CREATE PROCEDURE `every_block`");
    expect(sql).toContain('character_set_client = latin1');
    expect(sql).toContain("SQL_MODE = 'NO_BACKSLASH_ESCAPES'");
  });

  it('the same set without the foreign statement loads', async () => {
    const target = dbs.name('accepted');
    const dir = await dumpSet({ 'shop.sql': `${HEADER}${LEGIT_TABLE}` });
    await loadMysql({ url: mysqlUrl(), dir, databaseRename: target });
    const [rows] = await (await admin()).query(`SELECT id FROM \`${target}\`.legit`);
    expect(rows).toEqual([{ id: 1 }]);
  });
});
