import { describe, expect, it } from 'vitest';
import {
  InputError,
  type InputReader,
  readBoolean,
  readChoice,
  readKeyValuePairs,
  readList,
  readLines,
  readOptionalPositiveInt,
  readRequired,
} from '../src/index.js';

const reader =
  (values: Record<string, string>): InputReader =>
  (name) =>
    values[name] ?? '';

describe('readList', () => {
  it.each([
    ['', []],
    ['a', ['a']],
    ['a, b,,c', ['a', 'b', 'c']],
    ['a\n b \n\n', ['a', 'b']],
    ['a,b\nc', ['a', 'b', 'c']],
  ])('%j -> %j', (raw, expected) => {
    expect(readList(reader({ x: raw }), 'x')).toEqual(expected);
  });
});

describe('readLines', () => {
  it('keeps commas inside a line and drops comments', () => {
    expect(readLines(reader({ x: 'echo a,b\n# note\n  make  \n' }), 'x')).toEqual(['echo a,b', 'make']);
  });
});

describe('readBoolean', () => {
  it.each([
    ['', true, true],
    ['', false, false],
    ['true', false, true],
    ['YES', false, true],
    ['0', true, false],
    ['off', true, false],
  ])('%j (fallback %s) -> %s', (raw, fallback, expected) => {
    expect(readBoolean(reader({ flag: raw }), 'flag', fallback)).toBe(expected);
  });

  it('names the input when the value is not a boolean', () => {
    expect(() => readBoolean(reader({ flag: 'maybe' }), 'flag', false)).toThrow(
      new InputError('flag', 'expected true or false, got "maybe"'),
    );
  });
});

describe('readChoice', () => {
  it.each([
    ['', 'auto'],
    ['full', 'full'],
    ['incremental', 'incremental'],
  ])('%j -> %s', (raw, expected) => {
    expect(readChoice(reader({ mode: raw }), 'mode', ['auto', 'full', 'incremental'], 'auto')).toBe(expected);
  });

  it('lists the choices in the error', () => {
    expect(() => readChoice(reader({ mode: 'fast' }), 'mode', ['auto', 'full'], 'auto')).toThrow(
      'Input `mode`: expected one of auto, full, got "fast"',
    );
  });
});

describe('readOptionalPositiveInt', () => {
  it.each([
    ['', undefined],
    ['1', 1],
    ['30', 30],
  ])('%j -> %s', (raw, expected) => {
    expect(readOptionalPositiveInt(reader({ keep: raw }), 'keep')).toBe(expected);
  });

  it.each(['0', '-1', '2.5', 'ten'])('rejects %j', (raw) => {
    expect(() => readOptionalPositiveInt(reader({ keep: raw }), 'keep')).toThrow(/Input `keep`/);
  });
});

describe('readKeyValuePairs', () => {
  it('reads pairs and keeps = in values', () => {
    const pairs = readKeyValuePairs(reader({ targets: 'devstack=dev, production=production\nx=a=b' }), 'targets');
    expect([...pairs]).toEqual([
      ['devstack', 'dev'],
      ['production', 'production'],
      ['x', 'a=b'],
    ]);
  });

  it.each([
    ['devstack', 'expected key=value, got "devstack"'],
    ['=dev', 'expected key=value, got "=dev"'],
    ['a=1,a=2', '"a" is given twice'],
  ])('rejects %j', (raw, problem) => {
    expect(() => readKeyValuePairs(reader({ targets: raw }), 'targets')).toThrow(`Input \`targets\`: ${problem}`);
  });
});

describe('readRequired', () => {
  it('says what to do when missing', () => {
    expect(() => readRequired(reader({}), 'service', 'set it to the service name, e.g. lms')).toThrow(
      'Input `service`: is required; set it to the service name, e.g. lms',
    );
  });
});
