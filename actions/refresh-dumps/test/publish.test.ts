import { describe, expect, test } from 'vitest';
import type { AncestryAnswer } from '@org/dump-versioning';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '@org/dump-versioning';
import { dryRunVersion, memoizeAncestry, schemaSection } from '../src/publish.js';

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
