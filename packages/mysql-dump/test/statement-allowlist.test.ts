import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  renderEvents,
  renderHeader,
  renderRoutines,
  renderTables,
  renderTriggers,
  renderViews,
  type DatabaseObjects,
  type StoredProgram,
} from '../src/internal/ddl-reader.js';
import { RefusedStatementError } from '../src/internal/errors.js';
import { verifyDumpFile } from '../src/internal/load.js';
import { normalizeCreateEvent, normalizeCreateRoutine, normalizeCreateTable, normalizeCreateTrigger, normalizeCreateView } from '../src/internal/normalize-ddl.js';
import { Refusal } from '../src/internal/sql-lexer.js';
import { StatementAllowlist, createTableMayBeRefused } from '../src/internal/statement-allowlist.js';
import { splitStatements } from '../src/internal/statement-splitter.js';
import { InsertWriter, type DataTable } from '../src/internal/table-data.js';
import { RECORDED_EVENTS, RECORDED_ROUTINES, RECORDED_TABLES, RECORDED_TRIGGERS, RECORDED_VIEWS } from './fixtures/recorded-show-create.js';

/** What a dump file starts with: after it the sql_mode is known. */
const HEADER = renderHeader({ charset: 'utf8mb4', collation: 'utf8mb4_general_ci' } as DatabaseObjects);

/** Checks every statement of `script` in order; returns the first refusal's reason, or undefined. */
function refusalOf(script: string): string | undefined {
  const allowlist = new StatementAllowlist();
  try {
    for (const statement of splitStatements(script)) allowlist.check(statement.text);
  } catch (error) {
    if (error instanceof Refusal) return error.reason;
    throw error;
  }
  return undefined;
}

const program = (name: string, ddl: string, over: Partial<StoredProgram> = {}): StoredProgram => ({
  name,
  ddl,
  sqlMode: 'STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION',
  characterSetClient: 'utf8mb4',
  collationConnection: 'utf8mb4_general_ci',
  ...over,
});

/** Rows of every value kind as InsertWriter writes them. */
async function insertText(): Promise<string> {
  let text = '';
  const table: DataTable = {
    name: 'app_widget',
    columns: [
      { name: 'id', kind: 'number' },
      { name: 'ratio', kind: 'float' },
      { name: 'payload', kind: 'binary' },
      { name: 'doc', kind: 'string', long: true },
      { name: 'applied', kind: 'string' },
    ],
    primaryKey: ['id'],
    fixedValues: new Map([['applied', "'2000-01-01 00:00:00'"]]),
    remap: new Map(),
  };
  const writer = new InsertWriter(table, { write: async (chunk) => void (text += chunk) });
  const b = (s: string) => Buffer.from(s, 'utf8');
  await writer.add([b('-12'), b('1.2345677614212036'), Buffer.from([0, 255, 16]), b("it's; \\ a\nline \u0001 ☃ 😀 -- /*! x */ ;"), b('x')]);
  await writer.add([b('18446744073709551615'), b('-1e-7'), null, null, null]);
  await writer.add([b('3.50'), b('16777216'), Buffer.alloc(0), b(''), null]);
  await writer.flush();
  return text;
}

