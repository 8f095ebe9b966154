import { describe, expect, it } from 'vitest';
import { describeDataTables, resolveDataTables } from '../src/internal/data-plan.js';
import { UnknownDataTableError, UnknownVolatileColumnError } from '../src/internal/errors.js';
import type { SchemaRows } from '../src/internal/semantic-schema.js';
import { applicableRules, DJANGO_RENUMBER_RULES, renumberRows } from '../src/internal/renumber.js';
import { InsertWriter, sqlLiteral, type DataTable, type RawRow } from '../src/internal/table-data.js';

const tables = new Map([
  ['shop', new Set(['django_migrations', 'auth_user', 'django_site', 'orders'])],
  // A table whose own name has a dot: a bare name, not `database.table`.
  ['blog', new Set(['django_migrations', 'posts', 'v1.2_archive'])],
]);

describe('resolveDataTables', () => {
  it('uses the Django reference tables that exist, never user tables', () => {
    expect(resolveDataTables(undefined, tables)).toEqual(
      new Map([
        ['shop', ['django_migrations', 'django_site']],
        ['blog', ['django_migrations']],
      ]),
    );
  });
  it.each([
    [['posts', 'shop.orders'], [['shop', ['orders']], ['blog', ['posts']]]],
    [['django_migrations'], [['shop', ['django_migrations']], ['blog', ['django_migrations']]]],
    [['blog.django_migrations'], [['shop', []], ['blog', ['django_migrations']]]],
    [['v1.2_archive'], [['shop', []], ['blog', ['v1.2_archive']]]],
  ])('takes bare and database-qualified names: %j', (requested, expected) => {
    expect(resolveDataTables(requested, tables)).toEqual(new Map(expected as [string, string[]][]));
  });
  it('includes a user table only when it is listed', () => {
    expect(resolveDataTables(['auth_user'], tables).get('shop')).toEqual(['auth_user']);
  });
  it.each([
    ['no_such', '`no_such` does not exist in `shop`, `blog`'],
    ['blog.orders', '`blog.orders` does not exist in `blog`'],
  ])('names the unknown table %s', (name, message) => {
    expect(() => resolveDataTables([name], tables)).toThrow(UnknownDataTableError);
    expect(() => resolveDataTables([name], tables)).toThrow(message);
  });
  it.each([
    ['otherdb.t', 'otherdb'],
    ['otherdb.orders', 'otherdb'], // `orders` exists in shop, but the entry asked for otherdb's
    ['archive.v1.2_archive', 'archive'],
  ])('says the database of %s is not dumped', (name, database) => {
    const error = (() => {
      try {
        resolveDataTables(['posts', name], tables);
      } catch (caught) {
        return caught;
      }
      throw new Error(`${name} was accepted`);
    })();
    expect(error).toBeInstanceOf(UnknownDataTableError);
    expect(error).toMatchObject({ table: name, undumpedDatabase: database });
    expect((error as Error).message).toBe(
      `data table \`${name}\` names database \`${database}\`, which is not dumped (dumped: \`shop\`, \`blog\`); ` +
        `add \`${database}\` to the databases to dump, or remove the entry from the data tables`,
    );
  });
});

/** information_schema rows of database `shop`: `app_event` (id, recorded_at, host) and `other` (id). */
function eventRows(): SchemaRows {
  const column = (table: string, position: number, name: string, dataType: string): SchemaRows['columns'][number] => ({
    table_name: table, column_name: name, ordinal_position: position, column_default: null, is_nullable: 'YES',
    column_type: dataType, character_set_name: null, collation_name: null, extra: '', column_comment: '', data_type: dataType,
  });
  return {
    database: 'shop',
    schema: { charset: 'utf8mb4', collation: 'utf8mb4_general_ci' },
    defaultCollations: [],
    tables: [],
    columns: [column('app_event', 1, 'id', 'int'), column('app_event', 2, 'recorded_at', 'datetime'), column('app_event', 3, 'host', 'varchar'), column('other', 1, 'id', 'int')],
    statistics: [],
    foreignKeys: [],
    routines: [],
    triggers: [],
    events: [],
  };
}

