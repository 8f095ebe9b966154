import { describe, expect, it } from 'vitest';
import { describeSchemaDiff, diffSchemas, isEmptyDiff, type SemanticIndex, type SemanticSchema, type SemanticTable } from '../src/index.js';

const column = (name: string, type = 'int') => ({
  name, type, nullable: false, default: null, charset: null, collation: null, autoIncrement: false, onUpdate: null, generated: null, comment: '',
});
const tableOf = (name: string, columns = [column('id')]): SemanticTable => ({
  name, engine: 'InnoDB', charset: 'utf8mb4', collation: null, comment: '', columns,
  indexes: [{ name: 'PRIMARY', unique: true, type: 'BTREE', columns: [{ name: 'id', prefix: null, descending: false }] }],
  foreignKeys: [],
});
const schemaOf = (tables: SemanticTable[], extra: Partial<SemanticSchema> = {}): SemanticSchema => ({
  format: 1, charset: 'utf8mb4', collation: null, tables, views: [], routines: [], triggers: [], events: [], ...extra,
});

describe('diffSchemas', () => {
  it.each([
    ['a changed clause', [{ name: 'qty_pos', clause: '`qty`>=0' }], [{ name: 'qty_pos', clause: '`qty`>0' }], '  ~ check qty_pos: clause "`qty`>=0" -> "`qty`>0"'],
    ['an added check', undefined, [{ name: 'qty_pos', clause: '`qty`>0' }], '  + check qty_pos'],
    ['a removed check', [{ name: 'qty_pos', clause: '`qty`>0' }], undefined, '  - check qty_pos'],
  ])('reports CHECK constraints: %s', (_what, from, to, line) => {
    const table = (checks: SemanticTable['checks']) => schemaOf([{ ...tableOf('orders'), ...(checks ? { checks } : {}) }]);
    expect(describeSchemaDiff(diffSchemas(table(from), table(to)))).toEqual(['~ table orders', line]);
  });

  it('is empty for equal schemas', () => {
    const a = schemaOf([tableOf('a')]);
    expect(isEmptyDiff(diffSchemas(a, structuredClone(a)))).toBe(true);
    expect(describeSchemaDiff(diffSchemas(a, a))).toEqual([]);
  });

  it('names added, removed and changed tables, columns, indexes and foreign keys', () => {
    const before = schemaOf([tableOf('gone'), tableOf('orders', [column('id'), column('total'), column('old')])], { triggers: ['t1'] });
    const orders = tableOf('orders', [column('id'), column('total', 'bigint'), column('note', 'varchar(10)')]);
    orders.indexes.push({ name: 'orders_total', unique: false, type: 'BTREE', columns: [{ name: 'total', prefix: null, descending: false }] });
    orders.foreignKeys.push({ name: 'orders_fk', columns: ['id'], referencedTable: 'x', referencedColumns: ['id'], onUpdate: 'RESTRICT', onDelete: 'CASCADE' });
    const after = schemaOf([orders, tableOf('new_one')], { triggers: ['t2'] });
    const diff = diffSchemas(before, after);
    expect(diff.tables.added).toEqual(['new_one']);
    expect(diff.tables.removed).toEqual(['gone']);
    expect(describeSchemaDiff(diff)).toEqual([
      '+ table new_one',
      '- table gone',
      '~ table orders',
      '  + column note',
      '  - column old',
      '  ~ column total: type "int" -> "bigint"',
      '  + index orders_total',
      '  + foreign key orders_fk',
      '+ trigger t2',
      '- trigger t1',
    ]);
  });

  const view = (type: string) => ({ name: 'v_paid', columns: [column('id', type)] });
  it.each([
    ['added', [], [view('int')], '+ view v_paid'],
    ['removed', [view('int')], [], '- view v_paid'],
    ['changed', [view('int')], [view('bigint')], '~ view v_paid: column id: type "int" -> "bigint"'],
  ])('is not empty when only a view is %s', (_, views, otherViews, line) => {
    const diff = diffSchemas(schemaOf([tableOf('a')], { views }), schemaOf([tableOf('a')], { views: otherViews }));
    expect(isEmptyDiff(diff)).toBe(false);
    expect(describeSchemaDiff(diff)).toEqual([line]);
  });

  it('reports a moved column, but not columns shifted by an insertion', () => {
    const a = schemaOf([tableOf('t', [column('id'), column('a'), column('b')])]);
    const inserted = schemaOf([tableOf('t', [column('id'), column('new'), column('a'), column('b')])]);
    expect(describeSchemaDiff(diffSchemas(a, inserted))).toEqual(['~ table t', '  + column new']);
    const moved = schemaOf([tableOf('t', [column('id'), column('b'), column('a')])]);
    expect(describeSchemaDiff(diffSchemas(a, moved))).toEqual(['~ table t', '  ~ column a: position 2 -> 3', '  ~ column b: position 3 -> 2']);
  });
});

