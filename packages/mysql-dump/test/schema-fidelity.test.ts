import { describe, expect, it } from 'vitest';
import type { EngineInfo } from '../src/internal/connect.js';
import { describeDataTables } from '../src/internal/data-plan.js';
import { describeSchemaDiff, diffSchemas, isEmptyDiff } from '../src/internal/diff.js';
import { normalizeGenerationExpression } from '../src/internal/normalize-column.js';
import { buildSemanticSchema, serializeSchema, type SchemaRows } from '../src/internal/semantic-schema.js';
import { selectSql, shortestFloat, sqlLiteral } from '../src/internal/table-data.js';

const MYSQL: EngineInfo = { flavor: 'mysql', version: '8.0.36' };
const MARIADB: EngineInfo = { flavor: 'mariadb', version: '10.11.6' };

/**
 * information_schema rows of `ALTER TABLE p MODIFY tax INT AS (price*0.25) STORED, MODIFY internal INT
 * INVISIBLE, ALTER INDEX ix_price IGNORED` (plus a comment on the index and a trigger), as each flavour
 * reports them. MySQL: GENERATION_EXPRESSION parenthesised, quotes backslash-escaped, `IS_VISIBLE` read as
 * `ignored` by the query; MariaDB: spaced operators, STATISTICS.IGNORED, SQL-literal defaults.
 */
interface Spelling {
  engine: EngineInfo;
  intType: string;
  taxExpression: string;
  labelExpression: string;
}
const SPELLINGS: Spelling[] = [
  { engine: MYSQL, intType: 'int', taxExpression: '(`price` * 0.25)', labelExpression: "concat(`name`,_utf8mb4\\'-\\',_utf8mb4\\'it\\'\\'s\\')" },
  { engine: MARIADB, intType: 'int(11)', taxExpression: '`price` * 0.25', labelExpression: "concat(`name`,'-','it\\'s')" },
];

function rows(s: Spelling, change: { altered?: boolean; triggerBody?: string; sequenceIncrement?: string } = {}): SchemaRows {
  const col = (position: number, name: string, extra: Partial<SchemaRows['columns'][number]> = {}) => ({
    table_name: 'p', column_name: name, ordinal_position: position, column_default: null, is_nullable: 'YES', column_type: s.intType,
    character_set_name: null, collation_name: null, extra: '', column_comment: '', generation_expression: s.engine.flavor === 'mysql' ? '' : null, ...extra,
  });
  const altered = change.altered ?? true;
  return {
    database: 'shop',
    schema: { charset: 'utf8mb4', collation: 'utf8mb4_general_ci' },
    defaultCollations: [{ charset: 'utf8mb4', collation: 'utf8mb4_general_ci' }],
    tables: [
      { table_name: 'p', table_type: 'BASE TABLE', engine: 'InnoDB', table_collation: 'utf8mb4_general_ci', table_comment: '' },
      ...(s.engine.flavor === 'mariadb'
        ? [{ table_name: 's', table_type: 'SEQUENCE', engine: 'InnoDB', table_collation: 'latin1_swedish_ci', table_comment: '' }]
        : []),
    ],
    columns: [
      col(1, 'id', { is_nullable: 'NO' }),
      col(2, 'price'),
      altered
        ? col(3, 'tax', { extra: 'STORED GENERATED', generation_expression: s.taxExpression })
        : col(3, 'tax', { extra: 'VIRTUAL GENERATED', generation_expression: s.taxExpression.replace('0.25', '0.2') }),
      col(4, 'internal', { extra: altered ? 'INVISIBLE' : '' }),
      col(5, 'name', { column_type: 'varchar(20)', character_set_name: 'utf8mb4', collation_name: 'utf8mb4_general_ci' }),
      col(6, 'label', {
        column_type: 'varchar(40)', character_set_name: 'utf8mb4', collation_name: 'utf8mb4_general_ci', extra: 'VIRTUAL GENERATED',
        generation_expression: s.labelExpression,
      }),
    ],
    statistics: [
      { table_name: 'p', index_name: 'PRIMARY', non_unique: 0, seq_in_index: 1, column_name: 'id', sub_part: null, index_type: 'BTREE', collation: 'A', index_comment: '', ignored: 'NO' },
      {
        table_name: 'p', index_name: 'ix_price', non_unique: 1, seq_in_index: 1, column_name: 'price', sub_part: null, index_type: 'BTREE', collation: 'A',
        index_comment: altered ? 'by price' : '', ignored: altered ? 'YES' : 'NO',
      },
    ],
    foreignKeys: [],
    routines: [],
    triggers: ['p_bi'],
    events: [],
    bodies: { routines: {}, triggers: { p_bi: `BEFORE INSERT ON p\n${change.triggerBody ?? 'SET NEW.price = NEW.price + 1'}` }, events: {} },
    // MySQL has no sequences: the MariaDB rows describe one, compared below on their own.
    ...(s.engine.flavor === 'mariadb'
      ? { sequences: [{ name: 's', start: '100', increment: change.sequenceIncrement ?? '5', min: '1', max: '9223372036854775806', cache: '1000', cycle: false }] }
      : {}),
  };
}

