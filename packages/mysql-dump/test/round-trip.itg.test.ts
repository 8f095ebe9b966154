import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { DumpFileError, TargetNotEmptyError, describeSchemaDiff, diffSchemas, dumpMysql, loadMysql, readSchema } from '../src/index.js';
import { TestDatabases, mysqlUrl, readText, stockClient, tempDir } from './helpers/test-databases.js';

const SCHEMA = `
CREATE TABLE app_widget (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL DEFAULT 'it''s',
  price DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  ratio DOUBLE NULL,
  payload BLOB NULL,
  flags BIT(3) NOT NULL DEFAULT b'101',
  doc LONGTEXT NULL,
  created DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  touched TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  name_upper VARCHAR(100) AS (UPPER(name)) VIRTUAL,
  latin VARCHAR(10) CHARACTER SET latin1 COLLATE latin1_bin NULL,
  UNIQUE KEY app_widget_name_uniq (name),
  KEY app_widget_doc_prefix (doc(20), price),
  FULLTEXT KEY app_widget_doc_ft (doc)
) ENGINE=InnoDB AUTO_INCREMENT=1000;
CREATE TABLE app_part (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  widget_id BIGINT NOT NULL,
  CONSTRAINT app_part_widget_fk FOREIGN KEY (widget_id) REFERENCES app_widget (id) ON DELETE CASCADE
);
CREATE TABLE app_lookup (code CHAR(2) NOT NULL PRIMARY KEY, label VARCHAR(50) NOT NULL);
CREATE TABLE app_nopk (a INT NOT NULL, b VARCHAR(5) NULL);
CREATE TABLE auth_user (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, username VARCHAR(150) NOT NULL, password VARCHAR(128) NOT NULL);
CREATE VIEW z_base_view AS SELECT id, name FROM app_widget;
CREATE VIEW a_top_view AS SELECT id FROM z_base_view WHERE id > 1;
CREATE FUNCTION app_double(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
DELIMITER $$
CREATE PROCEDURE app_touch(IN wid BIGINT)
BEGIN
  UPDATE app_widget SET name = CONCAT(name, ';') WHERE id = wid;
  SELECT 'done;;' AS status;
END$$
CREATE TRIGGER app_part_bi BEFORE INSERT ON app_part FOR EACH ROW
BEGIN
  IF NEW.widget_id < 0 THEN SET NEW.widget_id = 0; END IF;
END$$
DELIMITER ;
CREATE EVENT app_cleanup ON SCHEDULE EVERY 1 DAY DO DELETE FROM app_part WHERE id < 0;
INSERT INTO app_widget (name, price, ratio, payload, doc, latin) VALUES
  ('alpha', 1.50, 0.1, X'00FF10', 'line\\nbreak ''quoted'' \\\\ back', 'café'),
  ('beta ☃ 😀', 2.00, NULL, NULL, NULL, NULL);
INSERT INTO app_part (widget_id) VALUES (1000), (1001), (1000);
INSERT INTO app_lookup VALUES ('zz', 'last'), ('aa', 'first');
INSERT INTO app_nopk VALUES (2, 'b'), (1, NULL), (1, 'a');
INSERT INTO auth_user (username, password) VALUES ('admin', 'pbkdf2_sha256$secret-hash');
`;

const DATA_TABLES = ['app_widget', 'app_part', 'app_lookup', 'app_nopk'];

