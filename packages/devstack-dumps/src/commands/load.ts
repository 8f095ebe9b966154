import { loadSet } from '@org/dump-set';
import type { RegisterCommand } from '../internal/context.js';
import { printJson, printLines, progressLines, seconds } from '../internal/output.js';
import { addServerOptions, databaseName, loadTargetsFor, requireServer, type LoadFlags } from '../internal/server-options.js';

export const registerLoad: RegisterCommand = (program, context) => {
  const command = program
    .command('load')
    .description('verify a dump set directory, then load it into MySQL and MongoDB (concurrently)')
    .argument('<dir>', 'dump set directory (from dump or pull)');
  addServerOptions(command)
    .option('--mysql-db <name>', 'load the only MySQL database of the dump under this name', databaseName('--mysql-db', 'mysql'))
    .option('--mongo-db <name>', 'load the only MongoDB database of the dump under this name', databaseName('--mongo-db', 'mongo'))
    .option('--replace', 'drop non-empty target databases first (otherwise they are refused)', false)
    .option('--json', 'machine-readable output on stdout', false)
    .action(async (dir: string, flags: LoadFlags & { json: boolean }) => {
      requireServer(flags, 'load');
      const result = await loadSet(dir, await loadTargetsFor(dir, flags), {
        replace: flags.replace,
        waitSeconds: flags.wait,
        onProgress: progressLines(context, [flags.mysql, flags.mongo]),
        skipEnginesWithoutTarget: true,
        ...(context.interruptible ? { signal: context.interruptible() } : {}),
      });
      if (flags.json) printJson(context, result);
      else printLines(context, [`loaded ${describeLoaded(result)} in ${seconds(result.durationMs)}`, ...describeSkipped(result.skipped)]);
    });
};

export function describeLoaded(result: { mysqlDatabases: string[]; mongoDatabases: string[] }): string {
  const parts = [
    ...(result.mysqlDatabases.length > 0 ? [`MySQL ${result.mysqlDatabases.join(', ')}`] : []),
    ...(result.mongoDatabases.length > 0 ? [`MongoDB ${result.mongoDatabases.join(', ')}`] : []),
  ];
  return parts.join('; ');
}

/** One line per engine of the dump set that was not loaded because no server was given for it. */
export function describeSkipped(skipped: { mysql: string[]; mongo: string[] }): string[] {
  return [
    ...(skipped.mysql.length > 0 ? [`skipped MySQL ${skipped.mysql.join(', ')} (no --mysql given)`] : []),
    ...(skipped.mongo.length > 0 ? [`skipped MongoDB ${skipped.mongo.join(', ')} (no --mongo given)`] : []),
  ];
}
