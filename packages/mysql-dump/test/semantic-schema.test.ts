import { describe, expect, it } from 'vitest';
import { parseServerVersion } from '../src/internal/connect.js';
import { diffSchemas, describeSchemaDiff, isEmptyDiff } from '../src/internal/diff.js';
import { normalizeColumnType } from '../src/internal/normalize-column.js';
import { bodyDigest, buildSemanticSchema, serializeSchema } from '../src/internal/semantic-schema.js';
import { FLAVOURS, recordedRows } from './fixtures/recorded-information-schema.js';

const label = (f: (typeof FLAVOURS)[number]) => `${f.engine.flavor} ${f.engine.version}`;
// The reference is checked against explicit values below; comparing it with itself would prove nothing.
const [referenceFlavour, ...otherFlavours] = FLAVOURS;
const reference = buildSemanticSchema(recordedRows(referenceFlavour!), referenceFlavour!.engine);

describe('semantic schema from recorded information_schema rows', () => {
  it.each(otherFlavours.map((f) => [label(f), f] as const))(`%s gives the same schema as ${label(referenceFlavour!)}`, (_name, flavour) => {
    const schema = buildSemanticSchema(recordedRows(flavour), flavour.engine);
    expect(schema).toEqual(reference);
    expect(serializeSchema(schema)).toBe(serializeSchema(reference));
  });

  it(`the ${label(referenceFlavour!)} reference spells columns in one flavour-independent way`, () => {
    const columns = Object.fromEntries(reference.tables[0]!.columns.map((c) => [c.name, c]));
    expect(columns.id).toMatchObject({ type: 'int', autoIncrement: true, default: null });
    expect(columns.title).toMatchObject({ type: 'varchar(100)', charset: 'utf8mb3', collation: null });
    expect(columns.note).toMatchObject({ nullable: true, default: null });
    expect(columns.status).toMatchObject({ default: "it's new" });
    expect(columns.created).toMatchObject({ default: 'CURRENT_TIMESTAMP(6)', onUpdate: null });
    expect(columns.updated).toMatchObject({ default: 'CURRENT_TIMESTAMP', onUpdate: 'CURRENT_TIMESTAMP' });
    expect(columns.is_paid).toMatchObject({ type: 'tinyint(1)', default: '0' });
    expect(columns.body).toMatchObject({ charset: 'utf8mb4', collation: null });
    expect(columns.code).toMatchObject({ charset: 'latin1', collation: 'latin1_bin' });
    expect(reference.tables[0]!.indexes.map((i) => [i.name, i.columns.map((c) => c.name)])).toEqual([
      ['PRIMARY', ['id']],
      ['shop_order_title_idx', ['title', 'status']],
    ]);
    expect(reference.tables[0]!.indexes[1]!.columns[0]!.prefix).toBe(10);
    expect(reference.tables[0]!.foreignKeys).toEqual([
      { name: 'shop_order_customer_fk', columns: ['customer_id'], referencedTable: 'shop_customer', referencedColumns: ['id'], onUpdate: 'RESTRICT', onDelete: 'CASCADE' },
    ]);
    expect(reference.views.map((v) => v.name)).toEqual(['v_paid']);
  });

  it.each(FLAVOURS.map((f) => [label(f), f] as const))('%s: a real change is still seen', (_name, flavour) => {
    const changed = buildSemanticSchema(recordedRows(flavour, { titleType: 'varchar(200)' }), flavour.engine);
    const diff = diffSchemas(reference, changed);
    expect(isEmptyDiff(diff)).toBe(false);
    expect(describeSchemaDiff(diff)).toEqual(['~ table shop_order', '  ~ column title: type "varchar(100)" -> "varchar(200)"']);
  });
});

