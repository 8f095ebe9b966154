import { describe, expect, test } from 'vitest';
import { fingerprintMigrations, type MigrationRecord } from '@org/dump-versioning';
import { describePending, pendingMigrations } from '../src/internal/pending.js';

const hash = (text: string) => text.padEnd(64, '0').replace(/[^0-9a-f]/g, 'a').slice(0, 64);
const tree = (...names: string[]) =>
  fingerprintMigrations(names.map((qualified): MigrationRecord => {
    const [app, name, content = name] = qualified.split(/[.:]/) as [string, string, string?];
    return { app, name, sha256: hash(content) };
  }));

describe('pendingMigrations', () => {
  const dumped = tree('accounts.0001_initial', 'accounts.0002_locale', 'catalog.0001_initial');

  test('the same migrations: nothing pending', () => {
    expect(pendingMigrations(dumped, tree('catalog.0001_initial', 'accounts.0002_locale', 'accounts.0001_initial'))).toEqual({ state: 'up-to-date', pending: [], edited: [], removed: [] });
  });

  test('exactly the migrations the working tree adds are pending, in app then name order', () => {
    const working = tree('accounts.0001_initial', 'accounts.0002_locale', 'accounts.0003_timezone', 'catalog.0001_initial', 'orders.0001_initial', 'catalog.0002_weight');
    expect(pendingMigrations(dumped, working)).toEqual({ state: 'pending', pending: ['accounts.0003_timezone', 'catalog.0002_weight', 'orders.0001_initial'], edited: [], removed: [] });
  });

  test('an edited or removed migration the dump has is reported as rewritten, additions still pending', () => {
    const working = tree('accounts.0001_initial', 'accounts.0002_locale:changed', 'accounts.0003_timezone');
    expect(pendingMigrations(dumped, working)).toEqual({ state: 'rewritten', pending: ['accounts.0003_timezone'], edited: ['accounts.0002_locale'], removed: ['catalog.0001_initial'] });
  });

  test('a dump without a fingerprint gives unknown', () => {
    expect(pendingMigrations(undefined, dumped).state).toBe('unknown');
  });
});

describe('describePending', () => {
  test('lists pending migrations and the command to run them', () => {
    expect(describePending({ state: 'pending', pending: ['accounts.0003_timezone'], edited: [], removed: [] }, 'python manage.py migrate', 'abc')).toEqual([
      'pending    1 migration(s) in the working tree are not in the dump:',
      '             accounts.0003_timezone',
      'run        python manage.py migrate',
    ]);
  });

  test('says clearly when the tree rewrote a migration the dump has', () => {
    const lines = describePending({ state: 'rewritten', pending: [], edited: ['catalog.0004_weight'], removed: [] }, 'make migrate', 'abc');
    expect(lines).toContain('WARNING    the working tree rewrote migration(s) the dump already has:');
    expect(lines).toContain('             edited   catalog.0004_weight');
    expect(lines.join('\n')).toMatch(/full migrate: empty the databases and run make migrate from scratch/);
    expect(lines.at(-1)).toBe('run        make migrate');
  });

  test('nothing pending says so and prints no command', () => {
    expect(describePending({ state: 'up-to-date', pending: [], edited: [], removed: [] }, 'x', 'abc')).toEqual(['pending    none: the dump has every migration of the working tree']);
  });
});
