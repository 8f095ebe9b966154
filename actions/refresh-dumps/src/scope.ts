import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { workingTreeRoot, type MigrationsScope } from '@org/dump-versioning';

/**
 * working-directory relative to the top of its git working tree (POSIX separators; a developer's checkout
 * is that tree, also when actions/checkout put it under a `path:` of the workspace) and migrations-glob,
 * as the store records them.
 */
export async function migrationsScopeOf(workspace: string, workDir: string, globs: string[]): Promise<MigrationsScope> {
  const top = await workingTreeRoot(workDir);
  // git answers with the real path; the workspace may be reached through a symlink.
  const directory = top ? path.relative(top, await realpath(workDir).catch(() => workDir)) : path.relative(workspace, workDir);
  return { directory: directory.split(path.sep).join('/') || '.', globs };
}

