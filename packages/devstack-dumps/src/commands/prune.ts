import { prune } from '@org/dump-versioning';
import { Interrupted, type RegisterCommand } from '../internal/context.js';
import { bytes, printJson, printLines } from '../internal/output.js';
import { addServiceOption, addStoreOptions, withStore, type ServiceFlags } from '../internal/store-options.js';
import { wholeNumber } from '../internal/usage.js';

interface PruneFlags extends ServiceFlags {
  keep: number;
  keepRecentDays: number;
  graceMinutes: number;
  yes: boolean;
}

export const registerPrune: RegisterCommand = (program, context) => {
  const command = program
    .command('prune')
    .description('delete old versions (keeps the newest N per branch, every ref and recent commits); dry run unless --yes')
    .requiredOption('--keep <n>', 'versions to keep per branch (required)', wholeNumber('--keep'))
    .option('--keep-recent-days <days>', 'also keep versions of commits published this recently', wholeNumber('--keep-recent-days'), 7)
    .option('--grace-minutes <minutes>', 'never delete objects younger than this (protects running publishes)', wholeNumber('--grace-minutes'), 60)
    .option('--yes', 'really delete', false);
  addServiceOption(addStoreOptions(command)).action(async (flags: PruneFlags) => {
    const result = await withStore(flags, context, (store) =>
      prune({
        store,
        service: flags.service,
        keep: flags.keep,
        keepRecentMs: flags.keepRecentDays * 86_400_000,
        graceMs: flags.graceMinutes * 60_000,
        yes: flags.yes,
        // Ctrl-C stops it between delete batches and releases its lease (else publishes would wait for it).
        ...(context.interruptible ? { signal: context.interruptible() } : {}),
      }).catch((error: unknown) => {
        if (error instanceof Interrupted && flags.yes) {
          error.outcome = 'prune stopped before or between its delete batches and released its lease; what it deleted is named by nothing kept, run prune again to finish';
        }
        throw error;
      }),
    );
    if (flags.json) {
      printJson(context, result);
      return;
    }
    const { commits, versions, blobs, migrations, uploads } = result.deleted;
    printLines(context, [
      `${result.dryRun ? 'would delete' : 'deleted'}: ${versions.length} version(s), ${commits.length} commit entr(ies), ${blobs.length} blob(s), ${migrations.length} migrations record(s), ${bytes(result.bytes)}`,
      ...(uploads.length > 0 ? [`${result.dryRun ? 'would abort' : 'aborted'} ${uploads.length} incomplete upload(s) of interrupted publishes`] : []),
      `kept ${result.keptVersions.length} version(s)`,
      ...result.warnings.map((warning) => `warning: ${warning}`),
      ...(result.dryRun && commits.length + versions.length + blobs.length + migrations.length + uploads.length > 0 ? ['dry run: pass --yes to delete'] : []),
    ]);
  });
};