describe('the allowlist accepts every statement kind the dumper writes', () => {
  const objects: DatabaseObjects = {
    charset: 'utf8mb4',
    collation: 'utf8mb4_0900_ai_ci',
    tables: RECORDED_TABLES.map(({ raw }, i) => ({ name: `t${i}`, ddl: normalizeCreateTable(raw) })),
    views: RECORDED_VIEWS.map(({ raw }, i) => ({ name: `v${i}`, ddl: normalizeCreateView(raw), characterSetClient: i ? 'latin1' : 'utf8mb3', collationConnection: i ? 'latin1_swedish_ci' : 'utf8mb3_general_ci' })),
    routines: [
      ...RECORDED_ROUTINES.map(({ raw, kind }, i) => program(`r${i}`, normalizeCreateRoutine(raw, kind))),
      program('nested', [
        'CREATE PROCEDURE `nested`(IN n INT, OUT total DECIMAL(10,2))',
        '    READS SQL DATA',
        "    COMMENT 'sums; carefully'",
        'main: BEGIN',
        '  DECLARE done INT DEFAULT 0; -- a comment; with semicolons',
        '  DECLARE c CURSOR FOR SELECT t.end FROM t WHERE t.begin > 0;',
        '  DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = 1;',
        "  DECLARE EXIT HANDLER FOR SQLEXCEPTION, SQLSTATE VALUE '23000', 1062 BEGIN ROLLBACK; RESIGNAL; END;",
        '  /* block; comment */ SET total = 0;',
        '  IF n > 0 THEN SET total = CASE WHEN n > 10 THEN 10 ELSE n END; ELSEIF n < 0 THEN SET total = -1; ELSE BEGIN END; END IF;',
        '  CASE n WHEN 1 THEN SELECT IF(n = 1, 1, 2); WHEN 2 THEN SELECT REPEAT(\'x\', 2); ELSE DO 1; END CASE;',
        '  lp: LOOP SET n = n - 1; IF n <= 0 THEN LEAVE lp; END IF; END LOOP lp;',
        '  WHILE n < 3 DO SET n = n + 1; END WHILE;',
        '  REPEAT SET n = n - 1; UNTIL n <= 0 OR (CASE WHEN n = 1 THEN 1 END) END REPEAT;',
        "  SELECT 'END; DROP DATABASE x', `end` FROM `t` WHERE `t`.`end` = 1;",
        'END main',
      ].join('\n')),
      program('f_case', "CREATE FUNCTION `f_case`(x INT) RETURNS varchar(20) CHARSET utf8mb4 COLLATE utf8mb4_general_ci\n    DETERMINISTIC\nBEGIN\n  RETURN CASE x WHEN 1 THEN 'one;' ELSE 'many' END;\nEND"),
      program('win_path', "CREATE FUNCTION `win_path`() RETURNS varchar(20) CHARSET latin1\n    NO SQL\nRETURN 'C:\\'", { sqlMode: 'NO_BACKSLASH_ESCAPES', characterSetClient: 'latin1', collationConnection: 'latin1_swedish_ci' }),
      program('ansi', 'CREATE PROCEDURE `ansi`()\nBEGIN\n  SELECT "a;" FROM "t";\nEND', { sqlMode: 'PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ONLY_FULL_GROUP_BY,ANSI' }),
      program('agg', 'CREATE AGGREGATE FUNCTION `agg`(x INT) RETURNS int(11)\nBEGIN\n  DECLARE s INT DEFAULT 0;\n  DECLARE CONTINUE HANDLER FOR NOT FOUND RETURN s;\n  LOOP FETCH GROUP NEXT ROW; SET s = s + x; END LOOP;\nEND'),
      program('mariadb_for', 'CREATE PROCEDURE `mariadb_for`()\nBEGIN\n  FOR i IN 1..3 DO SELECT i; END FOR;\nEND'),
      // The body ends in a line comment: the delimiter must not land inside it.
      program('trailing_comment', 'CREATE PROCEDURE `trailing_comment`()\nSELECT 1 -- trailing comment'),
      // `end` as a column name, unquoted, as the server accepts it.
      program('sched_end', 'CREATE PROCEDURE `sched_end`(x INT)\nBEGIN\n  UPDATE sched SET end = NOW() WHERE id = x;\n  SELECT end, (end) FROM sched WHERE end > 0;\n  REPEAT SET x = x - 1; UNTIL end > x END REPEAT;\nEND'),
    ],
    triggers: [
      ...RECORDED_TRIGGERS.map(({ raw }, i) => program(`tr${i}`, normalizeCreateTrigger(raw))),
      program('tr_follows', normalizeCreateTrigger('CREATE DEFINER=`u`@`h` TRIGGER `s p`.`t 2` BEFORE INSERT ON `s p`.`t` FOR EACH ROW FOLLOWS `t1` SET NEW.a = 2')),
      program('tr_end', 'CREATE TRIGGER tr_end BEFORE UPDATE ON t FOR EACH ROW BEGIN\n  IF NEW.end < NEW.begin THEN SET NEW.end = NEW.begin; END IF;\nEND'),
      program('tr_hash', 'CREATE TRIGGER tr_hash BEFORE INSERT ON t FOR EACH ROW BEGIN\n  SET NEW.a = 1;\nEND # hash'),
    ],
    events: [
      ...RECORDED_EVENTS.map(({ raw }, i) => program(`e${i}`, normalizeCreateEvent(raw), { timeZone: i ? 'Europe/Berlin' : 'SYSTEM' })),
      program('e_compound', "CREATE EVENT `e_compound` ON SCHEDULE EVERY '1:30' HOUR_MINUTE STARTS '2030-01-01 00:00:00' ON COMPLETION PRESERVE DISABLE ON SLAVE COMMENT 'x;' DO BEGIN DELETE FROM t; END", { timeZone: '+05:00' }),
    ],
  };
  let script = '';
  beforeAll(async () => {
    script = [renderHeader(objects), renderTables(objects), '-- Data `app_widget`\n', await insertText(), '\n', renderRoutines(objects), renderViews(objects), renderTriggers(objects), renderEvents(objects)].join('');
  });

  it('a whole file rendered from recorded MySQL 5.7/8.0/8.4 and MariaDB output, with data of every value kind', () => {
    const allowlist = new StatementAllowlist();
    const kinds = splitStatements(script).map((s) => allowlist.check(s.text).kind);
    expect(kinds.filter((k) => k === 'create-table')).toHaveLength(RECORDED_TABLES.length);
    expect(kinds.filter((k) => k === 'insert')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'ordered')).toHaveLength(1 + objects.views.length + objects.routines.length + objects.triggers.length + objects.events.length);
  });

  it.each([
    ['MariaDB old temporal comment', "CREATE TABLE `t` (\n  `d` datetime /* mariadb-5.3 */ NOT NULL\n) ENGINE=InnoDB"],
    ['partitions, system versioning', "CREATE TABLE `t` (\n  `a` int NOT NULL\n) ENGINE=InnoDB PAGE_COMPRESSED=1 WITH SYSTEM VERSIONING\nPARTITION BY LIST (`a`)\n(PARTITION `p` VALUES IN (1) ENGINE = InnoDB)"],
    ['a foreign key and a check', 'CREATE TABLE `c` (\n  `p` int DEFAULT (abs(-1)),\n  CONSTRAINT `c_chk` CHECK ((`p` > 0)),\n  CONSTRAINT `c_fk` FOREIGN KEY (`p`) REFERENCES `p` (`id`)\n) ENGINE=InnoDB'],
    ['a hand-written table', 'CREATE TABLE a (id int)'],
    ['a view with a column list and CHECK OPTION', 'CREATE VIEW `v` (`a`) AS select 1 AS `a` WITH CASCADED CHECK OPTION'],
    ['a MERGE table (MariaDB 10.11)', 'CREATE TABLE `mm` (\n  `a` int(11) DEFAULT NULL\n) ENGINE=MRG_MyISAM DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci UNION=(`m1`,`m2`)'],
  ])('%s', (_what, statement) => {
    expect(refusalOf(`${HEADER}${statement};\n`)).toBeUndefined();
  });
});

