import { describe, expect, it } from 'vitest';
import {
  findDatabaseReference,
  normalizeCreateEvent,
  normalizeCreateTable,
  normalizeCreateTrigger,
  orderViews,
  unwrapVersionComments,
} from '../src/internal/normalize-ddl.js';
import { renderEvents, renderRoutines, renderViews, type DatabaseObjects } from '../src/internal/ddl-reader.js';
import { splitStatements } from '../src/internal/statement-splitter.js';

// information_schema.VIEWS.VIEW_DEFINITION as each server prints it (qualified table and column references).
const ACCOUNTS = {
  'MySQL 5.7': 'select `shop`.`account`.`id` AS `id`,`shop`.`account`.`amount` AS `balance` from `shop`.`account`',
  'MySQL 8.0': 'select `shop`.`account`.`id` AS `id`,`shop`.`account`.`amount` AS `balance` from `shop`.`account`',
  'MySQL 8.4': 'select `shop`.`account`.`id` AS `id`,`shop`.`account`.`amount` AS `balance` from `shop`.`account`',
  'MariaDB 10.11': 'select `shop`.`account`.`id` AS `id`,`shop`.`account`.`amount` AS `balance` from `shop`.`account`',
};
const BALANCE = {
  'MySQL 5.7': 'select `shop`.`accounts`.`id` AS `id`,`shop`.`accounts`.`balance` AS `balance` from `shop`.`accounts` where (`shop`.`accounts`.`balance` > 0)',
  'MySQL 8.0': 'select `shop`.`accounts`.`id` AS `id`,`shop`.`accounts`.`balance` AS `balance` from `shop`.`accounts` where (`shop`.`accounts`.`balance` > 0)',
  'MySQL 8.4': 'select `shop`.`accounts`.`id` AS `id`,`shop`.`accounts`.`balance` AS `balance` from `shop`.`accounts` where (`shop`.`accounts`.`balance` > 0)',
  'MariaDB 10.11': 'select `a`.`id` AS `id`,`a`.`balance` AS `balance` from `shop`.`accounts` `a` where `a`.`balance` > 0 and \'`shop`.`zz`\' <> \'x\'',
};

describe('view order from qualified definitions', () => {
  it.each(Object.keys(ACCOUNTS) as (keyof typeof ACCOUNTS)[])('%s: a view aliased like another view comes after the view it selects from', (server) => {
    const views = new Map([
      ['balance', BALANCE[server]],
      ['accounts', ACCOUNTS[server]],
      ['zz', 'select 1 AS `x`'],
    ]);
    expect(orderViews(views, 'shop')).toEqual(['accounts', 'balance', 'zz']);
  });
  it('ignores views of another database with the same name', () => {
    const views = new Map([
      ['a', 'select `other`.`b`.`id` AS `id` from `other`.`b`'],
      ['b', 'select 1 AS `id`'],
    ]);
    expect(orderViews(views, 'shop')).toEqual(['a', 'b']);
  });
  const c1 = ['c1', 'select `shop`.`c2`.`x` AS `x` from `shop`.`c2`'] as const;
  const c2 = ['c2', 'select `shop`.`c1`.`x` AS `x` from `shop`.`c1`'] as const;
  it.each([
    ['c1 first', [c1, c2]],
    ['c2 first', [c2, c1]],
  ])('breaks a genuine cycle the same way whatever the input order (%s)', (_case, entries) => {
    expect(orderViews(new Map(entries), 'shop')).toEqual(['c2', 'c1']);
  });
});