const withoutSequences = (schema: ReturnType<typeof buildSemanticSchema>): ReturnType<typeof buildSemanticSchema> => {
  const { sequences: _ignored, ...rest } = schema;
  return rest;
};

describe('schema fidelity: generation expressions, invisible columns, ignored indexes, index comments', () => {
  it('MySQL 8.0 and MariaDB spellings give the same schema and the same bytes', () => {
    const [mysql, mariadb] = SPELLINGS.map((s) => buildSemanticSchema(rows(s), s.engine));
    expect(withoutSequences(mariadb!)).toEqual(mysql);
    expect(serializeSchema(withoutSequences(mariadb!))).toBe(serializeSchema(mysql!));
    const columns = Object.fromEntries(mysql!.tables[0]!.columns.map((c) => [c.name, c]));
    expect(columns.tax).toMatchObject({ generated: 'stored', expression: '`price`*0.25' });
    expect(columns.label).toMatchObject({ generated: 'virtual', expression: "concat(`name`,'-','it''s')" });
    expect(columns.internal!.invisible).toBe(true);
    expect('invisible' in columns.price!).toBe(false);
    expect(mysql!.tables[0]!.indexes[1]).toMatchObject({ name: 'ix_price', ignored: true, comment: 'by price' });
    expect(Object.keys(mysql!.tables[0]!.indexes[0]!)).toEqual(['name', 'unique', 'type', 'columns']);
  });

  it.each(SPELLINGS.map((s) => [s.engine.flavor, s] as const))('%s: diff names each change of the ALTER', (_flavor, s) => {
    const before = buildSemanticSchema(rows(s, { altered: false }), s.engine);
    const after = buildSemanticSchema(rows(s), s.engine);
    expect(describeSchemaDiff(diffSchemas(before, after))).toEqual([
      '~ table p',
      '  ~ column internal: invisible no -> yes',
      '  ~ column tax: expression "`price`*0.2" -> "`price`*0.25", generated "virtual" -> "stored"',
      '  ~ index ix_price: comment "" -> "by price", ignored no -> yes',
    ]);
  });

  it.each(SPELLINGS.map((s) => [s.engine.flavor, s] as const))('%s: a changed trigger body is "~ trigger"', (_flavor, s) => {
    const before = buildSemanticSchema(rows(s), s.engine);
    const after = buildSemanticSchema(rows(s, { triggerBody: 'SET NEW.price = NEW.price + 2' }), s.engine);
    expect(describeSchemaDiff(diffSchemas(before, after))).toEqual(['~ trigger p_bi: body changed']);
    expect(isEmptyDiff(diffSchemas(before, buildSemanticSchema(rows(s), s.engine)))).toBe(true);
  });

  it('a schema file written before bodies were recorded compares equal on programs', () => {
    const now = buildSemanticSchema(rows(SPELLINGS[0]!), MYSQL);
    const { bodies: _gone, ...old } = now;
    expect(isEmptyDiff(diffSchemas(old, now))).toBe(true);
  });

  it('a MariaDB sequence is described apart from the tables, and a changed increment is named', () => {
    const before = buildSemanticSchema(rows(SPELLINGS[1]!), MARIADB);
    expect(before.tables.map((t) => t.name)).toEqual(['p']);
    expect(before.sequences).toEqual([{ name: 's', start: '100', increment: '5', min: '1', max: '9223372036854775806', cache: '1000', cycle: false }]);
    const after = buildSemanticSchema(rows(SPELLINGS[1]!, { sequenceIncrement: '10' }), MARIADB);
    expect(describeSchemaDiff(diffSchemas(before, after))).toEqual(['~ sequence s: increment "5" -> "10"']);
    expect(describeSchemaDiff(diffSchemas(buildSemanticSchema(rows(SPELLINGS[0]!), MYSQL), before))).toEqual(['+ sequence s']);
  });
});