describe('describeDataTables: volatile columns', () => {
  it.each([
    [{ 'app_event.recorded_at': '2000-01-01 00:00:00' }, [['recorded_at', "'2000-01-01 00:00:00'"]]],
    [{ 'app_event.host': null }, [['host', 'NULL']]],
    [{ 'app_event.host': "it's" }, [['host', "'it\\'s'"]]],
    // Column names are case-insensitive in MySQL: the table's own spelling is kept.
    [{ 'app_event.HOST': null }, [['host', 'NULL']]],
    // A table that is not a data table of this database (another database may have it) is skipped.
    [{ 'other.id': '0', 'django_migrations.applied': 'x' }, []],
  ] as const)('%j fixes %j', (volatile, fixed) => {
    const { tables } = describeDataTables(eventRows(), ['app_event'], volatile);
    expect([...tables.get('app_event')!.fixedValues]).toEqual(fixed);
  });
  // `applied` has no table part: never silently ignored.
  it.each([['app_event.no_such_column'], ['app_event.recorded'], ['applied'], ['.applied']])('names the unknown column %s', (key) => {
    expect(() => describeDataTables(eventRows(), ['app_event'], { [key]: 'x' })).toThrow(UnknownVolatileColumnError);
    expect(() => describeDataTables(eventRows(), ['app_event'], { [key]: 'x' })).toThrow(`volatile column \`${key}\` does not exist in database \`shop\``);
  });
});

const b = (s: string | null) => (s === null ? null : Buffer.from(s, 'utf8'));

describe('sqlLiteral', () => {
  it.each([
    [null, 'string', 'NULL'],
    ['42', 'number', '42'],
    ['-1.50', 'number', '-1.50'],
    ["it's \\ \n", 'string', "'it\\'s \\\\ \\n'"],
    ['☃', 'string', "'☃'"],
  ] as const)('%j as %s -> %s', (value, kind, literal) => expect(sqlLiteral(b(value), kind)).toBe(literal));
  it('writes binary as a hex literal, empty included', () => {
    expect(sqlLiteral(Buffer.from([0, 255]), 'binary')).toBe("X'00ff'");
    expect(sqlLiteral(Buffer.alloc(0), 'binary')).toBe("X''");
  });
});

function table(name: string, columns: [string, 'number' | 'string'][], primaryKey: string[]): DataTable {
  return { name, columns: columns.map(([n, kind]) => ({ name: n, kind })), primaryKey, fixedValues: new Map(), remap: new Map() };
}

describe('renumbering', () => {
  const contentType = table('django_content_type', [['id', 'number'], ['app_label', 'string'], ['model', 'string']], ['id']);
  const permission = table('auth_permission', [['id', 'number'], ['content_type_id', 'number'], ['codename', 'string']], ['id']);
  const fks = [{ table: 'auth_permission', column: 'content_type_id', referencedTable: 'django_content_type', referencedColumn: 'id' }];

  it('orders rules so a natural key that points at another renumbered table comes after it', () => {
    const rules = applicableRules([...DJANGO_RENUMBER_RULES].reverse(), new Map([['auth_permission', permission], ['django_content_type', contentType]]), fks);
    expect(rules.map((r) => r.table)).toEqual(['django_content_type', 'auth_permission']);
  });

  it('gives ids 1..n in natural-key order, numbers compared as numbers', () => {
    const rows: RawRow[] = [
      [b('10'), b('shop'), b('order')],
      [b('9'), b('auth'), b('user')],
      [b('100'), b('auth'), b('group')],
    ];
    const mapping = renumberRows(contentType, rows, DJANGO_RENUMBER_RULES[0]!);
    expect(rows.map((r) => r.map((c) => c!.toString()))).toEqual([
      ['1', 'auth', 'group'],
      ['2', 'auth', 'user'],
      ['3', 'shop', 'order'],
    ]);
    expect(mapping).toEqual(new Map([['100', '1'], ['9', '2'], ['10', '3']]));
  });
});

describe('InsertWriter', () => {
  it('writes one row per line and applies fixed (volatile) values', async () => {
    const t = table('django_migrations', [['id', 'number'], ['app', 'string'], ['applied', 'string']], ['id']);
    t.fixedValues.set('applied', "'2000-01-01 00:00:00'");
    let out = '';
    const writer = new InsertWriter(t, { write: async (s) => void (out += s) });
    await writer.add([b('1'), b('auth'), b('2024-05-05 10:00:00.123456')]);
    await writer.add([b('2'), b('shop'), b('2021-01-01 00:00:00')]);
    await writer.flush();
    expect(out).toBe(
      "INSERT INTO `django_migrations` (`id`, `app`, `applied`) VALUES\n(1,'auth','2000-01-01 00:00:00'),\n(2,'shop','2000-01-01 00:00:00');\n",
    );
  });
});