describe('trigger header qualifiers', () => {
  it.each([
    [
      'MariaDB 10.11, bare qualifiers',
      'CREATE DEFINER=`root`@`127.0.0.1` TRIGGER src.trg BEFORE INSERT ON src.t FOR EACH ROW SET NEW.a = 1',
      'CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1',
    ],
    [
      'MySQL 8.0, quoted qualifiers',
      'CREATE DEFINER=`root`@`localhost` TRIGGER `src`.`trg` AFTER UPDATE ON `src`.`t` FOR EACH ROW SET @x = 1',
      'CREATE TRIGGER `trg` AFTER UPDATE ON `t` FOR EACH ROW SET @x = 1',
    ],
    [
      'MySQL 5.7, unqualified (unchanged)',
      'CREATE DEFINER=`root`@`%` TRIGGER trg BEFORE DELETE ON t FOR EACH ROW SET @x = OLD.id',
      'CREATE TRIGGER trg BEFORE DELETE ON t FOR EACH ROW SET @x = OLD.id',
    ],
    [
      'MySQL 8.4, FOLLOWS',
      'CREATE DEFINER=`u`@`h` TRIGGER `s p`.`t 2` BEFORE INSERT ON `s p`.`t` FOR EACH ROW FOLLOWS `t1` SET NEW.a = 2',
      'CREATE TRIGGER `t 2` BEFORE INSERT ON `t` FOR EACH ROW FOLLOWS `t1` SET NEW.a = 2',
    ],
  ])('%s', (_server, raw, normalized) => {
    expect(normalizeCreateTrigger(raw)).toBe(normalized);
  });

  it.each([
    ["INSERT INTO src.log VALUES('x')", 'src.log'],
    ['INSERT INTO `src`.`log` VALUES (1)', '`src`.`log`'],
    ['SET NEW.a = (SELECT `src` . `t`.`a` FROM t)', '`src` . `t`.`a`'],
    ["INSERT INTO log VALUES('src.log')", undefined],
    ['INSERT INTO log SELECT x.src FROM x', undefined],
    ['INSERT INTO log VALUES (1.5) -- src.log', undefined],
    ['INSERT INTO srcx.log VALUES (1)', undefined],
    // A quote inside a comment does not start a string: the literal after it stays a literal.
    ["BEGIN /* don't log twice */ INSERT INTO log VALUES ('src.t changed'); END", undefined],
    ["BEGIN -- don't\nINSERT INTO log VALUES ('src.t changed'); END", undefined],
    ["BEGIN # it's\nINSERT INTO src.log VALUES ('x'); END", 'src.log'],
  ])('finds the database in a body: %s', (body, found) => {
    expect(findDatabaseReference(`CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW ${body}`, 'src')).toBe(found);
  });
  it('counts only three-part references when a table is named like the database', () => {
    expect(findDatabaseReference('CREATE PROCEDURE p() UPDATE src SET src.a = 1', 'src', true)).toBeUndefined();
    expect(findDatabaseReference('CREATE PROCEDURE p() UPDATE src.src SET src.src.a = 1', 'src', true)).toBe('src.src.a');
  });
});

describe('NO_BACKSLASH_ESCAPES in the script', () => {
  it('treats \\ as a plain character after SET sql_mode with NO_BACKSLASH_ESCAPES, and as an escape after the restore', () => {
    const script = [
      "SET SESSION SQL_MODE = 'NO_BACKSLASH_ESCAPES', character_set_client = utf8mb4, collation_connection = utf8mb4_general_ci;",
      'DELIMITER ;;',
      "CREATE FUNCTION `win_path`() RETURNS varchar(20) DETERMINISTIC RETURN 'C:\\';;",
      'DELIMITER ;',
      "SET SESSION SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO';",
      "SELECT 'a\\';b';",
    ].join('\n');
    expect(splitStatements(script).map((s) => s.text)).toEqual([
      "SET SESSION SQL_MODE = 'NO_BACKSLASH_ESCAPES', character_set_client = utf8mb4, collation_connection = utf8mb4_general_ci",
      "CREATE FUNCTION `win_path`() RETURNS varchar(20) DETERMINISTIC RETURN 'C:\\'",
      "SET SESSION SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO'",
      "SELECT 'a\\';b'",
    ]);
  });
  it("follows mysqldump's saved-mode form", () => {
    const script = [
      "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;",
      '/*!50003 SET @saved_sql_mode = @@sql_mode */ ;',
      "/*!50003 SET sql_mode = 'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES' */ ;",
      "SELECT 'C:\\';",
      '/*!50003 SET sql_mode = @saved_sql_mode */ ;',
      "SELECT 'it\\'s';",
    ].join('\n');
    expect(splitStatements(script).map((s) => s.text).slice(3)).toEqual(["SELECT 'C:\\'", '/*!50003 SET sql_mode = @saved_sql_mode */', "SELECT 'it\\'s'"]);
  });
});

const objects = (over: Partial<DatabaseObjects>): DatabaseObjects => ({
  charset: 'utf8mb4',
  collation: 'utf8mb4_general_ci',
  tables: [],
  views: [],
  routines: [],
  triggers: [],
  events: [],
  ...over,
});

