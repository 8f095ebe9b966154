import path from 'node:path';
import { DEFAULT_MIGRATION_GLOBS, fingerprintMigrationFiles, workingTreeRoot, type MigrationFingerprint, type MigrationsScope } from '@org/dump-versioning';

export interface ScopedFingerprint {
  fingerprint: MigrationFingerprint;
  /** The globs, relative to `--repo`, in words for messages. */
  described: string;
  /** Where the scope came from: --migrations-glob, the dump's record, or the default. */
  from: 'flag' | 'dump' | 'default';
}

/**
 * The working tree's fingerprint taken the way the dump's was: with --migrations-glob when given, else with
 * the directory and globs the publisher recorded (the action's working-directory and migrations-glob), else
 * Django's default. A checkout fingerprinted differently from the dump (a `venv/` or a second app folder
 * the CI globs left out) would list migrations as pending or removed that are neither.
 */
export async function fingerprintAsDumped(repo: string, given: string[] | undefined, recorded: MigrationsScope | undefined): Promise<ScopedFingerprint> {
  if (given !== undefined) return { fingerprint: await fingerprintMigrationFiles(repo, given), described: given.join(' '), from: 'flag' };
  // The store is read, not trusted with paths: a directory or glob that leaves the checkout is not followed.
  if (recorded && staysInside(recorded)) {
    // Recorded relative to the top of the working tree, which --repo may be below.
    const root = path.resolve((await workingTreeRoot(repo)) ?? repo, recorded.directory);
    const prefix = recorded.directory === '.' ? '' : `${recorded.directory}/`;
    return { fingerprint: await fingerprintMigrationFiles(root, recorded.globs), described: recorded.globs.map((glob) => `${prefix}${glob}`).join(' '), from: 'dump' };
  }
  return { fingerprint: await fingerprintMigrationFiles(repo, DEFAULT_MIGRATION_GLOBS), described: DEFAULT_MIGRATION_GLOBS.join(' '), from: 'default' };
}

/** Relative paths only, no `..` segment, no drive letter: a scope that cannot reach outside the checkout. */
function staysInside(scope: MigrationsScope): boolean {
  const safe = (value: string) => !path.posix.isAbsolute(value) && !path.win32.isAbsolute(value) && !/^[a-z]:/i.test(value) && !value.split(/[\\/]/).includes('..');
  return safe(scope.directory) && scope.globs.every(safe);
}
