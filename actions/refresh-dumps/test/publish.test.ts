import { describe, expect, test, vi } from 'vitest';
import type { AncestryAnswer } from '@org/dump-versioning';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DumpVersioningError, openStore, publish } from '@org/dump-versioning';
import { applyRetention, comparisonBase, dryRunVersion, memoizeAncestry, schemaSection } from '../src/publish.js';

const a = 'a'.repeat(40);
const b = 'b'.repeat(40);

/** A checker answering from a script, counting how often each pair was asked. */
function scriptedChecker(answers: Array<AncestryAnswer | Error>) {
  const asked: string[] = [];
  const check = async (ancestor: string, descendant: string): Promise<AncestryAnswer> => {
    asked.push(`${ancestor.slice(0, 1)}..${descendant.slice(0, 1)}`);
    const next = answers.shift();
    if (next instanceof Error) throw next;
    return next!;
  };
  return { check, asked };
}

describe('memoizeAncestry (git answers asked during migrate, reused by the publish)', () => {
  test.each([[true], [false]])('a decided answer (%s) is asked once per pair', async (answer) => {
    const { check, asked } = scriptedChecker([answer, true]);
    const memo = memoizeAncestry(check);
    expect(await memo(a, b)).toBe(answer);
    expect(await memo(a, b)).toBe(answer);
    expect(asked).toEqual(['a..b']);
    expect(await memo(b, a)).toBe(true);
    expect(asked).toEqual(['a..b', 'b..a']);
  });

  test('an undecided answer or an error is asked again', async () => {
    const { check, asked } = scriptedChecker([{ undecided: 'shallow clone' }, new Error('git died'), true]);
    const memo = memoizeAncestry(check);
    expect(await memo(a, b)).toEqual({ undecided: 'shallow clone' });
    await expect(memo(a, b)).rejects.toThrow('git died');
    expect(await memo(a, b)).toBe(true);
    expect(await memo(a, b)).toBe(true);
    expect(asked).toEqual(['a..b', 'a..b', 'a..b']);
  });

  test('a shared cache: a checker finding an undecided answer from another asks with its own', async () => {
    const answers = new Map();
    const offline = scriptedChecker([{ undecided: 'not fetched: offline' }]);
    const online = scriptedChecker([true]);
    const warm = memoizeAncestry(offline.check, answers);
    const full = memoizeAncestry(online.check, answers);
    const warming = warm(a, b);
    // Asked while the offline answer is still in flight: it turns out undecided, so the full checker asks.
    expect(await full(a, b)).toBe(true);
    expect(await warming).toEqual({ undecided: 'not fetched: offline' });
    expect(await warm(a, b)).toBe(true); // the decided answer is shared
    expect([offline.asked, online.asked]).toEqual([['a..b'], ['a..b']]);
  });
});

describe('dry run version and the schema section', () => {
  test('a first dry run (no branch ref yet) is a change with nothing to compare with', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'rd-dry-'));
    const store = openStore(path.join(root, 'store'), {});
    try {
      await mkdir(path.join(root, 'store'));
      await mkdir(path.join(root, 'dump/mysql'), { recursive: true });
      await writeFile(path.join(root, 'dump/mysql/lms.sql'), 'SELECT 1;\n');
      const result = await dryRunVersion(store, 'lms', 'master', path.join(root, 'dump'), ['mysql/lms.sql']);
      expect(result).toMatchObject({ changed: true, previous: undefined, files: [{ path: 'mysql/lms.sql', size: 10 }] });
      expect(result.version).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await store.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  test('the same version as before is "same" without reading the store; no previous version is "first"', async () => {
    const store = openStore(path.join(tmpdir(), 'rd-never-created'), {});
    const previous = { commit: a, version: 'c'.repeat(64) };
    expect(await schemaSection(store, 'lms', 'c'.repeat(64), previous)).toEqual({ kind: 'same', base: previous });
    expect(await schemaSection(store, 'lms', 'c'.repeat(64), undefined)).toEqual({ kind: 'first' });
    await store.close();
  });
});