describe('per-object client settings', () => {
  it('writes each view with its client character set and restores the file settings', () => {
    const text = renderViews(
      objects({ views: [{ name: 'v', ddl: 'CREATE VIEW `v` AS select 1 AS `x`', characterSetClient: 'utf8mb3', collationConnection: 'utf8mb3_general_ci' }] }),
    );
    expect(text).toBe(
      '-- View `v`\nSET character_set_client = utf8mb3, collation_connection = utf8mb3_general_ci;\nCREATE VIEW `v` AS select 1 AS `x`;\nSET NAMES utf8mb4;\n\n',
    );
  });
  it('writes each routine with its sql_mode and client character set', () => {
    const text = renderRoutines(
      objects({
        routines: [{ name: 'f', ddl: "CREATE FUNCTION `f`() RETURNS varchar(20)\nRETURN 'C:\\'", sqlMode: 'NO_BACKSLASH_ESCAPES', characterSetClient: 'latin1', collationConnection: 'latin1_swedish_ci' }],
      }),
    );
    expect(text).toBe(
      [
        '-- Routine `f`',
        "SET SESSION SQL_MODE = 'NO_BACKSLASH_ESCAPES', character_set_client = latin1, collation_connection = latin1_swedish_ci;",
        'DELIMITER ;;',
        "CREATE FUNCTION `f`() RETURNS varchar(20)\nRETURN 'C:\\'",
        ';;',
        'DELIMITER ;',
        "SET SESSION SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO';",
        'SET NAMES utf8mb4;',
        '',
        '',
      ].join('\n'),
    );
  });
  it('writes each event with its time zone', () => {
    const text = renderEvents(
      objects({
        events: [{ name: 'e', ddl: 'CREATE EVENT `e` ON SCHEDULE EVERY 1 DAY ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM t', sqlMode: '', timeZone: '+05:00', characterSetClient: 'utf8mb4', collationConnection: 'utf8mb4_general_ci' }],
      }),
    );
    expect(text).toContain("SET SESSION SQL_MODE = '', character_set_client = utf8mb4, collation_connection = utf8mb4_general_ci, TIME_ZONE = '+05:00';\n");
    expect(text).toContain("SET SESSION SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO', TIME_ZONE = '+00:00';\nSET NAMES utf8mb4;\n");
  });
});

describe('event schedules', () => {
  it.each([
    [
      'MariaDB 10.11: name containing " DO ", creation-time STARTS',
      "CREATE DEFINER=`root`@`127.0.0.1` EVENT `x DO y` ON SCHEDULE EVERY 1 DAY STARTS '2026-12-05 19:36:54' ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM t",
      true,
      'CREATE EVENT `x DO y` ON SCHEDULE EVERY 1 DAY ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM t',
    ],
    [
      'MySQL 8.0: name containing " ON COMPLETION "',
      "CREATE DEFINER=`root`@`localhost` EVENT `a ON COMPLETION b` ON SCHEDULE EVERY 1 HOUR STARTS '2024-03-05 10:11:12' ON COMPLETION PRESERVE ENABLE DO SELECT 1",
      true,
      'CREATE EVENT `a ON COMPLETION b` ON SCHEDULE EVERY 1 HOUR ON COMPLETION PRESERVE ENABLE DO SELECT 1',
    ],
    [
      'MySQL 8.4: explicit STARTS and ENDS kept',
      "CREATE DEFINER=`root`@`localhost` EVENT `e2` ON SCHEDULE EVERY 1 HOUR STARTS '2030-01-01 00:00:00' ENDS '2031-01-01 00:00:00' ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM t",
      false,
      "CREATE EVENT `e2` ON SCHEDULE EVERY 1 HOUR STARTS '2030-01-01 00:00:00' ENDS '2031-01-01 00:00:00' ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM t",
    ],
    [
      'MariaDB 10.11: creation-time STARTS with an ENDS becomes a fixed one (the bytes must not record when migrations ran, a load after ENDS must not fail)',
      "CREATE DEFINER=`root`@`%` EVENT `w` ON SCHEDULE EVERY 1 HOUR STARTS '2026-12-06 05:41:11' ENDS '2030-01-01 00:00:00' ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM t",
      true,
      "CREATE EVENT `w` ON SCHEDULE EVERY 1 HOUR STARTS '2000-01-01 00:00:00' ENDS '2030-01-01 00:00:00' ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM t",
    ],
    [
      "MySQL 5.7: a body mentioning STARTS '...' is not the schedule",
      "CREATE DEFINER=`root`@`localhost` EVENT `e3` ON SCHEDULE EVERY 1 DAY STARTS '2024-01-01 00:00:00' ON COMPLETION NOT PRESERVE ENABLE DO INSERT INTO t VALUES (' STARTS ''x''')",
      true,
      "CREATE EVENT `e3` ON SCHEDULE EVERY 1 DAY ON COMPLETION NOT PRESERVE ENABLE DO INSERT INTO t VALUES (' STARTS ''x''')",
    ],
  ])('%s', (_what, raw, implicitStarts, normalized) => {
    expect(normalizeCreateEvent(raw, implicitStarts)).toBe(normalized);
  });
});

