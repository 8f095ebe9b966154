import { describe, expect, it } from 'vitest';
import { describeDataTables, resolveDataTables } from '../src/internal/data-plan.js';
import { UnknownDataTableError, UnknownVolatileColumnError } from '../src/internal/errors.js';
import type { SchemaRows } from '../src/internal/semantic-schema.js';
import { applicableRules, DJANGO_RENUMBER_RULES, renumberRows, renumberTables } from '../src/internal/renumber.js';
import { OversizedRowError } from '../src/internal/errors.js';
import { InsertWriter, remapRow, sqlLiteral, type DataTable, type RawRow } from '../src/internal/table-data.js';

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
    ['v1', 'shop'],
    ['blog.v1', 'blog'],
  ])('says the data table %s is a view, not that it does not exist', (name, database) => {
    const views = new Map([['shop', new Set(['v1'])], ['blog', new Set(['v1'])]]);
    expect(() => resolveDataTables([name], tables, views)).toThrow(
      `data table \`${name}\` is a view in \`${database}\`, and data tables must be base tables; remove it from the data tables`,
    );
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

function table(name: string, columns: [string, 'number' | 'string' | 'binary'][], primaryKey: string[]): DataTable {
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

  it('gives ids 1..n in natural-key order of text columns', () => {
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

  it('gives ids 1..n in natural-key order, numbers compared as numbers', () => {
    // content_type_id leads the natural key: by value 9 < 10 < 100, as text '10' < '100' < '9'.
    const rows: RawRow[] = [
      [b('31'), b('10'), b('add_order')],
      [b('32'), b('100'), b('add_basket')],
      [b('33'), b('9'), b('add_user')],
    ];
    const mapping = renumberRows(permission, rows, DJANGO_RENUMBER_RULES[1]!);
    expect(rows.map((r) => r.map((c) => c!.toString()))).toEqual([
      ['1', '9', 'add_user'],
      ['2', '10', 'add_order'],
      ['3', '100', 'add_basket'],
    ]);
    expect(mapping).toEqual(new Map([['33', '1'], ['31', '2'], ['32', '3']]));
  });

  it('breaks natural-key ties by the rest of the row, so the input (id) order never shows', () => {
    // django_migrations has no unique (app, name): a migration recorded twice ties on the natural key.
    const migrations = table('django_migrations', [['id', 'number'], ['app', 'string'], ['name', 'string'], ['applied', 'string']], ['id']);
    const early = [b('7'), b('auth'), b('0001_initial'), b('2020-01-01 10:00:00')];
    const late = [b('3'), b('auth'), b('0001_initial'), b('2024-06-01 00:00:00')];
    const renumbered = (rows: RawRow[]) => {
      const copy = rows.map((r) => [...r]);
      renumberRows(migrations, copy, DJANGO_RENUMBER_RULES[2]!);
      return copy.map((r) => r.map((c) => c!.toString()));
    };
    const expected = [
      ['1', 'auth', '0001_initial', '2020-01-01 10:00:00'],
      ['2', 'auth', '0001_initial', '2024-06-01 00:00:00'],
    ];
    expect(renumbered([early, late])).toEqual(expected);
    expect(renumbered([late, early])).toEqual(expected);
  });

  it.each([
    ['a composite primary key', ['id', 'app_label']],
    ['no primary key', []],
  ])('does not apply a rule whose id is not the whole primary key (%s)', (_, primaryKey) => {
    const composite = table('django_content_type', [['id', 'number'], ['app_label', 'string'], ['model', 'string']], primaryKey);
    expect(applicableRules(DJANGO_RENUMBER_RULES, new Map([['django_content_type', composite]]), [])).toEqual([]);
    expect(applicableRules(DJANGO_RENUMBER_RULES, new Map([['django_content_type', contentType]]), []).map((r) => r.table)).toEqual(['django_content_type']);
  });

  it('a foreign key outside the natural key does not hold a rule back (no false cycle)', () => {
    // cms_page's natural key starts with site_id, so it must wait for django_site; django_site.root_page_id
    // points back at cms_page but is not in django_site's natural key, so it forms no cycle.
    const rules = [
      { table: 'cms_page', id: 'id', naturalKey: ['site_id', 'path'] },
      { table: 'django_site', id: 'id', naturalKey: ['domain'] },
    ];
    const page = table('cms_page', [['id', 'number'], ['site_id', 'number'], ['path', 'string']], ['id']);
    const site = table('django_site', [['id', 'number'], ['domain', 'string'], ['root_page_id', 'number']], ['id']);
    const siteFks = [
      { table: 'cms_page', column: 'site_id', referencedTable: 'django_site', referencedColumn: 'id' },
      { table: 'django_site', column: 'root_page_id', referencedTable: 'cms_page', referencedColumn: 'id' },
    ];
    const ordered = applicableRules(rules, new Map([['cms_page', page], ['django_site', site]]), siteFks);
    expect(ordered.map((r) => r.table)).toEqual(['django_site', 'cms_page']);
  });
});

describe('renumberTables', () => {
  it('remaps a foreign key to a table renumbered later (outside the natural key) once, with the final ids', () => {
    const rules = [
      { table: 'cms_page', id: 'id', naturalKey: ['site_id', 'path'] },
      { table: 'django_site', id: 'id', naturalKey: ['domain'] },
    ];
    const page = table('cms_page', [['id', 'number'], ['site_id', 'number'], ['path', 'string']], ['id']);
    const site = table('django_site', [['id', 'number'], ['domain', 'string'], ['root_page_id', 'number']], ['id']);
    const dumped = new Map([['cms_page', page], ['django_site', site]]);
    const fks = [
      { table: 'cms_page', column: 'site_id', referencedTable: 'django_site', referencedColumn: 'id' },
      { table: 'django_site', column: 'root_page_id', referencedTable: 'cms_page', referencedColumn: 'id' },
    ];
    const ordered = applicableRules(rules, dumped, fks);
    expect(ordered.map((r) => r.table)).toEqual(['django_site', 'cms_page']);
    // Old ids collide with new ones (site 1 becomes 2 and 2 becomes 1), so a value mapped twice would show.
    const rowsPerRule = [
      [[b('1'), b('b.example'), b('42')], [b('2'), b('a.example'), b('2')]],
      [[b('42'), b('1'), b('/')], [b('2'), b('2'), b('/about')]],
    ];
    const ready = renumberTables(ordered, dumped, fks, rowsPerRule);
    const text = (rows: RawRow[] | undefined) => rows?.map((row) => row.map((c) => c?.toString()));
    // Sites by domain: a.example 2 -> 1, b.example 1 -> 2. Pages by (site_id, path): (1, /about) 2 -> 1, (2, /) 42 -> 2.
    expect(text(ready.get('django_site'))).toEqual([['1', 'a.example', '1'], ['2', 'b.example', '2']]);
    expect(text(ready.get('cms_page'))).toEqual([['1', '1', '/about'], ['2', '2', '/']]);
  });
});

describe('remapRow', () => {
  it('rewrites a foreign key column through its mapping and keeps values without one', () => {
    const permission = table('auth_permission', [['id', 'number'], ['content_type_id', 'number'], ['codename', 'string']], ['id']);
    permission.remap.set('content_type_id', new Map([['10', '3'], ['9', '2']]));
    const mapped = remapRow(permission, [b('7'), b('10'), b('add_order')]);
    expect(mapped.map((c) => c!.toString())).toEqual(['7', '3', 'add_order']);
    // 42 points at a content type that is not dumped: kept. The id column has no mapping: kept.
    expect(remapRow(permission, [b('9'), b('42'), b('add_user')]).map((c) => c!.toString())).toEqual(['9', '42', 'add_user']);
    expect(remapRow(permission, [b('8'), null, b('x')])).toEqual([b('8'), null, b('x')]);
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

  // Blobs are written as hex: two characters a byte.
  const blobTable = () => table('files', [['id', 'number'], ['data', 'binary']], ['id']);
  it('refuses a row whose INSERT would exceed max_allowed_packet, naming the table and the row', async () => {
    const writer = new InsertWriter(blobTable(), { write: async () => undefined }, { database: 'shop', maxAllowedPacket: 64 * 1024 });
    await writer.add([b('1'), Buffer.alloc(100)]);
    const big = writer.add([b('2'), Buffer.alloc(40 * 1024)]).then(() => writer.flush());
    await expect(big).rejects.toThrow(OversizedRowError);
    await expect(big).rejects.toThrow(/^row \(id=2\) of data table `files` in `shop` needs an INSERT of 8\d{4} bytes, more than the server's max_allowed_packet \(65536\)/);
  });
  it('under a small max_allowed_packet, rows that each fit go in statements that fit (not refused for their sum)', async () => {
    const statements: string[] = [];
    const writer = new InsertWriter(blobTable(), { write: async (s) => void statements.push(s) }, { database: 'shop', maxAllowedPacket: 1 << 20 });
    // 20 rows of 100 KB (200 KB as hex each): 4 MB in all, each row far under the 1 MiB packet.
    for (let i = 1; i <= 20; i++) await writer.add([b(String(i)), Buffer.alloc(100_000)]);
    await writer.flush();
    expect(statements.length).toBeGreaterThanOrEqual(4);
    for (const statement of statements) expect(Buffer.byteLength(statement)).toBeLessThanOrEqual((1 << 20) - 4096);
    expect(statements.join('').match(/^\(\d+,/gm)).toHaveLength(20);
  });
  it('counts bytes, not UTF-16 code units, and gives a row over 1 MiB a statement of its own', async () => {
    const t = table('notes', [['id', 'number'], ['text', 'string']], ['id']);
    const statements: string[] = [];
    const writer = new InsertWriter(t, { write: async (s) => void statements.push(s) });
    // 400 Ki characters of 3 bytes each: 1.2 MiB, though under 1 Mi code units.
    await writer.add([b('1'), b('☃'.repeat(400 * 1024))]);
    await writer.add([b('2'), b('x')]);
    await writer.add([b('3'), b('y'.repeat(1 << 20))]);
    await writer.flush();
    expect(statements.map((s) => s.split('\n').length - 1)).toEqual([2, 2, 2]);
    expect(statements[1]).toContain("(2,'x');\n");
  });
});
