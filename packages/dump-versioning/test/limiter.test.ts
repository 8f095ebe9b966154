import { describe, expect, test } from 'vitest';
import { createLimiter } from '../src/internal/concurrency.js';

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
