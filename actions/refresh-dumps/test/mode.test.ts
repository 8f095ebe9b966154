import { createHash } from 'node:crypto';
import { fingerprintMigrations, type MigrationRecord } from '@org/dump-versioning';
import { describe, expect, test } from 'vitest';
import type { Mode } from '../src/context.js';
import { databasesChange, databasesOfFiles, decideMode, engineChange, recheckAfterDump, recheckDatabases, type Ancestor, type Engines, type NoAncestor } from '../src/mode.js';

const sha = (n: number) => n.toString(16).padStart(40, '0');
const digest = (text: string) => createHash('sha256').update(text).digest('hex');
const migration = (app: string, name: string, content = 'v1'): MigrationRecord => ({ app, name, sha256: digest(`${app}${name}${content}`) });

const base = [migration('catalog', '0001_initial'), migration('catalog', '0002_currency'), migration('orders', '0001_initial')];
const fp = (records: MigrationRecord[]) => fingerprintMigrations(records);
const mariadb: Engines = { mysql: { flavor: 'mariadb', version: '10.11.9' }, mongo: { flavor: 'ferretdb', version: '1.24.2' } };

const ancestor = (overrides: Partial<Ancestor> = {}): Ancestor => ({
  commit: sha(0xabc),
  version: 'f'.repeat(64),
  distance: 2,
  fingerprint: fp(base),
  engines: mariadb,
  ...overrides,
});

const added = fp([...base, migration('catalog', '0003_weight'), migration('accounts', '0001_initial')]);
const edited = fp([base[0]!, migration('catalog', '0002_currency', 'v2'), base[2]!]);
const removed = fp([base[0]!, base[1]!]);

describe('decideMode', () => {
  test.each<[string, Mode, ReturnType<typeof fp>, Ancestor | NoAncestor | undefined, 'full' | 'incremental', RegExp]>([
    ['full is always full', 'full', added, ancestor(), 'full', /input `mode` is `full`/],
    ['no ancestor', 'auto', fp(base), undefined, 'full', /no dump is published for this commit or its first-parent ancestors/],
    ['no ancestor, with the reason the lookup gave', 'auto', fp(base), { none: 'the clone is shallow' }, 'full', /^the clone is shallow$/],
    ['ancestor without fingerprint', 'auto', fp(base), ancestor({ fingerprint: undefined }), 'full', /recorded no migration fingerprint/],
    ['additions only', 'auto', added, ancestor(), 'incremental', /^2 migrations added since 000000000000 \(2 commits back\): accounts\.0001_initial, catalog\.0003_weight$/],
    ['nothing changed', 'auto', fp(base), ancestor(), 'incremental', /^no migration changed since 000000000000 \(2 commits back\)$/],
    ['re-run of a published commit', 'auto', fp(base), ancestor({ distance: 0 }), 'incremental', /this commit, published before/],
    ['an edited migration', 'auto', edited, ancestor(), 'full', /migrations changed since .*: edited catalog\.0002_currency$/],
    ['a removed migration', 'auto', removed, ancestor(), 'full', /removed orders\.0001_initial/],
    [
      'a migration added before one the dump has (merged from an older branch)',
      'auto',
      fp([...base, migration('catalog', '0001_merged_in')]),
      ancestor(),
      'full',
      /^catalog\.0001_merged_in was added since 000000000000 \(2 commits back\), numbered at or before migrations that dump already has \(run after them incrementally, in their place from scratch: the dumps could differ\)$/,
    ],
    ['incremental with additions', 'incremental', added, ancestor({ distance: 1 }), 'incremental', /\(1 commit back\)/],
  ])('%s', (_name, requested, fingerprint, found, mode, reason) => {
    const decision = decideMode(requested, fingerprint, found);
    expect(decision.mode).toBe(mode);
    expect(decision.reason).toMatch(reason);
    if (decision.mode === 'incremental') expect(decision.ancestor).toBe(found);
  });

  test('lists at most five added migrations by name', () => {
    const many = fp([...base, ...Array.from({ length: 8 }, (_, i) => migration('bulk', `000${i + 1}_gen`))]);
    const decision = decideMode('auto', many, ancestor());
    expect(decision.reason).toMatch(/^8 migrations added .*bulk\.0005_gen and 3 more$/);
    expect(decision.mode === 'incremental' && decision.added).toHaveLength(8);
  });

  test.each<[string, ReturnType<typeof fp>, Ancestor | undefined, RegExp]>([
    ['no ancestor', fp(base), undefined, /Input `mode`: `incremental` is impossible: no dump is published/],
    ['an edited migration', edited, ancestor(), /Input `mode`: `incremental` is impossible: migrations changed .*edited catalog\.0002_currency; use `auto`/],
    ['no fingerprint', fp(base), ancestor({ fingerprint: undefined }), /Input `mode`: `incremental` is impossible: .*no migration fingerprint/],
  ])('mode incremental refuses %s instead of falling back', (_name, fingerprint, found, message) => {
    expect(() => decideMode('incremental', fingerprint, found)).toThrow(message);
  });

  test('known engines that differ from the ancestor force a full run', () => {
    const decision = decideMode('auto', added, ancestor(), { ...mariadb, mysql: { flavor: 'mysql', version: '8.0.40' } });
    expect(decision).toEqual({ mode: 'full', reason: expect.stringMatching(/engines changed .*mysql mariadb 10\.11\.9 -> mysql 8\.0\.40/) });
  });
});

