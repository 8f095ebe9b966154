import { InvalidArgumentError } from 'commander';
import { dumpSet } from '@org/dump-set';
import { parseVolatileColumns } from '@org/mysql-dump';
import type { RegisterCommand } from '../internal/context.js';
import { UsageError } from '../internal/usage.js';
import { printJson, printLines, progressLines, seconds } from '../internal/output.js';
import { addServerOptions, databaseList, databasesToDump, nameList, requireServer, type ServerFlags } from '../internal/server-options.js';

interface DumpFlags extends ServerFlags {
  mysqlDb?: string[];
  mongoDb?: string[];
  dataTables?: string[];
  /** Every `--volatile-column` given (commander names the option after its flag). */
  volatileColumn?: Record<string, string | null>;
  dataCollections?: string[];
  out: string;
  json: boolean;
}

/** One `--volatile-column table.column=value`, added to those given before. */
function volatileColumn(value: string, previous: Record<string, string | null> | undefined): Record<string, string | null> {
  try {
    return { ...previous, ...parseVolatileColumns([value]) };
  } catch (error) {
    throw new InvalidArgumentError(`--volatile-column: ${(error as Error).message}`);
  }
}

export const registerDump: RegisterCommand = (program, context) => {
  const command = program
    .command('dump')
    .description('dump MySQL and MongoDB schemas (+ reference data) deterministically into a new dump set directory');
  addServerOptions(command)
    .option('--mysql-db <names>', 'MySQL databases to dump, comma-separated (default: the database in the --mysql URL)', databaseList('--mysql-db', 'mysql'))
    .option('--data-tables <tables>', 'tables whose rows are dumped, `table` or `db.table` (default: the Django reference tables)', nameList('--data-tables'))
    .option(
      '--volatile-column <table.column=value>',
      'fix a data table column that changes per run (repeatable; `=NULL` for NULL), on top of the migration tools\' bookkeeping tables\' own',
      volatileColumn,
    )
    .option('--mongo-db <names>', 'MongoDB databases to dump, comma-separated (default: the database in the --mongo URL)', databaseList('--mongo-db', 'mongo'))
    .option('--data-collections <collections>', 'collections whose documents are dumped, `collection` or `db.collection` (default: none)', nameList('--data-collections'))
    .requiredOption('--out <dir>', 'directory to create (must be new or empty); its checksum list goes to <dir>.checksums.json')
    .option('--json', 'machine-readable output on stdout', false)
    .action(async (flags: DumpFlags) => {
      requireServer(flags, 'dump');
      // They fix MySQL data table columns: without --mysql they would be dropped without a word.
      for (const [given, flag] of [[flags.dataTables, '--data-tables'], [flags.volatileColumn, '--volatile-column']] as const) {
        if (given !== undefined && flags.mysql === undefined) throw new UsageError(`${flag} applies to MySQL tables; give --mysql (MongoDB collections: --data-collections)`);
      }
      const started = performance.now();
      const result = await dumpSet(
        {
          ...(flags.mysql !== undefined
            ? { mysql: { url: flags.mysql, databases: databasesToDump('--mysql-db', flags.mysql, flags.mysqlDb), ...(flags.dataTables ? { dataTables: flags.dataTables } : {}), ...(flags.volatileColumn ? { volatileColumns: flags.volatileColumn } : {}) } }
            : {}),
          ...(flags.mongo !== undefined
            ? { mongo: { url: flags.mongo, databases: databasesToDump('--mongo-db', flags.mongo, flags.mongoDb), ...(flags.dataCollections ? { dataCollections: flags.dataCollections } : {}) } }
            : {}),
        },
        flags.out,
        { waitSeconds: flags.wait, onProgress: progressLines(context, [flags.mysql, flags.mongo]) },
      );
      const durationMs = Math.round(performance.now() - started);
      if (flags.json) {
        printJson(context, { ...result, durationMs });
        return;
      }
      const engines = Object.entries(result.engines).map(([engine, info]) => `${engine}: ${info.flavor} ${info.version}`);
      const rows = [...Object.entries(result.rows.mysql), ...Object.entries(result.rows.mongo)].map(([name, count]) => `${name} (${count})`);
      printLines(context, [
        `dumped ${result.files.length} files into ${result.dir} in ${seconds(durationMs)} (${engines.join(', ')})`,
        ...result.files.map((file) => `  ${file}`),
        rows.length > 0 ? `with rows: ${rows.join(', ')}` : 'with rows: none (schema only)',
      ]);
    });
};