describe('quoted text is never rewritten', () => {
  it.each([
    ["COMMENT '/*!50100 hidden */ tricky'", "COMMENT '/*!50100 hidden */ tricky'"],
    ['`/*!50100 odd name */` int', '`/*!50100 odd name */` int'],
    ["/*!50100 PARTITION BY KEY (`a`) */ COMMENT 'x */ y'", "PARTITION BY KEY (`a`) COMMENT 'x */ y'"],
    ["DEFAULT 'it\\'s /*!50100 x */'", "DEFAULT 'it\\'s /*!50100 x */'"],
  ])('unwrapVersionComments(%s)', (raw, expected) => {
    expect(unwrapVersionComments(raw)).toBe(expected);
  });
  it.each([
    [
      'MariaDB 10.11: table comment mentioning AUTO_INCREMENT=, no counter',
      "CREATE TABLE `t` (\n  `id` int(11) NOT NULL\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='legacy AUTO_INCREMENT=5 note'",
      "CREATE TABLE `t` (\n  `id` int(11) NOT NULL\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='legacy AUTO_INCREMENT=5 note'",
    ],
    [
      'MySQL 8.0: counter and comment',
      "CREATE TABLE `t` (\n  `id` int NOT NULL AUTO_INCREMENT,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB AUTO_INCREMENT=9 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci COMMENT='legacy AUTO_INCREMENT=5 note'",
      "CREATE TABLE `t` (\n  `id` int NOT NULL AUTO_INCREMENT,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci COMMENT='legacy AUTO_INCREMENT=5 note'",
    ],
    [
      'MySQL 5.7: version comment inside a column comment',
      "CREATE TABLE `t` (\n  `a` int(11) DEFAULT NULL COMMENT '/*!50100 hidden */ tricky'\n) ENGINE=InnoDB DEFAULT CHARSET=latin1",
      "CREATE TABLE `t` (\n  `a` int(11) DEFAULT NULL COMMENT '/*!50100 hidden */ tricky'\n) ENGINE=InnoDB DEFAULT CHARSET=latin1",
    ],
  ])('normalizeCreateTable: %s', (_what, raw, normalized) => {
    expect(normalizeCreateTable(raw)).toBe(normalized);
  });
});

describe('index and constraint order', () => {
  const body = (lines: string[]) => `CREATE TABLE \`t\` (\n${lines.join(',\n')}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;
  const columns = ['  `id` int(11) NOT NULL', '  `a` int(11) DEFAULT NULL', "  `b` varchar(5) DEFAULT NULL COMMENT 'x,'"];
  const sorted = body([
    ...columns,
    '  PRIMARY KEY (`id`)',
    '  KEY `ix_a` (`a`)',
    '  UNIQUE KEY `ix_b` (`b`)',
    '  FULLTEXT KEY `ix_c` (`b`)',
    '  CONSTRAINT `fk_a` FOREIGN KEY (`a`) REFERENCES `p` (`id`)',
    '  CONSTRAINT `fk_b` FOREIGN KEY (`a`) REFERENCES `q` (`id`)',
  ]);
  it.each([
    [
      'MariaDB 10.11: unique keys listed first, indexes in creation order',
      body([
        ...columns,
        '  PRIMARY KEY (`id`)',
        '  UNIQUE KEY `ix_b` (`b`)',
        '  KEY `ix_a` (`a`)',
        '  FULLTEXT KEY `ix_c` (`b`)',
        '  CONSTRAINT `fk_b` FOREIGN KEY (`a`) REFERENCES `q` (`id`)',
        '  CONSTRAINT `fk_a` FOREIGN KEY (`a`) REFERENCES `p` (`id`)',
      ]),
    ],
    ['MySQL 8.0: already in name order', sorted],
  ])('%s', (_what, raw) => {
    expect(normalizeCreateTable(raw)).toBe(sorted);
    expect(normalizeCreateTable(sorted)).toBe(sorted);
  });
  it('keeps a last column line ending in a quoted comma intact', () => {
    const raw = body(['  `id` int(11) NOT NULL', "  `b` varchar(5) DEFAULT NULL COMMENT 'x,'"]);
    expect(normalizeCreateTable(raw)).toBe(raw);
  });
});