const R = {
  kind: /of a kind devstack-dumps never writes/,
  executable: /executable comment/,
  qualified: /database-qualified name/,
  early: /ends the stored program early|`;` inside a statement/,
  set: /SET of something other|set to/,
  insert: /an INSERT other than/,
  table: /CREATE TABLE|DIRECTORY|CONNECTION|UNION|storage engine/,
};

describe('the allowlist refuses', () => {
  it.each([
    ['DROP DATABASE victim', R.kind],
    ['/*!DROP DATABASE victim*/', R.executable],
    ['/*!50000 DROP DATABASE victim */', R.executable],
    ['/*M!100000 DROP DATABASE victim */', R.executable],
    ['/*M!999999\\- enable the sandbox mode */', R.executable],
    ['/*! USE victim */', R.executable],
    ['DROP /**/ DATABASE victim', R.kind],
    ['USE victim', R.kind],
    ['CREATE DATABASE /*!32312 IF NOT EXISTS*/ `victim`', R.executable],
    ['CREATE DATABASE victim', /CREATE of something other/],
    ['DROP SCHEMA victim', R.kind],
    ["PREPARE s FROM 'DROP DATABASE victim'", R.kind],
    ['EXECUTE s', R.kind],
    ['DROP TABLE victim.t', R.kind],
    ['TRUNCATE victim.t', R.kind],
    ["CREATE USER 'attacker'@'%' IDENTIFIED BY 'pw'", /CREATE of something other/],
    ["GRANT ALL ON *.* TO 'attacker'@'%'", R.kind],
    ['SET GLOBAL general_log = 1', R.set],
    ['SET @@global.max_connections = 1', R.set],
    ['SET SESSION sql_log_bin = 0', R.set],
    ["SET SQL_MODE = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')", R.set],
    ["SET SQL_MODE = 'ORACLE'", R.set],
    ['SET FOREIGN_KEY_CHECKS = @x', R.set],
    ['SET NAMES gbk', R.set],
    ['SET character_set_client = swe7', R.set],
    ["SELECT * FROM mysql.user INTO OUTFILE '/tmp/x'", /INTO OUTFILE/],
    ["SELECT 'x' INTO DUMPFILE '/tmp/x'", /INTO DUMPFILE/],
    ["CREATE FUNCTION f RETURNS STRING SONAME 'lib.so'", /SONAME/],
    ["CREATE FUNCTION `f`() RETURNS int SONAME 'lib.so'", /SONAME/],
    ["LOAD DATA INFILE '/etc/passwd' INTO TABLE t", R.kind],
    ["LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t", R.kind],
    ["INSTALL PLUGIN p SONAME 'p.so'", /SONAME/],
    ["INSTALL SONAME 'ha_connect'", /SONAME/],
    ['CALL victim.p()', R.kind],
    ["DO SLEEP(1)", R.kind],
    ['SELECT 1', R.kind],
    ['ALTER DATABASE `victim` CHARACTER SET latin1', /ALTER other than/],
    ['ALTER TABLE t ADD COLUMN x int', /ALTER other than/],
    ["ALTER USER root IDENTIFIED BY 'x'", /ALTER other than/],
    ['CREATE TABLE victim.t (id int)', R.qualified],
    ['CREATE TABLE `victim` . `t` (id int)', R.qualified],
    ['CREATE TABLE t (id int) SELECT * FROM victim.secret', R.table],
    ['CREATE TABLE t (id int) (SELECT * FROM victim.secret)', R.table],
    ['CREATE TABLE t AS SELECT * FROM victim.secret', R.table],
    ['CREATE TABLE t LIKE victim.t', R.table],
    ['CREATE TABLE t (LIKE victim.t)', R.table],
    ['CREATE TABLE t (id int) TABLE victim.t', R.table],
    ["CREATE TABLE t (id int) ENGINE=InnoDB DATA DIRECTORY = '/tmp'", R.table],
    ["CREATE TABLE t (id int) ENGINE=FEDERATED CONNECTION='mysql://u@h/db/t'", R.table],
    ["CREATE TABLE t (id int) ENGINE=CONNECT TABLE_TYPE=CSV FILE_NAME='/etc/passwd'", R.table],
    ['CREATE TABLE t (id int) ENGINE=MRG_MyISAM UNION=(victim.t) INSERT_METHOD=LAST', R.table],
    ['CREATE TEMPORARY TABLE t (id int)', /CREATE of something other/],
    ['INSERT INTO victim.t (a) VALUES (1)', R.qualified],
    ['INSERT INTO t (victim.t.a) VALUES (1)', R.qualified],
    ['INSERT INTO t VALUES (1)', R.insert],
    ['INSERT INTO t (a) SELECT user FROM mysql.user', R.insert],
    ['INSERT INTO t (a) VALUES ((SELECT authentication_string FROM mysql.user LIMIT 1))', R.insert],
    ["INSERT INTO t (a) VALUES (LOAD_FILE('/etc/passwd'))", R.insert],
    ['INSERT INTO t (a) VALUES (@@version)', R.insert],
    ['INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2', R.insert],
    ['REPLACE INTO t (a) VALUES (1)', R.kind],
    ['CREATE VIEW victim.v AS SELECT 1', R.qualified],
    ['CREATE DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW v AS SELECT 1', /CREATE of something other/],
    ['CREATE OR REPLACE VIEW v AS SELECT 1', /CREATE of something other/],
    ['CREATE PROCEDURE victim.p() SELECT 1', R.qualified],
    ['CREATE DEFINER=`root`@`localhost` PROCEDURE p() SELECT 1', /CREATE of something other/],
    ['CREATE TRIGGER victim.trg BEFORE INSERT ON t FOR EACH ROW SET @x = 1', R.qualified],
    ['CREATE TRIGGER trg BEFORE INSERT ON victim.t FOR EACH ROW SET @x = 1', R.qualified],
    ['CREATE EVENT victim.e ON SCHEDULE EVERY 1 DAY DO SELECT 1', R.qualified],
    ['CREATE EVENT e ON SCHEDULE AT CURRENT_TIMESTAMP DO SELECT 1', /schedule/],
    ['CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST \'evil\')', /CREATE of something other/],
  ])('%s', (statement, reason) => {
    expect(refusalOf(`${HEADER}${statement};\n`)).toMatch(reason);
  });

  it.each([
    ['a second statement after SET', 'DELIMITER $$\nSET NAMES utf8mb4; DROP DATABASE victim$$\n', /SET of something other/],
    ['a second statement after INSERT', 'DELIMITER $$\nINSERT INTO `t` (`a`) VALUES\n(1); DROP DATABASE victim$$\n', R.insert],
    ['a second statement after a view', 'DELIMITER $$\nCREATE VIEW v AS SELECT 1; DROP DATABASE victim$$\n', R.early],
    ['a second statement after a simple procedure body', 'DELIMITER $$\nCREATE PROCEDURE p() SELECT 1; DROP DATABASE victim$$\n', R.early],
    ['a second statement after a trigger body', 'DELIMITER $$\nCREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1; DROP DATABASE victim$$\n', R.early],
    ['a second statement after an event body', 'DELIMITER $$\nCREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t; DROP DATABASE victim$$\n', R.early],
    [
      'statements between two compound bodies',
      'DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END; DROP DATABASE victim; CREATE PROCEDURE q() BEGIN SELECT 2; END$$\n',
      R.early,
    ],
    ['a body that ends before its last END', 'DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END; DROP DATABASE victim; SELECT 1 END$$\n', R.early],
    ['`begin` as a name in a simple body', 'DELIMITER $$\nCREATE PROCEDURE p() SELECT begin FROM t; DROP DATABASE victim; SELECT 1 FROM x END$$\n', R.early],
    ['`begin` as a CASE result', 'DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT CASE WHEN 1 THEN begin END FROM t; END; DROP DATABASE victim; SELECT 1 END$$\n', /END|early/],
    ['`begin` after a DO statement in a loop', 'DELIMITER $$\nCREATE PROCEDURE p() WHILE 1 DO DO begin; END WHILE; DROP DATABASE victim; END WHILE$$\n', /END|early/],
    ['a statement after a body that ends in a line comment', 'DELIMITER $$\nCREATE PROCEDURE p() SELECT 1; DROP DATABASE victim -- x\n$$\n', R.early],
    ['a second statement after a simple body, both ended with `;`', 'DELIMITER $$\nCREATE PROCEDURE p() SELECT 1; DROP DATABASE victim;$$\n', R.early],
    ['a second statement after a compound body, ended with `;`', 'DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END; DROP DATABASE victim;$$\n', R.early],
    ['two `;` after a body', 'DELIMITER $$\nCREATE PROCEDURE p() SELECT 1;;$$\n', R.early],
    ['a line comment at the end of a view', 'DELIMITER $$\nCREATE VIEW v AS SELECT 1 -- x\n$$\n', /comment at its end/],
    ['a trailing line comment', 'CREATE TABLE t (id int) -- x\n;\n', /comment at its end/],
  ])('%s', (_what, statements, reason) => {
    expect(refusalOf(`${HEADER}${statements}`)).toMatch(reason);
  });

  describe('text the splitter and the server read differently', () => {
    it.each([
      // The splitter takes `--` + U+00A0 for a comment; the server does not, and sees the `;` after it.
      ['`--` followed by a non-ASCII space', 'SET NAMES utf8mb4 --\u00a0; DROP DATABASE victim;\n', /SET of something other/],
      // With ANSI_QUOTES, "a\" is a complete name: the server ends the statement at the `;` after it.
      [
        'a backslash in an ANSI-quoted name',
        "SET SESSION SQL_MODE = 'ANSI_QUOTES';\nDELIMITER $$\nCREATE PROCEDURE p() SELECT \"a\\\"; DROP DATABASE victim; /* \"*/$$\n",
        R.early,
      ],
      // Under gbk the server pairs the last byte of ☃ with the backslash: the quote after it closes the string.
      [
        'non-ASCII text under a multi-byte client character set',
        "SET character_set_client = gbk, collation_connection = gbk_chinese_ci;\nINSERT INTO `t` (`a`) VALUES ('☃\\'); DROP DATABASE victim; -- ');\n",
        /non-ASCII text under a non-UTF-8/,
      ],
      ['a NUL in a comment (the server ends `#` comments there)', 'DELIMITER $$\nCREATE PROCEDURE p() BEGIN # c\u0000; DROP DATABASE victim\nSELECT 1; END$$\n', /control character/],
      ['a quoted optimizer hint', 'DELIMITER $$\nCREATE VIEW v AS SELECT /*+ QB_NAME(`*/; DROP DATABASE victim; /*`) */ 1$$\n', /optimizer hint/],
    ])('%s', (_what, statements, reason) => {
      expect(refusalOf(`${HEADER}${statements}`)).toMatch(reason);
    });

    it('a backslash in quoted text before the file sets SQL_MODE (the server default decides what it means)', () => {
      expect(refusalOf("INSERT INTO `t` (`a`) VALUES ('x\\'); DROP DATABASE victim; -- ');\n")).toMatch(/backslash in quoted text before/);
    });
    it('a view or stored program before the file sets SQL_MODE (it could be MariaDB ORACLE mode)', () => {
      expect(refusalOf('CREATE PROCEDURE p() SELECT 1;\n')).toMatch(/before the file sets SQL_MODE/);
    });
    it('a comment that hides the statement kind from the runner', () => {
      expect(refusalOf(`${HEADER}SET/**/character_set_client = gbk;\n`)).toMatch(/comment inside a statement/);
    });
  });
});

