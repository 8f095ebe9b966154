import { describe, expect, test } from 'vitest';
import { fingerprintMigrations, type MigrationRecord } from '@org/dump-versioning';
import { NAMES_SHOWN, describePending, isDjangoLayout, joinNames, migrateAdvice, pendingMigrations, type MigrateAdvice } from '../src/internal/pending.js';

const hash = (text: string) => text.padEnd(64, '0').replace(/[^0-9a-f]/g, 'a').slice(0, 64);
const tree = (...names: string[]) =>
  fingerprintMigrations(names.map((qualified): MigrationRecord => {
    const [app, name, content = name] = qualified.split(/[.:]/) as [string, string, string?];
    return { app, name, sha256: hash(content) };
  }));

describe('pendingMigrations', () => {
  const dumped = tree('accounts.0001_initial', 'accounts.0002_locale', 'catalog.0001_initial');

  test('the same migrations: nothing pending', () => {
    expect(pendingMigrations(dumped, tree('catalog.0001_initial', 'accounts.0002_locale', 'accounts.0001_initial'))).toEqual({ state: 'up-to-date', pending: [], addedBefore: [], edited: [], removed: [] });
  });

  test('exactly the migrations the working tree adds are pending, in app then name order', () => {
    const working = tree('accounts.0001_initial', 'accounts.0002_locale', 'accounts.0003_timezone', 'catalog.0001_initial', 'orders.0001_initial', 'catalog.0002_weight');
    expect(pendingMigrations(dumped, working)).toEqual({ state: 'pending', pending: ['accounts.0003_timezone', 'catalog.0002_weight', 'orders.0001_initial'], addedBefore: [], edited: [], removed: [] });
  });

  test('an edited or removed migration the dump has is reported as rewritten, additions still pending', () => {
    const working = tree('accounts.0001_initial', 'accounts.0002_locale:changed', 'accounts.0003_timezone');
    expect(pendingMigrations(dumped, working)).toEqual({ state: 'rewritten', pending: ['accounts.0003_timezone'], addedBefore: [], edited: ['accounts.0002_locale'], removed: ['catalog.0001_initial'] });
  });

  test('an added migration that sorts before one the dump has is named as added before', () => {
    const working = tree('accounts.0001_initial', 'accounts.0001_merged_in', 'accounts.0002_locale', 'catalog.0001_initial');
    expect(pendingMigrations(dumped, working)).toEqual({ state: 'pending', pending: ['accounts.0001_merged_in'], addedBefore: ['accounts.0001_merged_in'], edited: [], removed: [] });
  });

  test('a dump without a fingerprint gives unknown', () => {
    expect(pendingMigrations(undefined, dumped).state).toBe('unknown');
  });
});

describe('pendingMigrations in natural order', () => {
  test('Flyway versions by value: V4 before V10', () => {
    const dumped = tree('migration.V1__init');
    expect(pendingMigrations(dumped, tree('migration.V1__init', 'migration.V10__x', 'migration.V4__y')).pending).toEqual(['migration.V4__y', 'migration.V10__x']);
  });

  test('a `migrations` folder at the top reads as `migrations`, not `.`', () => {
    const workingTree = fingerprintMigrations([{ app: '.', name: '20240201-create-orders', sha256: hash('orders') }]);
    expect(pendingMigrations(tree(), workingTree).pending).toEqual(['migrations.20240201-create-orders']);
  });
});

describe('isDjangoLayout', () => {
  test.each<[string[], boolean]>([
    [['**/migrations/[0-9]*.py'], true],
    [['lms/**/migrations/*.py', 'common/*/migrations/[0-9]*.py'], true],
    [['**/migrations/[0-9]*.py', '!vendor/**'], true],
    [['**/migrations/[0-9]*.py', 'mongo/indexes.json'], true],
    [['**/migrations/[0-9]*.py', 'activity/mongo_schema.py'], true],
    [['migrations/*.py'], false],
    [['db/migrations/*.py'], false],
    [['src/migrations/*.py'], false],
    [['alembic/versions/*.py'], false],
    [['migrations/versions/*.py'], false],
    [['migrations/*.js'], false],
    [['db/migration/*.sql'], false],
    [['migrations/*.up.sql'], false],
    [['!**/migrations/0001_initial.py'], false],
    [[], false],
  ])('%j: %s', (globs, expected) => {
    expect(isDjangoLayout(globs)).toBe(expected);
  });
});

describe('migrateAdvice', () => {
  test.each<[string | undefined, string[], MigrateAdvice]>([
    [undefined, ['**/migrations/[0-9]*.py'], { command: 'python manage.py migrate', django: true }],
    [undefined, ['migrations/*.js'], { command: undefined, django: false }],
    ['npx migrate-mongo up', ['migrations/*.js'], { command: 'npx migrate-mongo up', django: false }],
    ['make migrate', ['**/migrations/[0-9]*.py'], { command: 'make migrate', django: true }],
  ])('--migrate-command %j with %j', (given, globs, expected) => {
    expect(migrateAdvice(given, globs)).toEqual(expected);
  });
});

