import { Double, ObjectId } from 'bson';
import { describe, expect, test } from 'vitest';
import { bookkeepingOf, normaliseBookkeeping, BOOKKEEPING_COLLECTIONS } from '../src/internal/bookkeeping.js';
import type { OrderedDoc } from '../src/internal/ordered.js';

const changelog = BOOKKEEPING_COLLECTIONS.find((preset) => preset.collection === 'changelog')!;
const entry = (fileName: string, at: string): OrderedDoc =>
  new Map<string, unknown>([['_id', new ObjectId()], ['fileName', fileName], ['appliedAt', new Date(at)], ['migrationBlock', new Double(Date.parse(at))]]);

describe('bookkeeping collections', () => {
  test.each<[string, string, OrderedDoc | undefined, string | undefined]>([
    ['migrate-mongo', 'changelog', entry('a.js', '2026-01-01'), 'migrate-mongo'],
    ['an empty changelog', 'changelog', undefined, 'migrate-mongo'],
    ['an application collection named changelog', 'changelog', new Map<string, unknown>([['_id', 1], ['user', 'x']]), undefined],
    ['another name', 'migrations', entry('a.js', '2026-01-01'), undefined],
  ])('%s', (_case, collection, first, tool) => {
    expect(bookkeepingOf(collection, first)?.tool).toBe(tool);
  });

  test('fixed fields and name-derived ids, whatever the run that wrote them; a name recorded twice gets two ids', () => {
    const once = normaliseBookkeeping(changelog, [entry('b.js', '2026-01-02'), entry('a.js', '2026-01-01')]);
    const again = normaliseBookkeeping(changelog, [entry('a.js', '2025-05-05'), entry('b.js', '2025-06-06')]);
    expect(again).toEqual(once);
    expect([...once[0]!.keys()]).toEqual(['_id', 'fileName', 'appliedAt', 'migrationBlock']);
    expect(once.map((document) => document.get('appliedAt'))).toEqual([new Date('2000-01-01T00:00:00Z'), new Date('2000-01-01T00:00:00Z')]);
    const twice = normaliseBookkeeping(changelog, [entry('a.js', '2026-01-01'), entry('a.js', '2026-01-03')]);
    expect(new Set(twice.map((document) => String(document.get('_id')))).size).toBe(2);
  });
});
