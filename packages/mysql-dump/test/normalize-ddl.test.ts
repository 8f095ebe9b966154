import { describe, expect, it } from 'vitest';
import {
  chooseDelimiter,
  dropFinalSemicolon,
  normalizeCreateEvent,
  normalizeCreateRoutine,
  normalizeCreateTable,
  normalizeCreateTrigger,
  normalizeCreateView,
  orderViews,
  removeDefiner,
} from '../src/internal/normalize-ddl.js';
import { RECORDED_EVENTS, RECORDED_ROUTINES, RECORDED_TABLES, RECORDED_TRIGGERS, RECORDED_VIEWS } from './fixtures/recorded-show-create.js';

describe('normalising recorded SHOW CREATE output', () => {
  it.each(RECORDED_TABLES)('TABLE on $server: $what', ({ raw, normalized }) => {
    expect(normalizeCreateTable(raw)).toBe(normalized);
    expect(normalizeCreateTable(normalized)).toBe(normalized);
  });
  it.each(RECORDED_VIEWS)('VIEW on $server: $what', ({ raw, normalized }) => {
    expect(normalizeCreateView(raw)).toBe(normalized);
  });
  it.each(RECORDED_TRIGGERS)('TRIGGER on $server: $what', ({ raw, normalized }) => {
    expect(normalizeCreateTrigger(raw)).toBe(normalized);
  });
  it.each(RECORDED_ROUTINES)('$kind on $server: $what', ({ raw, normalized, kind }) => {
    expect(normalizeCreateRoutine(raw, kind)).toBe(normalized);
  });
  it.each(RECORDED_EVENTS)('EVENT on $server: $what', ({ raw, normalized }) => {
    expect(normalizeCreateEvent(raw)).toBe(normalized);
  });
});

describe('orderViews', () => {
  // information_schema.VIEWS.VIEW_DEFINITION texts: table references are always `db`.`name`.
  it('puts referenced views first, otherwise name order', () => {
    const views = new Map([
      ['a_report', 'select `m_mid`.`id` AS `id` from `db`.`m_mid`'],
      ['m_mid', 'select `db`.`z_base`.`id` AS `id` from `db`.`z_base`'],
      ['z_base', 'select `db`.`t`.`id` AS `id` from `db`.`t`'],
      ['b_alone', 'select 1 AS `x`'],
    ]);
    expect(orderViews(views, 'db')).toEqual(['z_base', 'm_mid', 'a_report', 'b_alone']);
  });
  // Aliases naming the other view are not references: no edge, name order.
  const v1 = ['v1', 'select `db`.`t`.`id` AS `v2` from `db`.`t`'] as const;
  const v2 = ['v2', 'select `db`.`t`.`id` AS `v1` from `db`.`t`'] as const;
  it.each([
    ['v1 listed first', [v1, v2]],
    ['v2 listed first', [v2, v1]],
  ])('ignores column aliases named like views (%s)', (_case, entries) => {
    expect(orderViews(new Map(entries), 'db')).toEqual(['v1', 'v2']);
  });
});

describe('chooseDelimiter', () => {
  it.each([
    ['BEGIN SELECT 1; END', ';;'],
    ["BEGIN SELECT ';;'; END", '$$'],
    ["BEGIN SELECT ';;', '$$'; END", '//'],
  ])('%s -> %s', (body, delimiter) => expect(chooseDelimiter(body)).toBe(delimiter));
});

describe('removeDefiner', () => {
  it.each([
    ['a host that contains the keyword', 'CREATE ALGORITHM=UNDEFINED DEFINER=`ops`@`view.example.com` SQL SECURITY DEFINER VIEW `v` AS select 1', 'VIEW', 'CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1'],
    ['a user named like the keyword', 'CREATE DEFINER=`function`@`%` FUNCTION `f`() RETURNS int RETURN 1', 'FUNCTION', 'CREATE FUNCTION `f`() RETURNS int RETURN 1'],
    ['a backquote inside the user', 'CREATE DEFINER=`a``trigger`@`h` TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a = 1', 'TRIGGER', 'CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a = 1'],
    ['ANSI_QUOTES (MariaDB ORACLE mode)', 'CREATE DEFINER="root"@"127.0.0.1" PROCEDURE "p"()', 'PROCEDURE', 'CREATE PROCEDURE "p"()'],
    ['a MariaDB role (no host)', 'CREATE DEFINER=`event_role` EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT 1', 'EVENT', 'CREATE EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT 1'],
    ['a name that spells a DEFINER clause', 'CREATE PROCEDURE `DEFINER=x@y` () SELECT 1', 'PROCEDURE', 'CREATE PROCEDURE `DEFINER=x@y` () SELECT 1'],
  ] as const)('%s', (_what, ddl, keyword, expected) => {
    expect(removeDefiner(ddl, keyword)).toBe(expected);
  });
});

describe('dropFinalSemicolon', () => {
  // SHOW CREATE output recorded from MySQL 9.7.4 for programs created in a multi-statement query.
  it.each([
    ['a function whose body is one statement', 'CREATE FUNCTION `f_def`() RETURNS int\n    DETERMINISTIC\nRETURN 1;', 'CREATE FUNCTION `f_def`() RETURNS int\n    DETERMINISTIC\nRETURN 1'],
    ['a body ending in a line comment, the `;` on the next line', 'CREATE PROCEDURE `p1`()\nSELECT 1 -- trailing comment\n        ;', 'CREATE PROCEDURE `p1`()\nSELECT 1 -- trailing comment'],
    ['an event', 'CREATE EVENT `e` ON SCHEDULE EVERY 1 HOUR ON COMPLETION NOT PRESERVE DISABLE DO DELETE FROM t WHERE id < 0;', 'CREATE EVENT `e` ON SCHEDULE EVERY 1 HOUR ON COMPLETION NOT PRESERVE DISABLE DO DELETE FROM t WHERE id < 0'],
    ['a compound body', 'CREATE PROCEDURE `p`()\nBEGIN SELECT 1; SELECT 2; END;', 'CREATE PROCEDURE `p`()\nBEGIN SELECT 1; SELECT 2; END'],
    ['MariaDB spelling (no `;`): unchanged', 'CREATE PROCEDURE `p`()\nBEGIN SELECT 1; END', 'CREATE PROCEDURE `p`()\nBEGIN SELECT 1; END'],
    ['a `;` inside a string at the end: unchanged', "CREATE FUNCTION `f`() RETURNS text RETURN ';'", "CREATE FUNCTION `f`() RETURNS text RETURN ';'"],
    ['a `;` in a comment at the end: unchanged', 'CREATE FUNCTION `f`() RETURNS int RETURN 1 -- ;', 'CREATE FUNCTION `f`() RETURNS int RETURN 1 -- ;'],
    ['something after the `;`: left for the load check to refuse', 'CREATE PROCEDURE `p`() SELECT 1; DROP TABLE t', 'CREATE PROCEDURE `p`() SELECT 1; DROP TABLE t'],
  ])('%s', (_title, ddl, expected) => expect(dropFinalSemicolon(ddl)).toBe(expected));
});
