import type { Command } from 'commander';
import { workingTreeRoot } from '@org/dump-versioning';
import type { CommandContext } from './context.js';
import { UsageError, existingDirectory } from './usage.js';

/**
 * `--repo <dir>`, defaulting to the top of the working tree the command runs in: run from a subdirectory,
 * migration globs relative to the current directory would match nothing and report every migration of the
 * dump as removed.
 */
export function addRepoOption(command: Command, what: string, context: CommandContext): Command {
  return command
    .option('--repo <dir>', `${what} (default: the git working tree of the current directory)`, existingDirectory('--repo'))
    .hook('preAction', async (_program, action) => {
      if (action.getOptionValue('repo') !== undefined) return;
      const root = await workingTreeRoot(context.cwd);
      // Outside a checkout git's own message ("cannot find commit HEAD ... fetch it") would point the wrong way.
      if (root === undefined) throw new UsageError(`${context.cwd} is not inside a git working tree; run this in the service's checkout, or name it with --repo <dir>`);
      action.setOptionValue('repo', root);
    });
}
