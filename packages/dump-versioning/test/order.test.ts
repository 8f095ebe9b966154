import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { byteOrder, naturalOrder } from '../src/internal/order.js';

describe('naturalOrder', () => {
  test.each<[string, string[], string[]]>([
    ['Flyway versions by value', ['V10__c', 'V2__b', 'V1__init', 'V4__y'], ['V1__init', 'V2__b', 'V4__y', 'V10__c']],
    ['Django names (zero-padded) as in byte order', ['0010_more', '0002_b', '0001_initial'], ['0001_initial', '0002_b', '0010_more']],
    ['unpadded numbers by value', ['10_x', '9_x', '100_x'], ['9_x', '10_x', '100_x']],
    ['numbers longer than a double holds exactly', ['20240201000000000001_b', '20240201000000000000_a'], ['20240201000000000000_a', '20240201000000000001_b']],
    ['equal values: byte order decides (leading zeros)', ['V1__a', 'V01__a', 'V001__a'], ['V001__a', 'V01__a', 'V1__a']],
    ['letters in byte order (no locale: uppercase first)', ['b', 'B', 'a'], ['B', 'a', 'b']],
    ['a shorter name first', ['V1__ab', 'V1__a', 'V1'], ['V1', 'V1__a', 'V1__ab']],
  ])('%s', (_name, input, expected) => {
    expect([...input].sort(naturalOrder)).toEqual(expected);
  });

  const name = fc.string({ unit: fc.constantFrom(...'0019_.Vab'), maxLength: 8 });

  test('is a total order: antisymmetric, 0 only for equal strings, transitive', () => {
    fc.assert(fc.property(name, name, name, (a, b, c) => {
      expect(Math.sign(naturalOrder(a, b)) + Math.sign(naturalOrder(b, a))).toBe(0);
      expect(naturalOrder(a, b) === 0).toBe(a === b);
      if (naturalOrder(a, b) < 0 && naturalOrder(b, c) < 0) expect(naturalOrder(a, c)).toBeLessThan(0);
    }));
  });

  test('without digits it is byte order', () => {
    const letters = fc.string({ unit: fc.constantFrom(...'_.-aBz'), maxLength: 6 });
    fc.assert(fc.property(letters, letters, (a, b) => {
      expect(Math.sign(naturalOrder(a, b))).toBe(Math.sign(byteOrder(a, b)));
    }));
  });
});