describeWithServices(['mysql'], 'mysql dump round trip (synthetic schema with every object kind)', () => {
  const dbs = new TestDatabases();
  let source: string;
  let firstSql: string;
  let firstDir: string;

  beforeAll(async () => {
    source = await dbs.create('rt_src');
    await dbs.run(source, SCHEMA);
    firstDir = await tempDir('rt1');
    await dumpMysql({ url: mysqlUrl(), databases: [source], dataTables: DATA_TABLES, outDir: firstDir });
    firstSql = await readText(join(firstDir, 'mysql', `${source}.sql`));
  });
  afterAll(() => dbs.dropAll());

  it('writes normalised DDL: no AUTO_INCREMENT counter, no DEFINER, no event STARTS date, no version comments', () => {
    expect(firstSql).not.toMatch(/AUTO_INCREMENT=\d/);
    expect(firstSql).not.toMatch(/DEFINER=/);
    expect(firstSql).not.toMatch(/STARTS '/);
    expect(firstSql).not.toMatch(/\/\*!\d/);
    expect(firstSql).toContain('SET FOREIGN_KEY_CHECKS = 0;');
    expect(firstSql).not.toContain(source);
  });

  it('orders views by dependency and writes only the listed data tables', () => {
    expect(firstSql.indexOf('-- View `z_base_view`')).toBeLessThan(firstSql.indexOf('-- View `a_top_view`'));
    expect(firstSql).not.toContain('INSERT INTO `auth_user`');
    expect(firstSql).not.toContain('secret-hash');
    expect(firstSql).toContain("('aa','first'),\n('zz','last')");
    expect(firstSql).toContain("(1,NULL),\n(1,'a'),\n(2,'b')");
  });

  it('dumps twice to identical bytes', async () => {
    const again = await tempDir('rt2');
    await dumpMysql({ url: mysqlUrl(), databases: [source], dataTables: DATA_TABLES, outDir: again });
    expect(await readText(join(again, 'mysql', `${source}.sql`))).toBe(firstSql);
    expect(await readText(join(again, 'mysql', `${source}.schema.json`))).toBe(await readText(join(firstDir, 'mysql', `${source}.schema.json`)));
  });

  it('a file too big to keep between check and load is streamed and checked again: the same bytes', async () => {
    const copy = dbs.name('rt_stream');
    const progress: number[] = [];
    await loadMysql({ url: mysqlUrl(), dir: firstDir, databaseRename: copy, keepCheckedChars: 0, onProgress: (p) => progress.push(p.bytesDone) });
    expect(progress.at(-1)).toBe(Buffer.byteLength(firstSql));
    const out = await tempDir('rt-stream');
    await dumpMysql({ url: mysqlUrl(), databases: [copy], dataTables: DATA_TABLES, outDir: out });
    expect(await readText(join(out, 'mysql', `${copy}.sql`))).toBe(firstSql);
  });

  it('loads into a fresh database and dumps it again to the same bytes and the same semantic schema', async () => {
    const copy = dbs.name('rt_copy');
    const progress: number[] = [];
    await loadMysql({ url: mysqlUrl(), dir: firstDir, databaseRename: copy, onProgress: (p) => progress.push(p.bytesDone) });
    expect(progress.at(-1)).toBe(Buffer.byteLength(firstSql));
    const out = await tempDir('rt3');
    await dumpMysql({ url: mysqlUrl(), databases: [copy], dataTables: DATA_TABLES, outDir: out });
    expect(await readText(join(out, 'mysql', `${copy}.sql`))).toBe(firstSql);
    const diff = diffSchemas(await readSchema(mysqlUrl(), source), await readSchema(mysqlUrl(), copy));
    expect(describeSchemaDiff(diff)).toEqual([]);
    const [rows] = await (await dbs.admin()).query(`SELECT HEX(payload) AS p, doc, latin, \`${copy}\`.app_double(21) AS d FROM \`${copy}\`.app_widget ORDER BY id`);
    expect(rows).toEqual([
      { p: '00FF10', doc: "line\nbreak 'quoted' \\ back", latin: 'café', d: 42 },
      { p: null, doc: null, latin: null, d: 42 },
    ]);
  });

  it('refuses a non-empty target unless replace is set', async () => {
    const target = await dbs.create('rt_busy');
    await dbs.run(target, 'CREATE TABLE keep_me (id INT)');
    await expect(loadMysql({ url: mysqlUrl(), dir: firstDir, databaseRename: target })).rejects.toThrow(TargetNotEmptyError);
    await expect(loadMysql({ url: mysqlUrl(), dir: firstDir, databaseRename: target })).rejects.toThrow(/^MySQL database `.*rt_busy` is not empty \(1 object\); load into an empty database or replace it$/);
    await loadMysql({ url: mysqlUrl(), dir: firstDir, databaseRename: target, replace: true });
    const [rows] = await (await dbs.admin()).query(`SELECT COUNT(*) AS n FROM \`${target}\`.app_part`);
    expect(rows).toEqual([{ n: 3 }]);
  });

  it('names the file and lines of a failing statement and drops the half-loaded database', async () => {
    const dir = await tempDir('rt-broken');
    const file = join(dir, 'broken.sql');
    await writeFile(file, 'CREATE TABLE ok_table (id INT);\n\nINSERT INTO `missing_table` (`id`) VALUES\n(1);\n');
    const target = dbs.name('rt_broken');
    const load = loadMysql({ url: mysqlUrl(), files: [file], databaseRename: target });
    await expect(load).rejects.toThrow(DumpFileError);
    await expect(load).rejects.toThrow(/broken\.sql: the statement at line 3 failed: .*missing_table.*nothing of the load was kept/);
    const [rows] = await (await dbs.admin()).query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [target]);
    expect(rows).toEqual([]);
    // An empty target that existed before stays, empty.
    const empty = await dbs.create('rt_broken_empty');
    await expect(loadMysql({ url: mysqlUrl(), files: [file], databaseRename: empty })).rejects.toThrow(DumpFileError);
    const [left] = await (await dbs.admin()).query(
      'SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?) AS present, (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?) AS tables',
      [empty, empty],
    );
    expect(left).toEqual([{ present: 1, tables: 0 }]);
  });

  const client = stockClient;
  it.skipIf(!client)('loads with the stock client (`mysql db < file`) to the same dump', async () => {
    const copy = await dbs.create('rt_stock');
    const url = new URL(mysqlUrl());
    const args = ['-h', url.hostname, '-P', url.port || '3306', '-u', decodeURIComponent(url.username), copy];
    const child = execFile(client!, args, { env: { ...process.env, MYSQL_PWD: decodeURIComponent(url.password) } });
    const done = promisify((cb: (e: Error | null) => void) => child.on('exit', (code) => cb(code === 0 ? null : new Error(`client exited ${code}`))))();
    child.stdin!.end(firstSql);
    await done;
    const out = await tempDir('rt4');
    await dumpMysql({ url: mysqlUrl(), databases: [copy], dataTables: DATA_TABLES, outDir: out });
    expect(await readText(join(out, 'mysql', `${copy}.sql`))).toBe(firstSql);
  });
});
