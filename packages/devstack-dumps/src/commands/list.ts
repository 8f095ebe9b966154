import { list, unknownService } from '@org/dump-versioning';
import type { RegisterCommand } from '../internal/context.js';
import { bytes, printJson, printLines, short, table } from '../internal/output.js';
import { addServiceOption, addStoreOptions, withStore, type ServiceFlags } from '../internal/store-options.js';

export const registerList: RegisterCommand = (program, context) => {
  const command = program.command('list').description('list branch refs, versions and published commits of a service');
  addServiceOption(addStoreOptions(command)).action(async (flags: ServiceFlags) => {
    const result = await withStore(flags, context, async (store) => {
      const listed = await list({ store, service: flags.service });
      // Nothing at all is a mistyped service or store far more often than an answer: a failure, as in status.
      if (listed.versions.length === 0 && listed.refs.length === 0) throw unknownService(store, flags.service, 'unknown-service');
      return listed;
    });
    if (flags.json) {
      printJson(context, result);
      return;
    }
    printLines(context, [
      ...table(['BRANCH', 'COMMIT', 'VERSION', 'UPDATED'], result.refs.map((ref) => [ref.branch, short(ref.commit), short(ref.version), ref.updatedAt])),
      '',
      ...table(
        ['VERSION', 'CREATED', 'FILES', 'SIZE', 'COMMITS', 'FIRST COMMIT'],
        result.versions.map((version) => [short(version.version), version.createdAt, String(version.files), bytes(version.size), String(version.commits.length), short(version.source.commit)]),
      ),
    ]);
  });
};
