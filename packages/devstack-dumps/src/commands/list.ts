import { list } from '@org/dump-versioning';
import type { RegisterCommand } from '../internal/context.js';
import { bytes, printJson, printLines, short, table } from '../internal/output.js';
import { addServiceOption, addStoreOptions, withStore, type ServiceFlags } from '../internal/store-options.js';

export const registerList: RegisterCommand = (program, context) => {
  const command = program.command('list').description('list branch refs, versions and published commits of a service');
  addServiceOption(addStoreOptions(command)).action(async (flags: ServiceFlags) => {
    const result = await withStore(flags, context, (store) => list({ store, service: flags.service }));
    if (flags.json) {
      printJson(context, result);
      return;
    }
    if (result.versions.length === 0) {
      printLines(context, [`no dumps of service ${flags.service} in ${flags.store}`]);
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