describe('verifyDumpFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mysql-dump-allowlist-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('names the file, the line, the statement, and says the dump set was not written by devstack-dumps', async () => {
    const file = join(dir, 'shop.sql');
    await writeFile(file, `${HEADER}CREATE TABLE \`a\` (\n  \`id\` int\n) ENGINE=InnoDB;\n\n/*!50000 DROP DATABASE victim */;\n`);
    const error = await verifyDumpFile(file).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(RefusedStatementError);
    expect(error).toMatchObject({ code: 'refused-statement', fatal: true, file, line: 14, statement: '/*!50000 DROP DATABASE victim */' });
    expect((error as Error).message).toBe(
      `${file} line 14: refused \`/*!50000 DROP DATABASE victim */\`: it contains an executable comment (\`/*!\`), which the server runs as SQL. ` +
        'Dumps written by devstack-dumps never contain this, so this dump set was not written by `devstack-dumps dump` or refresh-dumps; ' +
        'the load was refused and nothing of it was kept. Re-create the dump set with `devstack-dumps dump` (or refresh-dumps), and check who ' +
        'can write to the dump store: whoever can runs SQL on every server that loads from it',
    );
  });

  it('quotes at most the first 80 characters of the statement, on one line', async () => {
    const file = join(dir, 'long.sql');
    await writeFile(file, `${HEADER}GRANT ALL\n  ON *.* TO ${"'x'@'%', ".repeat(20)}'y'@'%';\n`);
    const error = (await verifyDumpFile(file).catch((caught: unknown) => caught)) as RefusedStatementError;
    expect(error.statement).toBe(`GRANT ALL ON *.* TO ${"'x'@'%', ".repeat(20)}`.slice(0, 80) + '…');
    expect(error.line).toBe(10);
  });

  it('accepts a hand-written file of dump-shaped statements', async () => {
    const file = join(dir, 'ok.sql');
    await writeFile(file, 'CREATE TABLE a (id int);\n');
    // Kept as checked statements for the load; a file over the limit is checked, not kept.
    expect((await verifyDumpFile(file))?.map((statement) => statement.text)).toEqual(['CREATE TABLE a (id int)']);
    await expect(verifyDumpFile(file, 10)).resolves.toBeUndefined();
  });
});

