import { InvalidInputError } from './errors.js';

/**
 * Why `name` is not a valid branch short name under git's check-ref-format rules, or undefined.
 * Refs are stored one object per name, so `refs/heads/main` and `main` would silently be two refs.
 */
function branchNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name.startsWith('refs/')) return 'it is a full ref; give the short name, e.g. main';
  if (name === '@') return 'it is "@", which git reserves for HEAD';
  if (name === 'HEAD') return 'it is "HEAD", which names the checked-out commit, not a branch';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(name)) return 'it contains a space or a control character';
  const forbidden = /[~^:?*[\\]/.exec(name);
  if (forbidden) return `it contains ${JSON.stringify(forbidden[0])}`;
  if (name.includes('..')) return 'it contains ".."';
  if (name.includes('@{')) return 'it contains "@{"';
  if (name.startsWith('-')) return 'it starts with "-"';
  if (name.startsWith('/')) return 'it starts with "/"';
  if (name.endsWith('/')) return 'it ends with "/"';
  if (name.endsWith('.')) return 'it ends with "."';
  if (name.includes('//')) return 'it contains "//"';
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return `its part ${JSON.stringify(component)} starts with "."`;
    if (component.endsWith('.lock')) return `its part ${JSON.stringify(component)} ends with ".lock"`;
  }
  return undefined;
}

/** Returns `name` when it is a valid git branch short name; throws InvalidInputError `bad-branch` saying why not. */
export function checkBranchName(name: string): string {
  const problem = typeof name === 'string' ? branchNameProblem(name) : 'it is not a string';
  if (problem !== undefined) {
    throw new InvalidInputError('bad-branch', `branch name ${JSON.stringify(name)} is invalid: ${problem} (git check-ref-format rules for a branch)`);
  }
  return name;
}
