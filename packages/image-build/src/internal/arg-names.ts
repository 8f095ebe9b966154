import type { Step } from './dockerfile-model.js';

/** One word of an ARG instruction: quotes and backslash escapes keep a value with spaces together. */
const WORD = /(?:[^\s"'\\]|\\.|"(?:[^"\\]|\\.)*"|'[^']*')+/g;

/**
 * The names an ARG instruction declares, as BuildKit reads it: `ARG A=1 B` and `ARG FOO HTTP_PROXY`
 * each declare two. The parsed `argNames` alone miss the second name of `ARG FOO HTTP_PROXY` (read as
 * FOO with the value `HTTP_PROXY`), which BuildKit declares, and records in the history, as two ARGs.
 */
export function declaredArgNames(step: Step): string[] {
  if (step.keyword !== 'ARG') return [];
  const names = new Set((step.argNames ?? []).map((a) => a.name));
  for (const word of step.text.match(WORD) ?? []) {
    const name = word.split('=')[0] ?? '';
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) names.add(name);
  }
  return [...names];
}