describe('normalizeGenerationExpression', () => {
  it.each([
    ['(`a` + `b`)', MYSQL, '`a`+`b`'],
    ['`a` + `b`', MARIADB, '`a`+`b`'],
    ['(`a` + 1) * (`b` + 2)', MARIADB, '(`a`+1)*(`b`+2)'],
    ['UPPER(`Name`)', MARIADB, 'upper(`Name`)'],
    ["concat(`a`,_utf8mb4\\' X \\')", MYSQL, "concat(`a`,' X ')"],
    ["concat(`a`,' X ')", MARIADB, "concat(`a`,' X ')"],
    ["json_unquote(json_extract(`doc`,_utf8mb4\\'$.k\\'))", MYSQL, "json_unquote(json_extract(`doc`,'$.k'))"],
    ["json_unquote(json_extract(`doc`,'$.k'))", MARIADB, "json_unquote(json_extract(`doc`,'$.k'))"],
  ] as const)('%s (%s)', (raw, engine, expected) => expect(normalizeGenerationExpression(raw, engine)).toBe(expected));
});

describe('FLOAT values are written so they read back as the same value', () => {
  it.each([
    ['1.2345677614212036', '1.2345678'],
    ['16777216', '16777216'],
    ['0.10000000149011612', '0.1'],
    ['-3.4028234663852886e38', '-3.4028235e+38'],
    ['1.401298464324817e-45', '1e-45'],
    ['0', '0'],
    ['-0', '-0e0'],
    ['1.2339999675750732', '1.234'],
  ])('%s -> %s', (read, written) => {
    expect(shortestFloat(read)).toBe(written);
    expect(Math.fround(Number(written))).toBe(Math.fround(Number(read)));
    expect(sqlLiteral(Buffer.from(read), 'float')).toBe(written);
  });
});

describe('selectSql', () => {
  const schemaRows = (table: string, columns: [string, string][], primaryKey: string[]): SchemaRows => ({
    database: 'd', schema: { charset: 'utf8mb4', collation: 'utf8mb4_general_ci' }, defaultCollations: [],
    tables: [{ table_name: table, table_type: 'BASE TABLE', engine: 'InnoDB', table_collation: null, table_comment: '' }],
    columns: columns.map(([name, type], i) => ({
      table_name: table, column_name: name, ordinal_position: i + 1, column_default: null, is_nullable: 'YES', column_type: type,
      character_set_name: null, collation_name: null, extra: '', column_comment: '', data_type: type,
    })),
    statistics: primaryKey.map((name, i) => ({
      table_name: table, index_name: 'PRIMARY', non_unique: 0, seq_in_index: i + 1, column_name: name, sub_part: null, index_type: 'BTREE', collation: 'A',
    })),
    foreignKeys: [], routines: [], triggers: [], events: [],
  });
  const plan = (columns: [string, string][], primaryKey: string[] = []) =>
    describeDataTables(schemaRows('t', columns, primaryKey), ['t'], {}).tables.get('t')!;

  it.each([
    [
      'without a primary key: by every column, then by bytes, then by a digest of long values',
      plan([['name', 'varchar'], ['n', 'int'], ['doc', 'text'], ['raw', 'varbinary'], ['f', 'float']]),
      'SELECT `t`.`name`, `t`.`n`, `t`.`doc`, `t`.`raw`, `t`.`f` + 0e0 AS `f` FROM `t` ORDER BY `t`.`name`, `t`.`n`, `t`.`doc`, `t`.`raw`, `t`.`f`, ' +
        'CAST(`t`.`name` AS BINARY), CAST(`t`.`n` AS BINARY), CAST(`t`.`doc` AS BINARY), CAST(`t`.`f` AS BINARY), SHA2(`t`.`doc`, 256)',
    ],
    ['with a primary key: by the key only', plan([['id', 'int'], ['f', 'float']], ['id']), 'SELECT `t`.`id`, `t`.`f` + 0e0 AS `f` FROM `t` ORDER BY `t`.`id`'],
  ])('%s', (_title, table, sql) => expect(selectSql(table)).toBe(sql));
});
