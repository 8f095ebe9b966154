import { diff } from '@org/dump-versioning';
import { schemaDiffDetail } from '@org/dump-set';
import type { RegisterCommand } from '../internal/context.js';
import { bytes, printJson, printLines, table } from '../internal/output.js';
import { addServiceOption, addStoreOptions, withStore, type ServiceFlags } from '../internal/store-options.js';

export const registerDiff: RegisterCommand = (program, context) => {
  const command = program
    .command('diff')
    .description('files added, removed and changed between two versions, and the schema changes (tables, columns, indexes; collections, indexes)')
    .argument('<from>', 'older version id')
    .argument('<to>', 'newer version id');
  addServiceOption(addStoreOptions(command)).action(async (from: string, to: string, flags: ServiceFlags) => {
    const result = await withStore(flags, context, (store) => diff({ store, service: flags.service, from, to, detail: schemaDiffDetail }));
    const schema = result.details ?? { mysql: [], mongo: [] };
    if (flags.json) {
      printJson(context, {
        from: result.from,
        to: result.to,
        added: result.added.map((file) => file.path),
        removed: result.removed.map((file) => file.path),
        changed: result.changed.map((change) => change.path),
        unchanged: result.unchanged,
        schema,
      });
      return;
    }
    const files = [
      ...result.added.map((file) => ['+', file.path, bytes(file.size)]),
      ...result.removed.map((file) => ['-', file.path, bytes(file.size)]),
      ...result.changed.map((change) => ['~', change.path, `${bytes(change.before.size)} -> ${bytes(change.after.size)}`]),
    ];
    const schemaRows = [...schema.mysql.map((line) => ['MySQL', line]), ...schema.mongo.map((line) => ['MongoDB', line])];
    printLines(context, [
      ...(files.length > 0 ? table(['', 'FILE', 'SIZE'], files) : []),
      `${result.added.length} added, ${result.removed.length} removed, ${result.changed.length} changed, ${result.unchanged} unchanged`,
      '',
      ...(schemaRows.length > 0 ? table(['ENGINE', 'SCHEMA CHANGE'], schemaRows) : ['no schema changes (tables, columns, indexes, foreign keys; collections, indexes)']),
    ]);
  });
};
