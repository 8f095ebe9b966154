import * as core from '@actions/core';
import { InputError } from './errors.js';

/** Where raw input strings come from: the runner's INPUT_* variables, or a table in tests. */
export type InputReader = (name: string) => string;

export const actionsInputReader: InputReader = (name) => core.getInput(name, { trimWhitespace: true });

export function readString(read: InputReader, name: string): string {
  return read(name).trim();
}

export function readRequired(read: InputReader, name: string, hint: string): string {
  const value = readString(read, name);
  if (value === '') throw new InputError(name, `is required; ${hint}`);
  return value;
}

/** Items separated by commas or new lines, trimmed, empty items dropped. */
export function readList(read: InputReader, name: string): string[] {
  return read(name)
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Non-empty lines, trimmed (for values that may contain commas, such as commands). */
export function readLines(read: InputReader, name: string): string[] {
  return read(name)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

const truthy = new Set(['true', 'yes', '1', 'on']);
const falsy = new Set(['false', 'no', '0', 'off']);

export function readBoolean(read: InputReader, name: string, fallback: boolean): boolean {
  const value = readString(read, name).toLowerCase();
  if (value === '') return fallback;
  if (truthy.has(value)) return true;
  if (falsy.has(value)) return false;
  throw new InputError(name, `expected true or false, got "${value}"`);
}

export function readChoice<const T extends string>(read: InputReader, name: string, choices: readonly T[], fallback: T): T {
  const value = readString(read, name);
  if (value === '') return fallback;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new InputError(name, `expected one of ${choices.join(', ')}, got "${value}"`);
}

export function readOptionalPositiveInt(read: InputReader, name: string): number | undefined {
  const value = readString(read, name);
  if (value === '') return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) < 1) {
    throw new InputError(name, `expected a whole number of at least 1, got "${value}"`);
  }
  return Number(value);
}

/** `key=value` items separated by commas or new lines; keys must be unique. */
export function readKeyValuePairs(read: InputReader, name: string, separators: 'lines' | 'commas-or-lines' = 'commas-or-lines'): Map<string, string> {
  const items = separators === 'lines' ? readLines(read, name) : readList(read, name);
  const pairs = new Map<string, string>();
  for (const item of items) {
    const at = item.indexOf('=');
    if (at <= 0) throw new InputError(name, `expected key=value, got "${item}"`);
    const key = item.slice(0, at).trim();
    if (pairs.has(key)) throw new InputError(name, `"${key}" is given twice`);
    pairs.set(key, item.slice(at + 1).trim());
  }
  return pairs;
}
