import { resolve } from '@org/dump-versioning';
import type { RegisterCommand } from '../internal/context.js';
import { describeDistance, printJson, printLines } from '../internal/output.js';
import { addServiceOption, addStoreOptions, withStore, type ServiceFlags } from '../internal/store-options.js';
import { addRepoOption } from '../internal/repo-option.js';
import { UsageError, wholeNumber } from '../internal/usage.js';

interface ResolveFlags extends ServiceFlags {
  commit?: string;
  branch?: string;
  repo: string;
  maxDistance: number;
}

export const registerResolve: RegisterCommand = (program, context) => {
  const command = program
    .command('resolve')
    .description('find the dump for a branch, or for the nearest first-parent ancestor of a commit (default HEAD)')
    .option('--commit <rev>', 'commit or revision to resolve (default HEAD of --repo)')
    .option('--branch <name>', 'read the branch ref instead of walking history')
    .option('--max-distance <n>', 'how many first-parent ancestors to look at', wholeNumber('--max-distance'), 200);
  addRepoOption(addServiceOption(addStoreOptions(command)), 'git clone to walk', context).action(async (flags: ResolveFlags) => {
    if (flags.commit !== undefined && flags.branch !== undefined) throw new UsageError('pass either --commit or --branch, not both');
    const result = await withStore(flags, context, (store) =>
      resolve({
        store,
        service: flags.service,
        maxDistance: flags.maxDistance,
        ...(flags.branch !== undefined ? { branch: flags.branch } : { commit: flags.commit ?? 'HEAD', repoDir: flags.repo }),
      }),
    );
    if (flags.json) {
      const { entry, ...rest } = result;
      // `branch`: the branch ref that answered (via branch-ref); `publishedBranch`: the branch the dump was published for.
      printJson(context, { ...rest, branch: rest.branch ?? null, createdAt: entry.createdAt, publishedBranch: entry.source.branch ?? null });
      return;
    }
    printLines(context, [
      `commit    ${result.commit}${result.distance > 0 ? ` ${describeDistance(result)}` : ''}`,
      `version   ${result.version}`,
      `published ${result.entry.createdAt}`,
    ]);
  });
};
