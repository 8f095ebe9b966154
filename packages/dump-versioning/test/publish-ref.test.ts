import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openStore, publish, readBranchRef, type AncestryChecker, type Store } from '../src/index.js';
import { makeDumpDir, sampleDump } from './support.js';

// The forward-only move of a branch ref, on a filesystem store with a scripted ancestry: a linear
// history c0 <- c1 <- ... <- c5 that git would report, and commits it does not know (undecided).
const history = Array.from({ length: 6 }, (_, i) => String(i + 1).repeat(40));
const unknownCommit = 'f'.repeat(40);
const ancestry: AncestryChecker = async (ancestor, descendant) => {
  const a = history.indexOf(ancestor);
  const d = history.indexOf(descendant);
  if (a < 0 || d < 0) return { undecided: `commit ${a < 0 ? ancestor : descendant} is not in the clone` };
  return a <= d;
};

describe('publish moves a branch ref forward only', () => {
  let root: string;
  let store: Store;
  let dumpA: string;
  let dumpB: string;
  let round = 0;
  const service = () => `ref-${round}`;
  const publishAt = (index: number | string, dir = dumpA) =>
    publish({ store, service: service(), dir, source: { commit: typeof index === 'number' ? history[index]! : index, branch: 'master' }, ancestry });
  const storedRef = () => readBranchRef(store, service(), 'master');

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'dv-publish-ref-'));
    store = openStore(root);
    dumpA = await makeDumpDir(sampleDump('a'));
    dumpB = await makeDumpDir(sampleDump('b'));
  });
  afterAll(async () => {
    await store.close();
    await Promise.all([root, dumpA, dumpB].map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test('a publish of a descendant of the ref commit advances the ref, naming the previous commit', async () => {
    round++;
    const first = await publishAt(1);
    expect(first.ref).toEqual({ outcome: 'created' });
    const next = await publishAt(3, dumpB);
    expect(next.ref).toEqual({ outcome: 'advanced', previous: { commit: history[1], version: first.version } });
    expect(next.warnings).toEqual([]);
    expect(await storedRef()).toMatchObject({ commit: history[3], version: next.version });
  });

  test('an older commit finishing late leaves the newer ref alone with a ref-is-newer warning', async () => {
    round++;
    const newer = await publishAt(4, dumpB);
    const late = await publishAt(2);
    expect(late.ref).toEqual({ outcome: 'not-advanced', previous: { commit: history[4], version: newer.version }, reason: expect.stringMatching(/already names a newer commit/) });
    expect(late.warnings.map((warning) => warning.code)).toEqual(['ref-is-newer']);
    expect(late.warnings[0]?.message).toContain(`ref master of ${service()} left at ${history[4]}`);
    // The late run's commit entry is written; only the ref stays where it was.
    expect(await storedRef()).toMatchObject({ commit: history[4], version: newer.version });
  });

  test('a commit whose ancestry cannot be decided never moves the ref (ancestry-undecided)', async () => {
    round++;
    const published = await publishAt(2, dumpB);
    const undecided = await publishAt(unknownCommit);
    expect(undecided.ref).toMatchObject({ outcome: 'not-advanced', previous: { commit: history[2], version: published.version } });
    expect(undecided.warnings.map((warning) => warning.code)).toEqual(['ancestry-undecided']);
    expect(undecided.ref.reason).toContain(`cannot tell whether ${unknownCommit} descends from it`);
    expect(await storedRef()).toMatchObject({ commit: history[2], version: published.version });
  });

  // A force push rewrote history after c2: the new commit r3 has c2 as parent, and c3..c5 are gone.
  const rewritten = 'e'.repeat(40);
  const withRewrite: AncestryChecker = async (ancestor, descendant) => {
    if (descendant === rewritten) return ancestor === rewritten || history.indexOf(ancestor) <= 2;
    if (ancestor === rewritten) return false;
    return ancestry(ancestor, descendant);
  };
  // Publish times of the runs (the refs' updatedAt), and the force push between them.
  const clock = (iso: string) => () => new Date(iso);
  const beforePush = clock('2026-01-01T10:00:00Z');
  const forcePushAt = new Date('2026-01-01T11:00:00Z');
  const afterPush = clock('2026-01-01T12:00:00Z');
  const publishRewritten = (historyRewrittenAt: Date | undefined, now = afterPush) =>
    publish({ store, service: service(), dir: dumpB, source: { commit: rewritten, branch: 'master' }, ancestry: withRewrite, ...(historyRewrittenAt ? { historyRewrittenAt } : {}), now });
  const publishOld = (index: number) => publish({ store, service: service(), dir: dumpA, source: { commit: history[index]!, branch: 'master' }, ancestry, now: beforePush });

  test('a ref on history that a force push rewrote is left alone by an ordinary run (ref-diverged), saying how it moves', async () => {
    round++;
    const old = await publishOld(4);
    const run = await publishRewritten(undefined);
    expect(run.ref).toMatchObject({ outcome: 'not-advanced', previous: { commit: history[4], version: old.version } });
    expect(run.warnings.map((warning) => warning.code)).toEqual(['ref-diverged']);
    expect(run.ref.reason).toContain('after a force push, the run of that push moves the ref');
    expect(await storedRef()).toMatchObject({ commit: history[4] });
  });

  test('the run of the force push (historyRewrittenAt) moves it to the new history, with a ref-reset warning', async () => {
    round++;
    const old = await publishOld(4);
    const run = await publishRewritten(forcePushAt);
    expect(run.ref).toEqual({ outcome: 'reset', previous: { commit: history[4], version: old.version } });
    expect(run.warnings.map((warning) => warning.code)).toEqual(['ref-reset']);
    expect(run.warnings[0]?.message).toBe(`ref master of ${service()} moved from ${history[4]} to ${rewritten}: a force push made ${rewritten} the head and replaced the history of ${history[4]}`);
    expect(await storedRef()).toMatchObject({ commit: rewritten, version: run.version });
    // Forward from there as usual; an old-history commit finishing late no longer moves it back.
    expect((await publishAt(5)).ref.outcome).toBe('not-advanced');
    expect(await storedRef()).toMatchObject({ commit: rewritten });
  });

  test('a force push that rewinds the branch moves the ref back to its head; an undecided ancestry never moves it', async () => {
    round++;
    await publishOld(4);
    const rewound = await publish({ store, service: service(), dir: dumpA, source: { commit: history[2]!, branch: 'master' }, ancestry, historyRewrittenAt: forcePushAt, now: afterPush });
    expect(rewound.ref.outcome).toBe('reset');
    expect(await storedRef()).toMatchObject({ commit: history[2] });
    const undecided = await publish({ store, service: service(), dir: dumpB, source: { commit: unknownCommit, branch: 'master' }, ancestry, historyRewrittenAt: forcePushAt, historyReplacedHead: history[2]!, now: afterPush });
    expect(undecided.ref.outcome).toBe('not-advanced');
    expect(undecided.warnings.map((warning) => warning.code)).toEqual(['ancestry-undecided']);
    expect(await storedRef()).toMatchObject({ commit: history[2] });
  });

  test.each([
    ['the replaced head', 4],
    ['an ancestor of the replaced head (its run had not caught up)', 3],
  ])('with the head it replaced, a force push moves a ref at %s even when that ref moved after the push (a concurrency group ran the previous push first)', async (_case, index) => {
    round++;
    const late = () => clock('2026-01-01T11:30:00Z');
    await publish({ store, service: service(), dir: dumpA, source: { commit: history[index]!, branch: 'master' }, ancestry, now: late() });
    // The push time alone says "moved after the push": left alone.
    const timeOnly = await publishRewritten(forcePushAt);
    expect(timeOnly.ref.outcome).toBe('not-advanced');
    const run = await publish({ store, service: service(), dir: dumpB, source: { commit: rewritten, branch: 'master' }, ancestry: withRewrite, historyRewrittenAt: forcePushAt, historyReplacedHead: history[4]!, now: afterPush });
    expect(run.ref).toMatchObject({ outcome: 'reset', previous: { commit: history[index] } });
    expect(await storedRef()).toMatchObject({ commit: rewritten });
  });

  test('with the head it replaced, a ref on another history is decided by the push time (an earlier force push whose run never published)', async () => {
    round++;
    // The ref names `other` (history[4]'s run, before any force push). Force push 1 made `skipped` the head; its
    // run was cancelled (a concurrency group drops pending runs). Force push 2 made `rewritten` the head and
    // replaced `skipped`, which `other` is no ancestor of: the ref moved before push 2, so push 2's run resets it.
    const skipped = 'c'.repeat(40);
    const withSkipped: AncestryChecker = async (ancestor, descendant) => (ancestor === descendant ? true : ancestor === skipped || descendant === skipped ? history.indexOf(ancestor) >= 0 && history.indexOf(ancestor) <= 2 : withRewrite(ancestor, descendant));
    await publishOld(4);
    const run = await publish({ store, service: service(), dir: dumpB, source: { commit: rewritten, branch: 'master' }, ancestry: withSkipped, historyRewrittenAt: forcePushAt, historyReplacedHead: skipped, now: afterPush });
    expect(run.ref.outcome).toBe('reset');
    expect(await storedRef()).toMatchObject({ commit: rewritten });
    // A late run of force push 1 (replacing history[4]) now finds the ref moved after its push: left alone.
    const late = await publish({ store, service: service(), dir: dumpA, source: { commit: skipped, branch: 'master' }, ancestry: withSkipped, historyRewrittenAt: new Date('2026-01-01T10:30:00Z'), historyReplacedHead: history[4]!, now: clock('2026-01-01T12:30:00Z') });
    expect(late.ref.outcome).toBe('not-advanced');
    expect(late.ref.reason).toMatch(/after this force push \(2026-01-01T10:30:00\.000Z\), so a later push's run owns it$/);
    expect(await storedRef()).toMatchObject({ commit: rewritten });
  });

  test('a second force push: the late (or re-run) run of the first cannot move the ref back from the second\'s history', async () => {
    round++;
    // Force push 1 (11:00) made `rewritten` the head; force push 2 (13:00) made `second` the head, on
    // yet another history. The run of push 2 finished first (14:00) and reset the ref to `second`.
    const second = 'd'.repeat(40);
    const withSecond: AncestryChecker = async (ancestor, descendant) => (ancestor === descendant ? true : ancestor === second || descendant === second ? false : withRewrite(ancestor, descendant));
    await publishOld(4);
    const run2 = await publish({ store, service: service(), dir: dumpA, source: { commit: second, branch: 'master' }, ancestry: withSecond, historyRewrittenAt: new Date('2026-01-01T13:00:00Z'), now: clock('2026-01-01T14:00:00Z') });
    expect(run2.ref.outcome).toBe('reset');
    // The run of push 1 finishes late (15:00): the ref was moved after push 1, so it is left alone.
    const run1 = await publish({ store, service: service(), dir: dumpB, source: { commit: rewritten, branch: 'master' }, ancestry: withSecond, historyRewrittenAt: forcePushAt, now: clock('2026-01-01T15:00:00Z') });
    expect(run1.ref.outcome).toBe('not-advanced');
    expect(run1.ref.reason).toMatch(/it was moved at 2026-01-01T14:00:00\.000Z, after this force push \(2026-01-01T11:00:00\.000Z\), so a later push's run owns it$/);
    expect(await storedRef()).toMatchObject({ commit: second });
  });
});