describe('the schema section of a change the schema diff cannot list', () => {
  test('names the files that differ: a view\'s SQL changed, its columns did not', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'rd-section-'));
    const store = openStore(path.join(root, 'store'), {});
    const schema = `${JSON.stringify({ format: 1, charset: 'utf8mb4', collation: null, tables: [], views: [{ name: 'v', columns: [] }], routines: [], triggers: [], events: [] })}\n`;
    const versionOf = async (commit: string, viewSql: string) => {
      const dir = path.join(root, commit.slice(0, 1));
      await mkdir(path.join(dir, 'mysql'), { recursive: true });
      await writeFile(path.join(dir, 'mysql/lms.sql'), viewSql);
      await writeFile(path.join(dir, 'mysql/lms.schema.json'), schema);
      return (await publish({ store, service: 'lms', dir, source: { commit, branch: 'master' }, ancestry: async () => true })).version;
    };
    try {
      await mkdir(path.join(root, 'store'));
      const before = await versionOf(a, 'CREATE VIEW v AS SELECT 1 AS x;\n');
      const after = await versionOf(b, 'CREATE VIEW v AS SELECT 2 AS x;\n');
      expect(await schemaSection(store, 'lms', after, { commit: a, version: before })).toEqual({
        kind: 'changes',
        base: { commit: a, version: before },
        mysql: [],
        mongo: [],
        files: ['mysql/lms.sql'],
      });
    } finally {
      await store.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('comparisonBase (what the summary diffs against, and `changed`)', () => {
  const v = (c: string) => c.repeat(64);
  const sha = (c: string) => c.repeat(40);
  const ancestor = { commit: sha('a'), version: v('1') };
  test.each<[string, Parameters<typeof comparisonBase>[0], typeof ancestor | undefined, ReturnType<typeof comparisonBase>]>([
    [
      'an advanced ref compares with the version it named before, and keeps the publish\'s changed',
      { version: v('2'), changed: true, ref: { outcome: 'advanced', previous: { commit: sha('b'), version: v('3') } } },
      ancestor,
      { notAdvanced: false, compareWith: { commit: sha('b'), version: v('3') }, changed: true },
    ],
    [
      'an unchanged re-run keeps changed false',
      { version: v('2'), changed: false, ref: { outcome: 'unchanged', previous: { commit: sha('c'), version: v('2') } } },
      ancestor,
      { notAdvanced: false, compareWith: { commit: sha('c'), version: v('2') }, changed: false },
    ],
    [
      'a late run on an older commit compares with its own ancestor, not the newer ref: same as the ancestor is unchanged',
      { version: v('1'), changed: true, ref: { outcome: 'not-advanced', previous: { commit: sha('d'), version: v('4') } } },
      ancestor,
      { notAdvanced: true, compareWith: ancestor, changed: false },
    ],
    [
      'a late run whose dump differs from its ancestor is changed, whatever the ref says',
      { version: v('5'), changed: false, ref: { outcome: 'not-advanced', previous: { commit: sha('d'), version: v('5') } } },
      ancestor,
      { notAdvanced: true, compareWith: ancestor, changed: true },
    ],
    [
      'a late run without an ancestor (mode: full) has nothing to compare with and counts as changed',
      { version: v('5'), changed: false, ref: { outcome: 'not-advanced', previous: { commit: sha('d'), version: v('5') } } },
      undefined,
      { notAdvanced: true, compareWith: undefined, changed: true },
    ],
  ])('%s', (_, published, base, expected) => {
    expect(comparisonBase(published, base)).toEqual(expected);
  });
});

describe('applyRetention (prune after a publish)', () => {
  const service = 'lms';

  test('a prune that cannot run now (another prune holds the lease) is a warning, not a failure', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'refresh-retention-'));
    try {
      await mkdir(path.join(root, service, 'locks'), { recursive: true });
      await writeFile(path.join(root, service, 'locks', 'prune.json'), '{"kind":"prune","id":"someone-else"}\n');
      const store = openStore(root);
      const warn = vi.fn();
      expect(await applyRetention(store, service, 3, warn)).toBeUndefined();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toMatch(/^Retention skipped this run: another prune of lms has held /);
      await store.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test.each<[string, (root: string) => { path: string; keep: number }, RegExp]>([
    ['an invalid keep', (root) => ({ path: root, keep: 0 }), /keep must be a whole number of at least 1/],
    ['a store directory that does not exist', (root) => ({ path: path.join(root, 'missing'), keep: 3 }), /does not exist|missing/],
  ])('a fatal error from prune (%s) fails the run instead of becoming a warning', async (_, setup, message) => {
    const root = await mkdtemp(path.join(tmpdir(), 'refresh-retention-'));
    try {
      const { path: storePath, keep } = setup(root);
      const store = openStore(storePath);
      const warn = vi.fn();
      const failure = await applyRetention(store, service, keep, warn).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(DumpVersioningError);
      expect(failure).toMatchObject({ fatal: true, message: expect.stringMatching(message) });
      expect(warn).not.toHaveBeenCalled();
      await store.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('only the fatal flag decides: a fatal library error thrown by the store propagates, a non-fatal one warns', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'refresh-retention-'));
    try {
      const store = openStore(root);
      const failing = (fatal: boolean) => {
        const wrapped = Object.create(store) as typeof store;
        wrapped.checkRoot = async () => {
          throw new DumpVersioningError('store-trouble', `the store failed (${fatal ? 'fatal' : 'transient'})`, { fatal });
        };
        return wrapped;
      };
      const warn = vi.fn();
      await expect(applyRetention(failing(true), service, 3, warn)).rejects.toMatchObject({ code: 'store-trouble', fatal: true });
      expect(warn).not.toHaveBeenCalled();
      expect(await applyRetention(failing(false), service, 3, warn)).toBeUndefined();
      expect(warn).toHaveBeenCalledWith('Retention skipped this run: the store failed (transient)');
      await store.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
