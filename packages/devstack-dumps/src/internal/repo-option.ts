import { execFile } from 'node:child_process';
import type { Command } from 'commander';
import type { CommandContext } from './context.js';
import { existingDirectory } from './usage.js';

/** The top of the git working tree holding `dir`, or `dir` itself when it is not in one. */
export function workingTreeRoot(dir: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('git', ['rev-parse', '--show-toplevel'], { cwd: dir }, (error, stdout) => resolve(error ? dir : stdout.trim() || dir));
  });
}

/**
 * `--repo <dir>`, defaulting to the top of the working tree the command runs in: run from a subdirectory,
 * migration globs relative to the current directory would match nothing and report every migration of the
 * dump as removed.
 */
export function addRepoOption(command: Command, what: string, context: CommandContext): Command {
  return command
    .option('--repo <dir>', `${what} (default: the git working tree of the current directory)`, existingDirectory('--repo'))
    .hook('preAction', async (_program, action) => {
      if (action.getOptionValue('repo') === undefined) action.setOptionValue('repo', await workingTreeRoot(context.cwd));
    });
}
