import { describe, expect, test } from 'vitest';
import { PhaseClock } from '../src/clock.js';

describe('PhaseClock', () => {
  test('records start and duration of each phase, failed ones included, and tells repeated names apart', async () => {
    let now = 100;
    const clock = new PhaseClock(() => now);
    await clock.time('migrate', async () => {
      now += 50;
    });
    await expect(
      clock.time('migrate', async () => {
        now += 7;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await clock.time('migrate', async () => {
      now += 1;
    });
    expect(clock.phases).toEqual([
      { name: 'migrate', startMs: 100, ms: 50 },
      { name: 'migrate (2)', startMs: 150, ms: 7 },
      { name: 'migrate (3)', startMs: 157, ms: 1 },
    ]);
    expect(clock.elapsed()).toBe(158);
  });
});
