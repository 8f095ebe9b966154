import { describe, expect, test } from 'vitest';
import { compareVersions, migrationPlace, type MigrationPlace } from '../src/internal/migration-order.js';

describe('migrationPlace', () => {
  test.each<[string, string, string, MigrationPlace | undefined]>([
    ['Django, within its app', 'shop', '0002_add_b', { version: ['0002'], global: false }],
    ['a Django merge', 'shop', '0003_merge_20240101_1200', { version: ['0003'], global: false }],
    ['Knex timestamp, across folders', 'migrations', '20260102120000_orders', { version: ['20260102120000'], global: true }],
    ['Sequelize', 'migrations', '20240101000000-create-user', { version: ['20240101000000'], global: true }],
    ['Laravel date, across modules', 'migrations', '2024_01_01_000000_create_users_table', { version: ['2024', '01', '01', '000000'], global: true }],
    ['Flyway version, across folders', 'v1', 'V2_5__early', { version: ['2', '5'], global: true }],
    ['Flyway baseline: always out of place when added', 'migration', 'B2__base', { version: ['2'], global: true, always: true }],
    ['Doctrine', 'Migrations', 'Version20240201000000', { version: ['20240201000000'], global: true }],
    ['Prisma: the folder is the migration', '20240201000000_users', 'migration', { version: ['20240201000000'], global: true }],
    ['golang-migrate up', 'migrations', '000001_users.up', { version: ['000001'], global: true }],
    ['golang-migrate down: never run going up', 'migrations', '000002_b.down', undefined],
    ['a Flyway script config', 'migration', 'V2__x.sql', undefined],
    ['Flyway repeatable', 'migration', 'R__views', undefined],
    ['Alembic revision id', 'versions', '1975ea83b712_a', undefined],
    ["Alembic's dated file_template", 'versions', '2024_01_05_1430-ae1027a6acf2_b', undefined],
    ['a Django name starting with V', 'shop', 'Vacation_0001', undefined],
    ['no number', 'changesets', 'create-users', undefined],
  ])('%s', (_case, app, name, expected) => {
    expect(migrationPlace(app, name)).toEqual(expected);
  });

  test('versions compare number by number, by value', () => {
    expect(compareVersions(['2', '5'], ['10'])).toBeLessThan(0);
    expect(compareVersions(['0002'], ['2'])).toBe(0);
    expect(compareVersions(['2'], ['2', '5'])).toBeLessThan(0);
    expect(compareVersions(['2024', '01', '02'], ['2024', '01', '01', '120000'])).toBeGreaterThan(0);
  });
});
