import { describe, expect, test } from 'vitest';
import { createLimiter, mapLimit } from '../src/internal/concurrency.js';

/** A task that records when it runs and finishes when told to. */
function controllable(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    task: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    finish: () => finish(),
  };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('createLimiter', () => {
  test('runs at most `capacity` tasks at once, the others in call order as slots free up', async () => {
    const limit = createLimiter(2);
    const log: string[] = [];
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => controllable(log, name));
    const results = [a, b, c, d].map((task) => limit(task!.task));
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    b!.finish();
    await settle();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    a!.finish();
    c!.finish();
    d!.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
  });

  test('weights: tasks share a budget, and one heavier than the whole budget runs alone', async () => {
    const limit = createLimiter(10);
    const log: string[] = [];
    const [small, medium, huge, last] = ['small', 'medium', 'huge', 'last'].map((name) => controllable(log, name));
    const results = [limit(small!.task, 4), limit(medium!.task, 6), limit(huge!.task, 25), limit(last!.task, 1)];
    await settle();
    // Waiters keep their order: `last` fits the budget but does not overtake `huge`.
    expect(log).toEqual(['start small', 'start medium']);
    small!.finish();
    await settle();
    expect(log).not.toContain('start huge');
    medium!.finish();
    await settle();
    expect(log.slice(-2)).toEqual(['end medium', 'start huge']);
    huge!.finish();
    await settle();
    expect(log.at(-1)).toBe('start last');
    last!.finish();
    await Promise.all(results);
  });

  test('a failing task frees its slot and its error reaches the caller', async () => {
    const limit = createLimiter(1);
    await expect(limit(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit(async () => 'next')).toBe('next');
  });
});

describe('mapLimit', () => {
  test('after the first failure starts nothing new and rejects only once started tasks settled (first error wins)', async () => {
    const log: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const outcome = mapLimit([0, 1, 2, 3, 4], 2, async (item) => {
      log.push(`start ${item}`);
      if (item === 0) {
        await slow;
        log.push('end 0');
        throw new Error('second failure');
      }
      if (item === 1) throw new Error('first failure');
      return item;
    }).then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    let settled = false;
    void outcome.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false); // task 0 is still running
    release();
    expect(await outcome).toBe('first failure');
    expect(log).toEqual(['start 0', 'start 1', 'end 0']);
  });
});
