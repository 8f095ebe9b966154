import { diff } from '@org/dump-versioning';
import type { RegisterCommand } from '../internal/context.js';
import { bytes, printJson, printLines } from '../internal/output.js';
import { addServiceOption, addStoreOptions, withStore, type ServiceFlags } from '../internal/store-options.js';

export const registerDiff: RegisterCommand = (program, context) => {
  const command = program
    .command('diff')
    .description('files added, removed and changed between two versions')
    .argument('<from>', 'older version id')
    .argument('<to>', 'newer version id');
  addServiceOption(addStoreOptions(command)).action(async (from: string, to: string, flags: ServiceFlags) => {
    const result = await withStore(flags, context, (store) => diff({ store, service: flags.service, from, to }));
    if (flags.json) {
      printJson(context, {
        from: result.from,
        to: result.to,
        added: result.added.map((file) => file.path),
        removed: result.removed.map((file) => file.path),
        changed: result.changed.map((change) => change.path),
        unchanged: result.unchanged,
      });
      return;
    }
    const lines = [
      ...result.added.map((file) => `+ ${file.path} (${bytes(file.size)})`),
      ...result.removed.map((file) => `- ${file.path}`),
      ...result.changed.map((change) => `~ ${change.path} (${bytes(change.before.size)} -> ${bytes(change.after.size)})`),
    ];
    printLines(context, [...lines, `${result.added.length} added, ${result.removed.length} removed, ${result.changed.length} changed, ${result.unchanged} unchanged`]);
  });
};
