import { describe, expect, it } from 'vitest';
import { describeSchemaDiff, diffSchemas, isEmptyDiff, type SemanticSchema, type SemanticTable } from '../src/index.js';

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
    ['changed', [view('int')], [view('bigint')], `~ view v_paid: columns ${JSON.stringify([column('id')])} -> ${JSON.stringify([column('id', 'bigint')])}`],
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