describe('createTableMayBeRefused (the dump self-check skips lexing a table only when the check cannot refuse it)', () => {
  const refusedBy = (ddl: string) => {
    try {
      new StatementAllowlist().check(ddl);
      return undefined;
    } catch (error) {
      if (error instanceof Refusal) return error.reason;
      throw error;
    }
  };
  const plain = "CREATE TABLE `t` (\n  `id` int NOT NULL,\n  `note` varchar(10) DEFAULT 'x',\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

  it.each(RECORDED_TABLES.map(({ server, what, raw }) => [`${server}: ${what}`, normalizeCreateTable(raw)] as const))('%s: skipped only when the check accepts it', (_case, ddl) => {
    if (!createTableMayBeRefused(ddl)) expect(refusedBy(ddl)).toBeUndefined();
  });

  it('an ordinary table is skipped', () => {
    expect(createTableMayBeRefused(plain)).toBe(false);
    expect(refusedBy(plain)).toBeUndefined();
  });

  it.each([
    ['an unusual storage engine', plain.replace('ENGINE=InnoDB', 'ENGINE=FEDERATED')],
    ['DATA DIRECTORY', `${plain} DATA DIRECTORY='/srv/x'`],
    ['a CONNECTION', `${plain.replace('ENGINE=InnoDB', 'ENGINE=InnoDB CONNECTION=\'mysql://u@h/db/t\'')}`],
    ['a MERGE union of another database', plain.replace('ENGINE=InnoDB', 'ENGINE=MRG_MyISAM UNION=(`other`.`t1`)')],
    ['an executable comment', plain.replace('ENGINE=InnoDB', '/*!50100 ENGINE=InnoDB */')],
    ['a ; in the definitions', plain.replace("DEFAULT 'x'", "DEFAULT 'x'); DROP TABLE `u`; -- ")],
    ['a table option TABLE', `${plain} TABLE x`],
    ['a name in double quotes (ANSI_QUOTES spelling)', plain.replace('`t`', '"t"')],
    ['a comment ending in a backslash', `${plain} COMMENT='ends\\\\'`],
  ])('%s is checked (and refused)', (_case, ddl) => {
    expect(createTableMayBeRefused(ddl)).toBe(true);
    expect(refusedBy(ddl)).toBeDefined();
  });
});