describe('semantic schema: CHECK constraints', () => {
  const flavour = (name: string) => FLAVOURS.find((f) => `${f.engine.flavor} ${f.engine.version}`.startsWith(name))!;
  // Django's PositiveIntegerField adds an unnamed column check; MySQL 8 names it <table>_chk_<n> and wraps
  // the clause in parentheses, MariaDB names it after the column. A named check keeps its name.
  const checksOf = (name: string, checks: NonNullable<ReturnType<typeof recordedRows>['checks']>) => {
    const f = flavour(name);
    return buildSemanticSchema({ ...recordedRows(f), checks }, f.engine);
  };
  const mysql = checksOf('mysql 8.0', [
    { table_name: 'shop_order', constraint_name: 'shop_order_chk_1', check_clause: '(`customer_id` >= 0)' },
    { table_name: 'shop_order', constraint_name: 'shop_order_chk_2', check_clause: '(`id` >= 0)' },
    { table_name: 'shop_order', constraint_name: 'title_not_empty', check_clause: "(`title` <> _utf8mb4\\'\\')" },
  ]);
  const mariadb = checksOf('mariadb', [
    { table_name: 'shop_order', constraint_name: 'customer_id', check_clause: '`customer_id` >= 0' },
    { table_name: 'shop_order', constraint_name: 'CONSTRAINT_1', check_clause: '`id` >= 0' },
    { table_name: 'shop_order', constraint_name: 'title_not_empty', check_clause: "`title` <> ''" },
  ]);

  it('generated names are left out, so MySQL 8 and MariaDB give the same schema', () => {
    expect(mariadb.tables[0]!.checks).toEqual([
      { name: '', clause: '`customer_id`>=0' },
      { name: '', clause: '`id`>=0' },
      { name: 'title_not_empty', clause: "`title`<>''" },
    ]);
    expect(serializeSchema(mysql)).toBe(serializeSchema(mariadb));
  });

  it.each([
    ['and', '((`a` >= 0) and (`b` >= 0))', '`a` >= 0 and `b` >= 0', '`a`>=0and`b`>=0'],
    ['or inside and', "(((`a` = 1) or (`b` = 2)) and (`c` is not null))", '(`a` = 1 or `b` = 2) and `c` is not null', '(`a`=1or`b`=2)and`c`isnotnull'],
    ['in and a function', "((`s` in (_utf8mb4\\'x\\',_utf8mb4\\'y\\')) and (char_length(`s`) > 0))", "`s` in ('x','y') and char_length(`s`) > 0", "`s`in('x','y')andchar_length(`s`)>0"],
  ])('a compound clause (%s) reads the same from MySQL 8 and MariaDB', (_case, mysqlClause, mariadbClause, expected) => {
    const mysqlChecks = checksOf('mysql 8.0', [{ table_name: 'shop_order', constraint_name: 'c', check_clause: mysqlClause }]).tables[0]!.checks;
    const mariadbChecks = checksOf('mariadb', [{ table_name: 'shop_order', constraint_name: 'c', check_clause: mariadbClause }]).tables[0]!.checks;
    expect(mariadbChecks).toEqual([{ name: 'c', clause: expected }]);
    expect(mysqlChecks).toEqual(mariadbChecks);
  });

  it.each([
    ['(`a` + 1) * 2 > 0', '`a` + 1 * 2 > 0'],
    ['`a` - (`b` - `c`) > 0', '`a` - `b` - `c` > 0'],
    ['(`a` > 0) = (`b` > 0)', '`a` > 0 = `b` > 0'],
  ])('parentheses that change the meaning stay: %s differs from %s', (kept, other) => {
    const clause = (text: string) => checksOf('mariadb', [{ table_name: 'shop_order', constraint_name: 'c', check_clause: text }]).tables[0]!.checks![0]!.clause;
    expect(clause(kept)).not.toBe(clause(other));
  });

  it('diff names a changed unnamed check by its clause', () => {
    const changed = checksOf('mariadb', [
      { table_name: 'shop_order', constraint_name: 'customer_id', check_clause: '`customer_id` > 0' },
      { table_name: 'shop_order', constraint_name: 'CONSTRAINT_1', check_clause: '`id` >= 0' },
      { table_name: 'shop_order', constraint_name: 'title_not_empty', check_clause: "`title` <> ''" },
    ]);
    expect(describeSchemaDiff(diffSchemas(mariadb, changed))).toEqual(
      expect.arrayContaining(['  + check (unnamed) `customer_id`>0', '  - check (unnamed) `customer_id`>=0']),
    );
  });
});

describe('semantic schema: JSON columns', () => {
  const flavour = (name: string) => FLAVOURS.find((f) => `${f.engine.flavor} ${f.engine.version}`.startsWith(name))!;
  type Rows = ReturnType<typeof recordedRows>;
  const withJson = (name: string, column: Partial<Rows['columns'][number]>, checks: NonNullable<Rows['checks']>) => {
    const f = flavour(name);
    const rows = recordedRows(f);
    const json = { ...rows.columns[0]!, column_name: 'data', ordinal_position: 99, extra: '', column_default: null, is_nullable: 'YES', ...column };
    return buildSemanticSchema({ ...rows, columns: [...rows.columns, json], checks }, f.engine);
  };
  // information_schema as MariaDB 10.11 and MySQL 9.7 gave it for `data JSON NULL` (and Django's JSONField).
  const mariadb = withJson('mariadb', { column_type: 'longtext', character_set_name: 'utf8mb4', collation_name: 'utf8mb4_bin' }, [
    { table_name: 'shop_order', constraint_name: 'data', check_clause: 'json_valid(`data`)' },
  ]);
  const mysql = withJson('mysql 8.0', { column_type: 'json' }, []);

  it("MariaDB's LONGTEXT with its json_valid check reads as MySQL's json type", () => {
    expect(mariadb.tables[0]!.columns.at(-1)).toMatchObject({ name: 'data', type: 'json', charset: null, collation: null });
    expect(mariadb.tables[0]!.checks ?? []).toEqual([]);
    expect(describeSchemaDiff(diffSchemas(mariadb, mysql))).toEqual([]);
  });

  it.each([
    ['a check of its own name (a constraint the service declared)', 'must_be_json', 'json_valid(`data`)', 'utf8mb4_bin'],
    ['another clause', 'data', 'json_valid(`data`) and json_length(`data`) < 5', 'utf8mb4_bin'],
    ['another collation', 'data', 'json_valid(`data`)', 'utf8mb4_unicode_ci'],
  ])('a LONGTEXT column stays LONGTEXT with %s', (_case, name, clause, collation) => {
    const schema = withJson('mariadb', { column_type: 'longtext', character_set_name: 'utf8mb4', collation_name: collation }, [{ table_name: 'shop_order', constraint_name: name, check_clause: clause }]);
    expect(schema.tables[0]!.columns.at(-1)!.type).toBe('longtext');
    expect(schema.tables[0]!.checks).toHaveLength(1);
  });
});

