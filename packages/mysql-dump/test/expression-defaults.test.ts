import { describe, expect, it } from 'vitest';
import { describeSchemaDiff, diffSchemas } from '../src/internal/diff.js';
import { isExpressionDefault, normalizeDefault, normalizeGenerationExpression } from '../src/internal/normalize-column.js';
import { buildSemanticSchema, serializeSchema } from '../src/internal/semantic-schema.js';
import { MARIADB_1011, MYSQL_80, expressionDefaultRows } from './fixtures/recorded-expression-defaults.js';

const MYSQL_84 = { flavor: 'mysql', version: '8.4.0' } as const;
const defaults = (schema: ReturnType<typeof buildSemanticSchema>) =>
  Object.fromEntries(schema.tables[0]!.columns.map((c) => [c.name, c.default]));

describe('expression defaults: MySQL 8 and MariaDB rows of the same DDL give one semantic schema', () => {
  const mariadb = buildSemanticSchema(expressionDefaultRows(MARIADB_1011), MARIADB_1011);

  it.each([MYSQL_80, MYSQL_84].map((e) => [e.version, e] as const))('MySQL %s equals MariaDB 10.11, byte for byte', (_version, engine) => {
    const mysql = buildSemanticSchema(expressionDefaultRows(engine), engine);
    expect(mysql).toEqual(mariadb);
    expect(serializeSchema(mysql)).toBe(serializeSchema(mariadb));
  });

  // Spelled out, so the equality above is not two flavours agreeing on something wrong.
  it('each default reads as one flavour-independent value', () => {
    expect(defaults(mariadb)).toEqual({
      id: null,
      i: '0',
      c: '',
      note: "it's",
      f: 'rand()*rand()',
      d: 'curdate()+interval1year',
      p: 'point(0,0)',
      j: 'json_array()',
      quote_text: "it's",
      backslash_text: 'a\\b',
      seven: '7',
      yes: '1',
      two: '1+1',
      joined: "concat('a','b')",
      made: 'CURRENT_TIMESTAMP(6)',
      token: 'uuid()',
      shout: "upper('x')",
      tomorrow: 'now()+interval1day',
      a: '4',
      sq: '`a`*`a`',
    });
  });

  it.each([MYSQL_80, MARIADB_1011].map((e) => [e.flavor, e] as const))('%s: a changed expression default is named by diff', (_flavor, engine) => {
    // Both flavours print this expression alike.
    const before = buildSemanticSchema(expressionDefaultRows(engine), engine);
    const after = buildSemanticSchema(expressionDefaultRows(engine, { d: '(curdate() + interval 2 year)' }), engine);
    expect(describeSchemaDiff(diffSchemas(before, after))).toEqual([
      '~ table expression_defaults',
      '  ~ column d: default "curdate()+interval1year" -> "curdate()+interval2year"',
    ]);
  });
});

describe('normalizeDefault keeps literal defaults as they were', () => {
  it.each([
    // MySQL reports a literal's text bare and without DEFAULT_GENERATED, whatever it looks like.
    ["it's", '', false, MYSQL_80, "it's"],
    ['(1 + 1)', '', false, MYSQL_80, '(1 + 1)'],
    ["_utf8mb4\\'x\\'", '', false, MYSQL_80, "_utf8mb4\\'x\\'"],
    ['a\\b', '', false, MYSQL_80, 'a\\b'],
    ['CURRENT_TIMESTAMP', 'DEFAULT_GENERATED on update CURRENT_TIMESTAMP', false, MYSQL_80, 'CURRENT_TIMESTAMP'],
    ['CURRENT_TIMESTAMP', 'on update CURRENT_TIMESTAMP', false, { flavor: 'mysql', version: '5.7.44' }, 'CURRENT_TIMESTAMP'],
    // MariaDB quotes literals: the same texts, quoted.
    ["'it''s'", '', true, MARIADB_1011, "it's"],
    ["'(1 + 1)'", '', true, MARIADB_1011, '(1 + 1)'],
    ["'a\\\\b'", '', true, MARIADB_1011, 'a\\b'],
    ['NULL', '', true, MARIADB_1011, null],
    ['-1', '', true, MARIADB_1011, '-1'],
    ['1.50', '', true, MARIADB_1011, '1.50'],
    ["b'101'", '', true, MARIADB_1011, "b'101'"],
    ['current_timestamp()', 'on update current_timestamp()', true, MARIADB_1011, 'CURRENT_TIMESTAMP'],
  ] as const)('%s (%s, %s)', (raw, extra, sqlLiterals, engine, expected) =>
    expect(normalizeDefault(raw, extra, sqlLiterals, engine)).toBe(expected),
  );

  it('a literal that looks like an expression stays apart from the expression', () => {
    expect(normalizeDefault('(1 + 1)', '', false, MYSQL_80)).not.toBe(normalizeDefault('(1 + 1)', 'DEFAULT_GENERATED', false, MYSQL_80));
  });
});

