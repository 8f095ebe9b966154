import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { classifyFingerprintChange, fingerprintMigrationFiles, fingerprintMigrations, migrationFilesChangedSinceHead, type MigrationFingerprint, type MigrationRecord } from '../src/index.js';

const hex64 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });
const migrationSet = fc.uniqueArray(
  fc.record({ app: fc.constantFrom('auth', 'courses', 'grades'), name: fc.stringMatching(/^[0-9]{4}_[a-z]{1,8}$/), sha256: hex64 }),
  { maxLength: 20, selector: (m) => `${m.app}.${m.name}` },
);
const refs = (records: MigrationRecord[]) => records.map(({ app, name }) => ({ app, name }));
const sortRefs = <T extends { app: string; name: string }>(list: T[]) => [...list].sort((a, b) => `${a.app}.${a.name}`.localeCompare(`${b.app}.${b.name}`));

describe('migration fingerprint', () => {
  test('is independent of input order and unchanged against itself', () => {
    fc.assert(fc.property(migrationSet, (records) => {
      const a = fingerprintMigrations(records);
      const b = fingerprintMigrations([...records].reverse());
      expect(b).toEqual(a);
      expect(classifyFingerprintChange(a, b)).toEqual({ kind: 'unchanged' });
    }));
  });

  test('only new migrations classify as additions-only, listing exactly them', () => {
    fc.assert(fc.property(migrationSet, migrationSet, (base, extra) => {
      const known = new Set(base.map((m) => `${m.app}.${m.name}`));
      const added = extra.filter((m) => !known.has(`${m.app}.${m.name}`));
      const change = classifyFingerprintChange(fingerprintMigrations(base), fingerprintMigrations([...base, ...added]));
      if (added.length === 0) expect(change).toEqual({ kind: 'unchanged' });
      else {
        expect(change.kind === 'additions-only' && sortRefs(change.added)).toEqual(sortRefs(refs(added)));
        // Those numbered at or before what the base had are among the added ones (the table below says which).
        const addedNames = new Set(added.map((m) => `${m.app}.${m.name}`));
        if (change.kind === 'additions-only') for (const m of change.addedBefore) expect(addedNames.has(`${m.app === 'migrations' ? '.' : m.app}.${m.name}`)).toBe(true);
      }
    }));
  });

  test('an edited or removed migration classifies as rewritten, naming it', () => {
    fc.assert(fc.property(migrationSet.filter((s) => s.length > 0), fc.nat(), fc.boolean(), hex64, (base, pick, remove, newHash) => {
      const target = base[pick % base.length]!;
      fc.pre(remove || newHash !== target.sha256);
      const next = remove ? base.filter((m) => m !== target) : base.map((m) => (m === target ? { ...m, sha256: newHash } : m));
      const change = classifyFingerprintChange(fingerprintMigrations(base), fingerprintMigrations(next));
      expect(change.kind).toBe('rewritten');
      if (change.kind !== 'rewritten') return;
      expect(remove ? change.removed : change.edited).toEqual([{ app: target.app, name: target.name }]);
      expect(fingerprintMigrations(next).overall).not.toBe(fingerprintMigrations(base).overall);
    }));
  });

  test('the same migrations under another app give another overall fingerprint', () => {
    const migrations = fc.uniqueArray(fc.record({ name: fc.stringMatching(/^[0-9]{4}_[a-z]{1,8}$/), sha256: hex64 }), { minLength: 1, maxLength: 6, selector: (m) => m.name });
    fc.assert(fc.property(migrations, fc.constantFrom('auth', 'courses', 'grades'), fc.constantFrom('shop', 'users'), (list, from, to) => {
      const before = fingerprintMigrations(list.map((m) => ({ app: from, ...m })));
      const after = fingerprintMigrations(list.map((m) => ({ app: to, ...m })));
      expect(after.apps[to]?.chain).toBe(before.apps[from]?.chain);
      expect(after.overall).not.toBe(before.overall);
    }));
  });

  test('two apps with the same folder name in different places stay apart, keyed by their paths', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'dv-fp-same-'));
    try {
      for (const [file, body] of [
        ['lms/courses/migrations/0001_initial.py', 'lms 1'],
        ['lms/courses/migrations/0002_more.py', 'lms 2'],
        ['cms/courses/migrations/0001_initial.py', 'cms 1'],
        ['common/auth/migrations/0001_initial.py', 'auth 1'],
      ] as const) {
        await mkdir(path.dirname(path.join(root, file)), { recursive: true });
        await writeFile(path.join(root, file), body);
      }
      const found = await fingerprintMigrationFiles(root);
      expect(Object.keys(found.apps)).toEqual(['auth', 'cms/courses', 'lms/courses']);
      expect(found.apps['lms/courses']?.migrations.map((m) => m.name)).toEqual(['0001_initial', '0002_more']);
      expect(found.apps['cms/courses']?.migrations.map((m) => m.name)).toEqual(['0001_initial']);
      // An edit in one of them is reported against that app only.
      await writeFile(path.join(root, 'cms/courses/migrations/0001_initial.py'), 'cms 1 edited');
      expect(classifyFingerprintChange(found, await fingerprintMigrationFiles(root))).toEqual({
        kind: 'rewritten',
        edited: [{ app: 'cms/courses', name: '0001_initial' }],
        removed: [],
        added: [],
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('reads Django migration files, keyed by app folder and name order', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'dv-fp-'));
    try {
      for (const [file, body] of [
        ['lms/courses/migrations/0001_initial.py', 'a'],
        ['lms/courses/migrations/0002_more.py', 'b'],
        ['lms/courses/migrations/__init__.py', ''],
        ['common/auth/migrations/0001_initial.py', 'c'],
      ] as const) {
        await mkdir(path.dirname(path.join(root, file)), { recursive: true });
        await writeFile(path.join(root, file), body);
      }
      const before = await fingerprintMigrationFiles(root);
      expect(Object.keys(before.apps)).toEqual(['auth', 'courses']);
      expect(before.apps.courses?.migrations.map((m) => m.name)).toEqual(['0001_initial', '0002_more']);
      await writeFile(path.join(root, 'lms/courses/migrations/0003_new.py'), 'd');
      expect(classifyFingerprintChange(before, await fingerprintMigrationFiles(root))).toEqual({ kind: 'additions-only', added: [{ app: 'courses', name: '0003_new' }], addedBefore: [] });
      await writeFile(path.join(root, 'lms/courses/migrations/0001_initial.py'), 'edited');
      const change = classifyFingerprintChange(before, await fingerprintMigrationFiles(root));
      expect(change).toMatchObject({ kind: 'rewritten', edited: [{ app: 'courses', name: '0001_initial' }] });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('in a git checkout, only the files git tracks or would add', () => {
  const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, stdio: 'pipe' });
  const write = async (root: string, file: string, body: string) => {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), body);
  };

  test('a git-ignored virtualenv and a nested repository do not count; untracked and edited migrations do', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'dv-fp-git-'));
    try {
      git(root, 'init', '-q');
      await write(root, '.gitignore', 'venv/\n');
      await write(root, 'shop/migrations/0001_initial.py', 'a');
      git(root, 'add', '.');
      git(root, 'commit', '-q', '-m', 'one');
      const committed = await fingerprintMigrationFiles(root);
      // Django's own migrations inside an ignored virtualenv, and another clone of the app inside the tree.
      await write(root, 'venv/lib/python3.11/site-packages/django/contrib/auth/migrations/0001_initial.py', 'django');
      await write(root, 'wt/shop/migrations/0001_initial.py', 'a');
      git(path.join(root, 'wt'), 'init', '-q');
      expect(await fingerprintMigrationFiles(root)).toEqual(committed);
      // Without git (a plain copy of the tree) every matching file counts, as before.
      await rm(path.join(root, '.git'), { recursive: true, force: true });
      expect(Object.keys((await fingerprintMigrationFiles(root)).apps).sort()).toEqual(['auth', 'shop', 'wt/shop']);
      git(root, 'init', '-q');
      await write(root, 'shop/migrations/0002_new.py', 'b');
      expect(classifyFingerprintChange(committed, await fingerprintMigrationFiles(root))).toEqual({ kind: 'additions-only', added: [{ app: 'shop', name: '0002_new' }], addedBefore: [] });
      await write(root, 'shop/migrations/0001_initial.py', 'edited');
      expect(classifyFingerprintChange(committed, await fingerprintMigrationFiles(root))).toMatchObject({ kind: 'rewritten', edited: [{ app: 'shop', name: '0001_initial' }] });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('from a subdirectory of the checkout, paths stay relative to it', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'dv-fp-git-'));
    try {
      git(root, 'init', '-q');
      await write(root, '.gitignore', 'venv/\n');
      await write(root, 'svc/shop/migrations/0001_initial.py', 'a');
      await write(root, 'svc/venv/django/contrib/sites/migrations/0001_initial.py', 'django');
      git(root, 'add', '.');
      git(root, 'commit', '-q', '-m', 'one');
      const fingerprint = await fingerprintMigrationFiles(path.join(root, 'svc'));
      expect(Object.keys(fingerprint.apps)).toEqual(['shop']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('migrationFilesChangedSinceHead and the files git lists', () => {
  const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'protocol.file.allow=always', ...args], { cwd, stdio: 'pipe' });
  const write = async (root: string, file: string, body: string) => {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), body);
  };
  const committedRepo = async (files: Record<string, string>) => {
    const root = await mkdtemp(path.join(tmpdir(), 'dv-fp-head-'));
    git(root, 'init', '-q');
    for (const [file, body] of Object.entries(files)) await write(root, file, body);
    return root;
  };
  const commitAll = (root: string) => {
    git(root, 'add', '-A');
    git(root, 'commit', '-q', '-m', 'c');
  };

  test('a clean tree has no changes, also with a symlinked migration and a negated glob', async () => {
    const root = await committedRepo({ 'shop/migrations/0001_a.py': 'a', 'other/migrations/0001_b.py': 'b', 'shared/0002_x.py': 'x' });
    try {
      await mkdir(path.join(root, 'linked', 'migrations'), { recursive: true });
      await symlink(path.join('..', '..', 'shared', '0002_x.py'), path.join(root, 'linked', 'migrations', '0002_x.py'));
      commitAll(root);
      const globs = ['**/migrations/[0-9]*.py', '!other/**'];
      expect(await migrationFilesChangedSinceHead(root, globs)).toEqual({ added: [], edited: [], deleted: [], notCheckedOut: [] });
      // Deleting the excluded app's migration is no change to these migrations; deleting a matched one is.
      await rm(path.join(root, 'other', 'migrations', '0001_b.py'));
      expect(await migrationFilesChangedSinceHead(root, globs)).toEqual({ added: [], edited: [], deleted: [], notCheckedOut: [] });
      await rm(path.join(root, 'shop', 'migrations', '0001_a.py'));
      await write(root, 'shop/migrations/0002_new.py', 'n');
      expect(await migrationFilesChangedSinceHead(root, globs)).toEqual({ added: ['shop/migrations/0002_new.py'], edited: [], deleted: ['shop/migrations/0001_a.py'], notCheckedOut: [] });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('a directory glob, a changed submodule and a directory name starting with a space', async () => {
    const vendored = await committedRepo({ 'shared_app/migrations/0001_initial.py': 'v' });
    const root = await committedRepo({ ' lead/app/migrations/0001_a.py': 'a', ' lead/app/migrations/0002_b.py': 'b' });
    try {
      commitAll(vendored);
      git(root, 'submodule', '-q', 'add', vendored, ' lead/vendor');
      commitAll(root);
      const dir = path.join(root, ' lead');
      expect(Object.keys((await fingerprintMigrationFiles(dir, ['app/migrations', 'vendor/**/migrations/*.py'])).apps).sort()).toEqual(['app', 'shared_app']);
      await rm(path.join(dir, 'app', 'migrations', '0002_b.py'));
      await writeFile(path.join(dir, 'vendor', 'shared_app', 'migrations', '0001_initial.py'), 'edited');
      expect(await migrationFilesChangedSinceHead(dir, ['app/migrations', 'vendor/**/migrations/*.py'])).toEqual({ added: [], edited: ['vendor/'], deleted: ['app/migrations/0002_b.py'], notCheckedOut: [] });
    } finally {
      await Promise.all([root, vendored].map((d) => rm(d, { recursive: true, force: true })));
    }
  });

  test('a sparse checkout that leaves a committed migration out is a change', async () => {
    const root = await committedRepo({ 'svc/app/migrations/0001_a.py': 'a', 'svc/app/migrations/0002_b.py': 'b', 'other/x.txt': 'x' });
    try {
      commitAll(root);
      git(root, 'sparse-checkout', 'set', '--no-cone', '/svc/', '!/svc/app/migrations/0002_b.py');
      const dir = path.join(root, 'svc');
      expect(await migrationFilesChangedSinceHead(dir)).toEqual({ added: [], edited: [], deleted: [], notCheckedOut: ['app/migrations/0002_b.py'] });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('migrations in a submodule and beside the fingerprinted directory (../) count', async () => {
    const vendored = await committedRepo({ 'shared_app/migrations/0001_initial.py': 'v' });
    const root = await committedRepo({ 'svc/shop/migrations/0001_a.py': 'a', 'common/migrations/0001_c.py': 'c' });
    try {
      commitAll(vendored);
      git(root, 'submodule', '-q', 'add', vendored, 'svc/vendor');
      commitAll(root);
      const fingerprint = await fingerprintMigrationFiles(path.join(root, 'svc'), ['**/migrations/[0-9]*.py', '../common/migrations/[0-9]*.py']);
      expect(Object.keys(fingerprint.apps).sort()).toEqual(['common', 'shared_app', 'shop']);
    } finally {
      await Promise.all([root, vendored].map((dir) => rm(dir, { recursive: true, force: true })));
    }
  });
});

describe('line endings (a Windows checkout with core.autocrlf=true)', () => {
  const tree = async (files: Record<string, string>) => {
    const root = await mkdtemp(path.join(tmpdir(), 'dv-fp-eol-'));
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), content, 'latin1');
    }
    return root;
  };
  const source = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    operations = []\n";
  test('CRLF and LF checkouts of the same migrations fingerprint the same; other bytes still count', async () => {
    const file = 'shop/migrations/0001_initial.py';
    const roots = await Promise.all([
      tree({ [file]: source }),
      tree({ [file]: source.replace(/\n/g, '\r\n') }),
      // A lone CR is content, not a line ending.
      tree({ [file]: source.replace('operations', 'operations\r') }),
    ]);
    try {
      const [lf, crlf, loneCr] = await Promise.all(roots.map((root) => fingerprintMigrationFiles(root)));
      expect(crlf!.overall).toBe(lf!.overall);
      expect(classifyFingerprintChange(lf!, crlf!).kind).toBe('unchanged');
      expect(loneCr!.overall).not.toBe(lf!.overall);
    } finally {
      for (const root of roots) await rm(root, { recursive: true, force: true });
    }
  });
});

describe('layouts of other migration tools', () => {
  const none = fingerprintMigrations([]);

  test.each<[string, string[], string[], string[], Array<{ app: string; name: string }>]>([
    [
      'migrate-mongo / Knex / Sequelize: a `migrations` folder at the top (kept as app `.`, read as `migrations`)',
      ['migrations/20240201-create-orders.js', 'migrations/20240115-init.js'],
      ['migrations/*.js'],
      ['.'],
      [{ app: 'migrations', name: '20240115-init' }, { app: 'migrations', name: '20240201-create-orders' }],
    ],
    [
      'Flyway: versions by value, V10 last',
      ['db/migration/V10__c.sql', 'db/migration/V2__b.sql', 'db/migration/V1__init.sql', 'db/migration/V4__d.sql'],
      ['db/migration/*.sql'],
      ['migration'],
      [{ app: 'migration', name: 'V1__init' }, { app: 'migration', name: 'V2__b' }, { app: 'migration', name: 'V4__d' }, { app: 'migration', name: 'V10__c' }],
    ],
  ])('%s', async (_name, files, globs, apps, added) => {
    const root = await mkdtemp(path.join(tmpdir(), 'dv-fp-tools-'));
    try {
      for (const file of files) {
        await mkdir(path.dirname(path.join(root, file)), { recursive: true });
        await writeFile(path.join(root, file), file);
      }
      const found = await fingerprintMigrationFiles(root, globs);
      // The fingerprint itself is unchanged: apps keyed as before, migrations in byte order (what the chain hashes).
      expect(Object.keys(found.apps)).toEqual(apps);
      expect(found.apps[apps[0]!]?.migrations.map((m) => m.name)).toEqual(added.map((m) => m.name).sort());
      expect(classifyFingerprintChange(none, found)).toEqual({ kind: 'additions-only', added, addedBefore: [] });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  const flyway = (...names: string[]) => fingerprintMigrations(names.map((entry) => {
    const [name, content = 'same'] = entry.split(':') as [string, string?];
    return { app: 'migration', name, sha256: content.padEnd(64, '0').replace(/[^0-9a-f]/g, 'a') };
  }));

  test.each<[string, MigrationFingerprint, MigrationFingerprint, object]>([
    ['added', flyway('V1__a'), flyway('V1__a', 'V10__c', 'V2__b'), { kind: 'additions-only', added: [{ app: 'migration', name: 'V2__b' }, { app: 'migration', name: 'V10__c' }], addedBefore: [] }],
    // Merged from a branch that began before V10: applied after V10 incrementally, before it from scratch.
    ['added before the newest', flyway('V1__a', 'V10__c'), flyway('V1__a', 'V10__c', 'V2_5__b', 'V11__d'), { kind: 'additions-only', added: [{ app: 'migration', name: 'V2_5__b' }, { app: 'migration', name: 'V11__d' }], addedBefore: [{ app: 'migration', name: 'V2_5__b' }] }],
    // Flyway runs repeatables after every version, whatever their names: never out of order.
    ['a repeatable added', flyway('V1__a', 'V2__b'), flyway('V1__a', 'V2__b', 'R__views'), { kind: 'additions-only', added: [{ app: 'migration', name: 'R__views' }], addedBefore: [] }],
    ['edited', flyway('V10__c', 'V2__b'), flyway('V10__c:new', 'V2__b:new'), { kind: 'rewritten', edited: [{ app: 'migration', name: 'V2__b' }, { app: 'migration', name: 'V10__c' }], removed: [], added: [] }],
    ['removed', flyway('V10__c', 'V3__x', 'V2__b'), flyway(), { kind: 'rewritten', edited: [], removed: [{ app: 'migration', name: 'V2__b' }, { app: 'migration', name: 'V3__x' }, { app: 'migration', name: 'V10__c' }], added: [] }],
  ])('%s migrations are listed in natural order', (_name, before, after, expected) => {
    expect(classifyFingerprintChange(before, after)).toEqual(expected);
  });

  const app = (label: string, ...names: string[]) => fingerprintMigrations(names.map((name) => ({ app: label, name, sha256: 'a'.repeat(64) })));
  test.each<[string, MigrationFingerprint, MigrationFingerprint, string[]]>([
    // Alembic runs by its down_revision chain: its hex ids say nothing about order.
    ['Alembic revisions', app('versions', '1975ea83b712_a', 'ae1027a6acf_b'), app('versions', '1975ea83b712_a', 'ae1027a6acf_b', '3512b954651e_c'), []],
    // Django orders two migrations of one number by its graph: either one may run first from scratch.
    ['a Django sibling of the highest number', app('shop', '0001_initial', '0002_add_b'), app('shop', '0001_initial', '0002_add_b', '0002_add_c', '0003_merge'), ['0002_add_c']],
    ['a Django sibling sorting before it', app('shop', '0001_initial', '0002_add_c'), app('shop', '0001_initial', '0002_add_c', '0002_add_b', '0003_merge'), ['0002_add_b']],
    ['the next Django number', app('shop', '0001_initial', '0002_add_b'), app('shop', '0001_initial', '0002_add_b', '0003_more'), []],
    ['a Knex timestamp before the newest', app('migrations', '20260101000000_a', '20260103000000_c'), app('migrations', '20260101000000_a', '20260103000000_c', '20260102120000_b'), ['20260102120000_b']],
    ['a Laravel date before the newest', app('migrations', '2024_01_02_000000_b'), app('migrations', '2024_01_02_000000_b', '2024_01_01_120000_a', '2024_02_01_000000_c'), ['2024_01_01_120000_a']],
    // Timestamps, dates and Flyway versions order a tool's migrations across folders (Flyway per-release folders, Laravel modules).
    ['a Flyway hotfix in an older release folder', fingerprintMigrations([{ app: 'v1', name: 'V1_1__a', sha256: 'a'.repeat(64) }, { app: 'v2', name: 'V2_1__b', sha256: 'b'.repeat(64) }]), fingerprintMigrations([{ app: 'v1', name: 'V1_1__a', sha256: 'a'.repeat(64) }, { app: 'v2', name: 'V2_1__b', sha256: 'b'.repeat(64) }, { app: 'v1', name: 'V1_2__hotfix', sha256: 'c'.repeat(64) }]), ['V1_2__hotfix']],
    ['a Prisma migration dated before the newest', fingerprintMigrations([{ app: '20240101000000_init', name: 'migration', sha256: 'a'.repeat(64) }, { app: '20240301000000_orders', name: 'migration', sha256: 'b'.repeat(64) }]), fingerprintMigrations([{ app: '20240101000000_init', name: 'migration', sha256: 'a'.repeat(64) }, { app: '20240301000000_orders', name: 'migration', sha256: 'b'.repeat(64) }, { app: '20240201000000_users', name: 'migration', sha256: 'c'.repeat(64) }]), ['migration']],
    ['a golang-migrate down file beside its up file', app('migrations', '000001_a.up', '000002_b.up'), app('migrations', '000001_a.up', '000002_b.up', '000002_b.down'), []],
    ['a new app', app('shop', '0005_x'), fingerprintMigrations([...app('shop', '0005_x').apps.shop!.migrations.map((m) => ({ app: 'shop', ...m })), { app: 'billing', name: '0001_initial', sha256: 'b'.repeat(64) }]), []],
  ])('numbered at or before the ancestor\'s highest: %s', (_name, before, after, expected) => {
    const change = classifyFingerprintChange(before, after);
    expect(change.kind === 'additions-only' ? change.addedBefore.map((m) => m.name) : change).toEqual(expected);
  });

  test('a top `migrations` folder keeps the fingerprint it had (app `.`): published dumps still match', () => {
    const records = [{ app: '.', name: '20240115-init', sha256: 'a'.repeat(64) }];
    const rootFolder = fingerprintMigrations(records);
    expect(classifyFingerprintChange(rootFolder, fingerprintMigrations(records))).toEqual({ kind: 'unchanged' });
    expect(classifyFingerprintChange(none, rootFolder)).toEqual({ kind: 'additions-only', added: [{ app: 'migrations', name: '20240115-init' }], addedBefore: [] });
  });
});