describe('describePending', () => {
  test('a branch with 2000 new migrations: the first ones, the count of the rest, then what to run', () => {
    const pending = Array.from({ length: 2000 }, (_, i) => `bulk.${String(i + 1).padStart(4, '0')}_generated`);
    const lines = describePending({ state: 'pending', pending, addedBefore: [], edited: [], removed: [] }, { command: 'make migrate', django: true }, 'abc');
    expect(lines).toHaveLength(1 + NAMES_SHOWN + 1 + 1);
    expect(lines[1]).toBe('             bulk.0001_generated');
    expect(lines.at(-2)).toBe(`             ... and ${2000 - NAMES_SHOWN} more (--json lists every one)`);
    expect(lines.at(-1)).toBe('run        make migrate');
  });

  test('a rewrite that removed 1000 migrations: a bounded warning', () => {
    const removed = Array.from({ length: 1000 }, (_, i) => `old.${i}`);
    const lines = describePending({ state: 'rewritten', pending: [], addedBefore: [], edited: ['a.1'], removed }, { command: 'make migrate', django: true }, 'abc');
    expect(lines.filter((line) => line.includes('removed  '))).toHaveLength(NAMES_SHOWN + 1);
    expect(joinNames(removed)).toBe(`${removed.slice(0, 10).join(', ')} and 990 more`);
    expect(joinNames(['a', 'b'])).toBe('a, b');
  });

  const django: MigrateAdvice = { command: 'python manage.py migrate', django: true };
  const unnamed: MigrateAdvice = { command: undefined, django: false };

  test('lists pending migrations and the command to run them', () => {
    expect(describePending({ state: 'pending', pending: ['accounts.0003_timezone'], addedBefore: [], edited: [], removed: [] }, django, 'abc')).toEqual([
      'pending    1 migration(s) in the working tree are not in the dump:',
      '             accounts.0003_timezone',
      'run        python manage.py migrate',
    ]);
  });

  test('says clearly when the tree rewrote a migration the dump has', () => {
    const lines = describePending({ state: 'rewritten', pending: [], addedBefore: [], edited: ['catalog.0004_weight'], removed: [] }, { command: 'make migrate', django: true }, 'abc');
    expect(lines).toContain('WARNING    the working tree rewrote migration(s) the dump already has:');
    expect(lines).toContain('             edited   catalog.0004_weight');
    expect(lines.join('\n')).toMatch(/full migrate: empty the databases and run make migrate from scratch/);
    expect(lines.at(-1)).toBe('run        make migrate');
  });

  test('a migration added before ones the dump has (merged from an older branch) gets a note', () => {
    const lines = describePending({ state: 'pending', pending: ['accounts.0003_early', 'accounts.0006_late'], addedBefore: ['accounts.0003_early'], edited: [], removed: [] }, django, 'abc');
    expect(lines).toContain('note       accounts.0003_early: numbered at or before migrations the dump already has (merged from an older branch?):');
    expect(lines.at(-1)).toBe('run        python manage.py migrate');
  });

  test('nothing pending says so and prints no command', () => {
    expect(describePending({ state: 'up-to-date', pending: [], addedBefore: [], edited: [], removed: [] }, django, 'abc')).toEqual(['pending    none: the dump has every migration of the working tree']);
  });

  test.each<[string, MigrateAdvice, string[]]>([
    ['Django', django, ['           the loaded schema may not match this code, and python manage.py migrate will not re-run edited migrations;', '           for an exact schema do a full migrate: empty the databases and run python manage.py migrate from scratch.', 'run        python manage.py migrate']],
    ['another tool, unnamed', unnamed, ['           the loaded schema may not match this code, and your migrate command may not re-run edited migrations;', "           for an exact schema do a full migrate: empty the databases and run the service's migrate command from scratch.", "run        the service's migrate command (name it with --migrate-command)"]],
    ['another tool, named', { command: 'flyway migrate', django: false }, ['           the loaded schema may not match this code, and flyway migrate may not re-run edited migrations;', '           for an exact schema do a full migrate: empty the databases and run flyway migrate from scratch.', 'run        flyway migrate']],
  ])('a rewritten tree, %s: names Django only for Django', (_name, advice, expected) => {
    expect(describePending({ state: 'rewritten', pending: [], addedBefore: [], edited: ['migration.V2__b'], removed: [] }, advice, 'abc').slice(-3)).toEqual(expected);
  });

  test.each<[string, MigrateAdvice, string]>([
    ['pending', unnamed, "run        the service's migrate command (name it with --migrate-command)"],
    ['unknown', unnamed, "run        the service's migrate command (name it with --migrate-command)   (applies whatever the dump lacks)"],
  ])('%s, without a command for a non-Django service: a generic instruction', (state, advice, expected) => {
    const result = { state: state as 'pending' | 'unknown', pending: state === 'pending' ? ['migrations.20240201-create-orders'] : [], addedBefore: [], edited: [], removed: [] };
    expect(describePending(result, advice, 'abc').at(-1)).toBe(expected);
  });
});
