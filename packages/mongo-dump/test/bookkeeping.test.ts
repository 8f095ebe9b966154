import { Double, ObjectId } from 'bson';
import { describe, expect, test } from 'vitest';
import { bookkeepingOf, normaliseBookkeeping, BOOKKEEPING_COLLECTIONS } from '../src/internal/bookkeeping.js';
import type { OrderedDoc } from '../src/internal/ordered.js';

const preset = (collection: string) => BOOKKEEPING_COLLECTIONS.find((candidate) => candidate.collection === collection)!;
const entry = (fileName: string, at: string): OrderedDoc =>
  new Map<string, unknown>([['_id', new ObjectId()], ['fileName', fileName], ['appliedAt', new Date(at)], ['migrationBlock', new Double(Date.parse(at))]]);
const mongock = (changeId: string, state: string, at: string, executionId: string): OrderedDoc =>
  new Map<string, unknown>([['_id', new ObjectId()], ['executionId', executionId], ['changeId', changeId], ['author', 'dev'], ['timestamp', new Date(at)], ['state', state], ['executionMillis', 12]]);

describe('bookkeeping collections are recognised by name and every document', () => {
  test.each<[string, string, OrderedDoc[], string | undefined]>([
    ['migrate-mongo', 'changelog', [entry('a.js', '2026-01-01'), entry('b.js', '2026-01-02')], 'migrate-mongo'],
    ['an empty changelog', 'changelog', [], 'migrate-mongo'],
    ['migrate-mongo with useFileHash', 'changelog', [new Map<string, unknown>([...entry('a.js', '2026-01-01'), ['fileHash', 'ab12']])], 'migrate-mongo'],
    ['an application collection named changelog', 'changelog', [new Map<string, unknown>([['_id', 1], ['user', 'x']])], undefined],
    // The first document alone would pass: every one is checked.
    ['an application changelog whose later document has other fields', 'changelog', [entry('a.js', '2026-01-01'), new Map<string, unknown>([...entry('b.js', '2026-01-02'), ['customer_email', 'alice@example.com']])], undefined],
    ['Mongock', 'mongockChangeLog', [mongock('c1', 'EXECUTED', '2026-01-01', 'run-a')], 'Mongock'],
    ['another name', 'migrations', [entry('a.js', '2026-01-01')], undefined],
  ])('%s', (_case, collection, documents, tool) => {
    expect(bookkeepingOf(collection, documents)?.tool).toBe(tool);
  });
});

describe('normaliseBookkeeping', () => {
  test('run times become ranks (order kept), ids derive from the migration: any two runs of the same history give the same documents', () => {
    const once = normaliseBookkeeping(preset('changelog'), [entry('a.js', '2026-01-01T10:00:00Z'), entry('b.js', '2026-01-01T10:00:00.005Z')]);
    const again = normaliseBookkeeping(preset('changelog'), [entry('a.js', '2025-05-05'), entry('b.js', '2025-06-06')]);
    expect(again).toEqual(once);
    expect([...once[0]!.keys()]).toEqual(['_id', 'fileName', 'appliedAt', 'migrationBlock']);
    const byName = new Map(once.map((document) => [document.get('fileName'), document]));
    expect(byName.get('a.js')?.get('appliedAt')).toEqual(new Date('2000-01-01T00:00:00.000Z'));
    expect(byName.get('b.js')?.get('appliedAt')).toEqual(new Date('2000-01-01T00:00:00.001Z'));
    expect(byName.get('b.js')?.get('migrationBlock')).toEqual(new Double(0));
  });

  test('Mongock: a change executed, rolled back and executed again keeps its order and stays unique in (executionId, author, changeId)', () => {
    const history = [mongock('c1', 'EXECUTED', '2026-01-01', 'run-a'), mongock('c1', 'ROLLED_BACK', '2026-01-02', 'run-b'), mongock('c1', 'EXECUTED', '2026-01-03', 'run-c')];
    const normalised = normaliseBookkeeping(preset('mongockChangeLog'), history);
    const keys = normalised.map((document) => `${String(document.get('executionId'))}/${String(document.get('author'))}/${String(document.get('changeId'))}`);
    expect(new Set(keys).size).toBe(3);
    // Mongock reads the newest entry of a change: still the last EXECUTED.
    const newest = [...normalised].sort((a, b) => (b.get('timestamp') as Date).getTime() - (a.get('timestamp') as Date).getTime())[0]!;
    expect(newest.get('state')).toBe('EXECUTED');
    expect(newest.get('executionId')).toBe('2');
    // Another run of the same history (other times and execution ids) gives the same documents.
    const rerun = [mongock('c1', 'EXECUTED', '2024-01-01', 'x'), mongock('c1', 'ROLLED_BACK', '2024-02-01', 'y'), mongock('c1', 'EXECUTED', '2024-03-01', 'z')];
    expect(normaliseBookkeeping(preset('mongockChangeLog'), rerun)).toEqual(normalised);
  });
});