describe('describeSchemaDiff renders each kind of change readably', () => {
  type Index = SemanticIndex;
  type Part = Index['columns'][number];
  const part = (name: string | null, extra: Partial<Part> = {}): Part => ({ name, prefix: null, descending: false, ...extra });
  const index = (columns: Part[], extra: Partial<Index> = {}): Index => ({ name: 'ix_a', unique: false, type: 'BTREE', columns, ...extra });
  const withIndex = (ix: Index) => {
    const t = tableOf('t', [column('id'), column('a_id'), column('b_id'), column('name', 'varchar(100)')]);
    t.indexes.push(ix);
    return schemaOf([t]);
  };

  it.each([
    ['a column added to the key', index([part('a_id')]), index([part('a_id'), part('b_id')]), 'columns (a_id) -> (a_id, b_id)'],
    ['a prefix and DESC', index([part('name')]), index([part('name', { prefix: 10, descending: true })]), 'columns (name) -> (name(10) DESC)'],
    ['made unique', index([part('a_id')]), index([part('a_id')], { unique: true }), 'unique no -> yes'],
    ['made FULLTEXT', index([part('name')]), index([part('name')], { type: 'FULLTEXT' }), 'type BTREE -> FULLTEXT'],
    ['made SPATIAL', index([part('name')]), index([part('name')], { type: 'SPATIAL' }), 'type BTREE -> SPATIAL'],
    [
      'a functional key part',
      index([part(null, { expression: 'lower(`name`)' })]),
      index([part(null, { expression: 'upper(`name`)', descending: true }), part('id')]),
      'columns ((lower(`name`))) -> ((upper(`name`)) DESC, id)',
    ],
    ['ignored, with a comment', index([part('a_id')]), index([part('a_id')], { ignored: true, comment: 'by a' }), 'comment "" -> "by a", ignored no -> yes'],
    [
      'a long expression that changes at its end: both sides cut where they differ, so they never read alike',
      index([part(null, { expression: `lower(concat(${'first_name, '.repeat(12)}suffix))` })]),
      index([part(null, { expression: `lower(concat(${'first_name, '.repeat(12)}prefix))` })]),
      'columns …t_name, first_name, suffix)))) -> …t_name, first_name, prefix))))',
    ],
  ])('index: %s', (_case, before, after, detail) => {
    expect(describeSchemaDiff(diffSchemas(withIndex(before), withIndex(after)))).toEqual(['~ table t', `  ~ index ix_a: ${detail}`]);
  });

  const fk = { name: 'fk_c', columns: ['a_id'], referencedTable: 'customer', referencedColumns: ['id'], onUpdate: 'RESTRICT', onDelete: 'RESTRICT' };
  const withFk = (change: Partial<typeof fk>) => {
    const t = tableOf('t', [column('id'), column('a_id'), column('b_id')]);
    t.foreignKeys.push({ ...fk, ...change });
    return schemaOf([t]);
  };
  it.each([
    ['columns', { columns: ['a_id', 'b_id'], referencedColumns: ['id', 'code'] }, 'columns (a_id) -> (a_id, b_id), referencedColumns (id) -> (id, code)'],
    ['target table', { referencedTable: 'crm.client' }, 'referencedTable customer -> crm.client'],
    ['rules', { onDelete: 'CASCADE', onUpdate: 'SET NULL' }, 'onDelete RESTRICT -> CASCADE, onUpdate RESTRICT -> SET NULL'],
  ])('foreign key: %s', (_case, change, detail) => {
    expect(describeSchemaDiff(diffSchemas(withFk({}), withFk(change)))).toEqual(['~ table t', `  ~ foreign key fk_c: ${detail}`]);
  });

  const orders = (change: Partial<SemanticTable>) => schemaOf([{ ...tableOf('orders', [column('id'), column('total')]), ...change }]);
  const long = `${'x'.repeat(150)}`;
  it.each([
    ['table options', orders({}), orders({ engine: 'MyISAM', comment: 'orders' }), ['~ table orders', '  ~ options: comment "" -> "orders", engine "InnoDB" -> "MyISAM"']],
    [
      'column flags',
      orders({}),
      orders({ columns: [column('id'), { ...column('total', 'bigint'), nullable: true, invisible: true }] }),
      ['~ table orders', '  ~ column total: invisible no -> yes, nullable no -> yes, type "int" -> "bigint"'],
    ],
    [
      'a long column comment, cut where it differs',
      orders({ columns: [column('id'), { ...column('total'), comment: `${long}a` }] }),
      orders({ columns: [column('id'), { ...column('total'), comment: `${long}b` }] }),
      ['~ table orders', `  ~ column total: comment "…${'x'.repeat(20)}a" -> "…${'x'.repeat(20)}b"`],
    ],
    ['database charset', schemaOf([tableOf('a')], { charset: 'utf8mb3' }), schemaOf([tableOf('a')]), ['~ database: charset "utf8mb3" -> "utf8mb4"']],
    [
      'view columns added',
      schemaOf([], { views: [{ name: 'v_orders', columns: [column('id'), column('total')] }] }),
      schemaOf([], { views: [{ name: 'v_orders', columns: [column('id'), column('total'), column('currency', 'char(3)')] }] }),
      ['~ view v_orders: columns (id, total) -> (id, total, currency)'],
    ],
    [
      'view columns renamed and retyped',
      schemaOf([], { views: [{ name: 'v_orders', columns: [column('id'), column('total')] }] }),
      schemaOf([], { views: [{ name: 'v_orders', columns: [column('id', 'bigint'), column('amount')] }] }),
      ['~ view v_orders: columns (id, total) -> (id, amount); column id: type "int" -> "bigint"'],
    ],
    [
      'a wide view gains a column',
      schemaOf([], { views: [{ name: 'v_wide', columns: Array.from({ length: 40 }, (_, i) => column(`column_${i}`)) }] }),
      schemaOf([], { views: [{ name: 'v_wide', columns: [...Array.from({ length: 40 }, (_, i) => column(`column_${i}`)), column('currency')] }] }),
      ['~ view v_wide: columns +currency'],
    ],
    [
      'sequence',
      schemaOf([], { sequences: [{ name: 's', start: '1', increment: '1', min: '1', max: '100', cache: '0', cycle: false }] }),
      schemaOf([], { sequences: [{ name: 's', start: '1', increment: '5', min: '1', max: '100', cache: '0', cycle: true }] }),
      ['~ sequence s: cycle no -> yes, increment "1" -> "5"'],
    ],
    [
      'stored program bodies',
      schemaOf([], { routines: ['FUNCTION f'], triggers: ['t_bi'], events: ['e'], bodies: { routines: { 'FUNCTION f': '1' }, triggers: { t_bi: '1' }, events: { e: '1' } } }),
      schemaOf([], { routines: ['FUNCTION f'], triggers: ['t_bi'], events: ['e'], bodies: { routines: { 'FUNCTION f': '2' }, triggers: { t_bi: '2' }, events: { e: '2' } } }),
      ['~ routine FUNCTION f: body changed', '~ trigger t_bi: body changed', '~ event e: body changed'],
    ],
  ])('%s', (_case, before, after, lines) => {
    expect(describeSchemaDiff(diffSchemas(before, after))).toEqual(lines);
  });

  it('never prints JSON and keeps every line short', () => {
    const wide = (n: number) => index(Array.from({ length: n }, (_, i) => part(`a_rather_long_column_name_${i}`, { prefix: 191 })));
    const lines = describeSchemaDiff(diffSchemas(withIndex(wide(8)), withIndex(wide(9))));
    expect(lines).toEqual(['~ table t', '  ~ index ix_a: columns +a_rather_long_column_name_8(191)']);
    for (const line of lines) expect(line).not.toMatch(/[{[]"/);
  });
});