describe('engineChange', () => {
  test.each<[string, Engines | undefined, Engines, string | undefined]>([
    ['same engines', mariadb, mariadb, undefined],
    ['ancestor recorded none', undefined, mariadb, undefined],
    ['version bump', mariadb, { ...mariadb, mysql: { flavor: 'mariadb', version: '11.4.2' } }, 'mysql mariadb 10.11.9 -> mariadb 11.4.2'],
    ['flavour change', mariadb, { ...mariadb, mongo: { flavor: 'mongodb', version: '7.0.14' } }, 'mongo ferretdb 1.24.2 -> mongodb 7.0.14'],
    ['an engine only one side has', { mysql: mariadb.mysql! }, mariadb, undefined],
    [
      'both',
      mariadb,
      { mysql: { flavor: 'mysql', version: '8.0.40' }, mongo: { flavor: 'mongodb', version: '7.0.14' } },
      'mysql mariadb 10.11.9 -> mysql 8.0.40, mongo ferretdb 1.24.2 -> mongodb 7.0.14',
    ],
  ])('%s', (_name, before, after, expected) => {
    expect(engineChange(before, after)).toBe(expected);
  });
});

describe('recheckAfterDump', () => {
  const incremental = decideMode('auto', added, ancestor());
  const upgraded: Engines = { ...mariadb, mysql: { flavor: 'mariadb', version: '11.4.2' } };

  test('keeps an incremental run whose engines match the ancestor', () => {
    expect(recheckAfterDump(incremental, 'auto', mariadb)).toBe(incremental);
  });
  test('turns an incremental run on changed engines into a full one, saying why', () => {
    expect(recheckAfterDump(incremental, 'auto', upgraded)).toEqual({
      mode: 'full',
      reason: 'the database engines changed since the dump of 000000000000 (mysql mariadb 10.11.9 -> mariadb 11.4.2)',
    });
  });
  test('leaves a full run alone', () => {
    const full = decideMode('full', added, ancestor());
    expect(recheckAfterDump(full, 'full', upgraded)).toBe(full);
  });
  test('fails mode incremental on changed engines', () => {
    const forced = decideMode('incremental', added, ancestor());
    expect(() => recheckAfterDump(forced, 'incremental', upgraded)).toThrow(/Input `mode`: `incremental` is impossible: the database engines changed/);
  });
});

describe('databases of the ancestor vs the run', () => {
  const files = [
    { kind: 'mysql' as const, database: 'lms' },
    { kind: 'mysql' as const, database: 'lms' },
    { kind: 'mongo' as const, database: 'lms' },
  ];
  test('reads the databases from the manifest files', () => {
    expect(databasesOfFiles(files)).toEqual({ mysql: ['lms'], mongo: ['lms'] });
    expect(databasesOfFiles(files.slice(0, 1))).toEqual({ mysql: ['lms'], mongo: undefined });
  });
  test.each<[string, { mysql?: string[]; mongo?: string[] }, string | undefined]>([
    ['the same databases', { mysql: ['lms'], mongo: ['lms'] }, undefined],
    ['a renamed MySQL database', { mysql: ['lms_v2'], mongo: ['lms'] }, 'MySQL databases lms -> lms_v2'],
    ['an engine left out', { mysql: ['lms'] }, 'MongoDB databases lms -> none'],
    ['an engine added', { mysql: ['lms', 'audit'], mongo: ['lms'] }, 'MySQL databases lms -> audit, lms'],
  ])('%s', (_name, run, expected) => {
    expect(databasesChange(databasesOfFiles(files), { mysql: run.mysql, mongo: run.mongo })).toBe(expected);
  });
  const incremental = decideMode('auto', added, ancestor());
  test('falls back to full in auto mode when the databases changed', () => {
    const decision = recheckDatabases(incremental, 'auto', databasesOfFiles(files), { mysql: ['lms'], mongo: undefined });
    expect(decision).toEqual({ mode: 'full', reason: 'the databases changed since the dump of 000000000000 (MongoDB databases lms -> none)' });
  });
  test('keeps the decision when nothing changed, and refuses `incremental` when something did', () => {
    expect(recheckDatabases(incremental, 'auto', databasesOfFiles(files), { mysql: ['lms'], mongo: ['lms'] })).toBe(incremental);
    expect(() => recheckDatabases(incremental, 'incremental', databasesOfFiles(files), { mysql: ['x'], mongo: ['lms'] })).toThrow(
      /^Input `mode`: `incremental` is impossible: the databases changed since the dump of 000000000000 \(MySQL databases lms -> x\)/,
    );
  });
});