describe('semantic schema: indexes', () => {
  const flavour = referenceFlavour!;

  it('does not depend on the order information_schema returns the statistics rows in', () => {
    const rows = recordedRows(flavour);
    for (const statistics of [[...rows.statistics].reverse(), [rows.statistics[2]!, rows.statistics[0]!, rows.statistics[1]!]]) {
      const schema = buildSemanticSchema({ ...rows, statistics }, flavour.engine);
      expect(schema.tables[0]!.indexes.map((i) => i.name)).toEqual(['PRIMARY', 'shop_order_title_idx']);
      expect(schema).toEqual(reference);
      expect(serializeSchema(schema)).toBe(serializeSchema(reference));
    }
  });

  it('records a descending index column (collation D) and the diff shows it', () => {
    const rows = recordedRows(flavour);
    const statistics = rows.statistics.map((s) => (s.index_name === 'shop_order_title_idx' && s.column_name === 'status' ? { ...s, collation: 'D' } : s));
    const schema = buildSemanticSchema({ ...rows, statistics }, flavour.engine);
    expect(schema.tables[0]!.indexes[1]!.columns).toEqual([
      { name: 'title', prefix: 10, descending: false },
      { name: 'status', prefix: null, descending: true },
    ]);
    const diff = diffSchemas(reference, schema);
    expect(isEmptyDiff(diff)).toBe(false);
    expect(describeSchemaDiff(diff)).toEqual([
      '~ table shop_order',
      '  ~ index shop_order_title_idx: columns (title(10), status) -> (title(10), status DESC)',
    ]);
  });
});

describe('normalizeColumnType', () => {
  it.each([
    ['int(11)', 'int'],
    ['INT(10) UNSIGNED', 'int unsigned'],
    ['bigint(20)', 'bigint'],
    ['tinyint(1)', 'tinyint(1)'],
    ['tinyint(4)', 'tinyint'],
    ['smallint(5) unsigned', 'smallint unsigned'],
    ['year(4)', 'year'],
    ['decimal(10,2)', 'decimal(10,2)'],
    ["enum('a','int(3)')", "enum('a','int(3)')"],
    ["ENUM('Yes','No')", "enum('Yes','No')"],
  ])('%s -> %s', (input, output) => expect(normalizeColumnType(input)).toBe(output));
});

describe('parseServerVersion', () => {
  it.each([
    ['10.11.6-MariaDB-1:10.11.6+maria~ubu2204', { flavor: 'mariadb', version: '10.11.6' }],
    ['5.5.5-10.11.6-MariaDB', { flavor: 'mariadb', version: '5.5.5' }],
    ['8.0.36', { flavor: 'mysql', version: '8.0.36' }],
    ['8.4.0-commercial', { flavor: 'mysql', version: '8.4.0' }],
    ['5.7.44-log', { flavor: 'mysql', version: '5.7.44' }],
  ])('%s', (input, expected) => expect(parseServerVersion(input)).toEqual(expected));
});

describe('bodyDigest', () => {
  // information_schema bodies as MySQL 9.7 keeps them for programs created with more statements after them
  // in one query, and as it keeps them once the dump (which drops that `;`) is loaded.
  it.each([
    ['RETURN 1;', 'RETURN 1'],
    ['SELECT 1 -- note\n        ;', 'SELECT 1 -- note'],
    ['BEFORE INSERT ON t\nSET NEW.id = 1;', 'BEFORE INSERT ON t\nSET NEW.id = 1'],
  ])('%j digests like its reload %j', (kept, reloaded) => expect(bodyDigest(kept)).toBe(bodyDigest(reloaded)));

  it.each([
    ['a different body', 'RETURN 1', 'RETURN 2'],
    ['a `;` inside a string', "RETURN ';'", "RETURN ''"],
  ])('%s still differs', (_what, a, b) => expect(bodyDigest(a)).not.toBe(bodyDigest(b)));

  it('a body the default sql_mode cannot lex (NO_BACKSLASH_ESCAPES) is digested as it is', () => {
    expect(bodyDigest("RETURN 'C:\\'")).toMatch(/^[0-9a-f]{16}$/);
  });
});