describe('isExpressionDefault tells an expression default from literal text spelled alike', () => {
  it.each([
    ['uuid()', '', true, MARIADB_1011, true],
    ["'uuid()'", '', true, MARIADB_1011, false],
    ['uuid()', 'DEFAULT_GENERATED', false, MYSQL_80, true],
    ['uuid()', '', false, MYSQL_80, false],
    ['(`a` + 1)', 'DEFAULT_GENERATED', false, MYSQL_80, true],
    // Single literals read the same on both flavours (MariaDB reports `DEFAULT ('x')` as a literal).
    ["_utf8mb4\\'x\\'", 'DEFAULT_GENERATED', false, MYSQL_80, false],
    ["'x'", '', true, MARIADB_1011, false],
    ['7', 'DEFAULT_GENERATED', false, MYSQL_80, false],
    ['-1.50', '', true, MARIADB_1011, false],
    ["b'101'", '', true, MARIADB_1011, false],
    ['NULL', '', true, MARIADB_1011, false],
    // The current time is left unflagged (most schemas have it; no string default is spelled so).
    ['current_timestamp()', '', true, MARIADB_1011, false],
    ['CURRENT_TIMESTAMP', 'DEFAULT_GENERATED', false, MYSQL_80, false],
  ] as const)('%s (%s, %s)', (raw, extra, sqlLiterals, engine, expected) =>
    expect(isExpressionDefault(raw, extra, sqlLiterals, engine)).toBe(expected),
  );

  it('diff reports DEFAULT uuid() changed to DEFAULT \'uuid()\'', () => {
    const schemaOf = (columnDefault: string) => {
      const rows = expressionDefaultRows(MARIADB_1011);
      return buildSemanticSchema({ ...rows, columns: [{ ...rows.columns[0]!, column_default: columnDefault, extra: '' }] }, MARIADB_1011);
    };
    const diff = diffSchemas(schemaOf('uuid()'), schemaOf("'uuid()'"));
    expect(diff.tables.changed[0]!.columns.changed[0]!.changes).toEqual([{ field: 'defaultExpression', from: true, to: undefined }]);
  });
});

describe('normalizeGenerationExpression spells MariaDB synonyms as MySQL does', () => {
  it.each([
    ['ucase(`name`)', MARIADB_1011, 'upper(`name`)'],
    ['lcase(`name`)', MARIADB_1011, 'lower(`name`)'],
    ['(current_timestamp() + interval 1 day)', MARIADB_1011, 'now()+interval1day'],
    ['if(`a`,TRUE,FALSE)', MARIADB_1011, 'if(`a`,1,0)'],
    // Only whole names outside strings and identifiers.
    ["concat('ucase(x) is true',`ucase`)", MARIADB_1011, "concat('ucase(x) is true',`ucase`)"],
    ['`t`.`current_date`+`x_true`', MARIADB_1011, '`t`.`current_date`+`x_true`'],
    ['my_ucase(`a`)', MARIADB_1011, 'my_ucase(`a`)'],
  ] as const)('%s', (raw, engine, expected) => expect(normalizeGenerationExpression(raw, engine)).toBe(expected));
});
