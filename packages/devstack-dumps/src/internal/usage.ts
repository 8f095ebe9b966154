import { statSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

/** Wrong combination of arguments (exit code 2), found after commander parsed them. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Exactly one of the named flags must be set. */
export function exactlyOne(flags: Record<string, unknown>, names: ReadonlyArray<string>): string {
  const set = names.filter((name) => flags[name] !== undefined);
  if (set.length !== 1) {
    const spelled = names.map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw new UsageError(set.length === 0 ? `pass one of ${spelled.join(', ')}` : `pass only one of ${spelled.join(', ')}`);
  }
  return set[0]!;
}

/** Option parser for whole numbers; commander turns its error into a usage error (exit 2). */
export function wholeNumber(name: string) {
  return (value: string) => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < 0) throw new InvalidArgumentError(`${name} must be a whole number (got ${JSON.stringify(value)})`);
    return number;
  };
}

/** The command already printed why it failed (e.g. verify's problem list); exit 1 without more output. */
export class ReportedFailure extends Error {
  override name = 'ReportedFailure';
}

/** Option parser for a directory that must exist (a typo would otherwise read as "no migrations" or "not a git repository"). */
export function existingDirectory(name: string) {
  return (value: string) => {
    const stats = statSync(value, { throwIfNoEntry: false });
    if (stats === undefined) throw new InvalidArgumentError(`${name} ${JSON.stringify(value)} does not exist; give the directory of a git working tree`);
    if (!stats.isDirectory()) throw new InvalidArgumentError(`${name} ${JSON.stringify(value)} is not a directory`);
    return value;
  };
}

/** Option parser for a full commit sha (an index key: revisions like `master~1` are not resolved here). */
export function fullCommitSha(name: string) {
  return (value: string) => {
    const sha = value.trim().toLowerCase();
    if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(sha)) {
      throw new InvalidArgumentError(`${name} takes a full commit sha (got ${JSON.stringify(value)}); for a revision such as master~1 use \`git rev-parse\` first, or \`resolve --commit <rev>\` to find its nearest published dump`);
    }
    return sha;
  };
}
