import { Option } from 'commander';
import { NotFoundError, verify } from '@org/dump-versioning';
import type { RegisterCommand } from '../internal/context.js';
import { printJson, printLines, progressBar } from '../internal/output.js';
import { ReportedFailure } from '../internal/usage.js';
import { addStoreOptions, withStore, type StoreFlags } from '../internal/store-options.js';

interface VerifyFlags extends StoreFlags {
  service?: string;
  quick: boolean;
}

export const registerVerify: RegisterCommand = (program, context) => {
  const command = program
    .command('verify')
    .description('check that every manifest\'s blobs exist and hash right and that no commit entry or ref dangles')
    .addOption(new Option('--service <name>', 'only this service (default: every service in the store)'))
    .option('--quick', 'only check that blobs exist, without downloading them', false);
  addStoreOptions(command).action(async (flags: VerifyFlags) => {
    const progress = progressBar(context, flags.json);
    let location = flags.store;
    const result = await withStore(flags, context, (store) => {
      location = store.location;
      return verify({
        store,
        hashes: !flags.quick,
        ...(flags.service !== undefined ? { service: flags.service } : {}),
        ...(progress.listener ? { onProgress: progress.listener } : {}),
      }).finally(progress.stop);
    });
    // No service at all is a mistyped service or store, never a verified one: a CI verify job must not stay green on it.
    if (result.services.length === 0) {
      const what = flags.service === undefined ? 'no dump of any service' : `no dump of service ${flags.service} at all`;
      throw new NotFoundError('nothing-to-verify', `${location} holds ${what}; check the store (its location and prefix)${flags.service === undefined ? '' : ' and the service name'}`);
    }
    if (flags.json) printJson(context, result);
    else {
      const { versions, commits, refs, blobs, migrations } = result.checked;
      printLines(context, [
        ...result.problems.map((problem) => `problem: ${problem.message}`),
        ...result.warnings.map((warning) => `warning: ${warning.message}`),
        `${result.ok ? 'ok' : 'FAILED'}: ${result.services.length} service(s), ${versions} version(s), ${commits} commit(s), ${refs} ref(s), ${blobs} blob(s), ${migrations} migrations record(s) checked, ${result.problems.length} problem(s)`,
      ]);
    }
    if (!result.ok) throw new ReportedFailure('verify found problems');
  });
};
