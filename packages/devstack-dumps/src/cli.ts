import { Command, CommanderError } from 'commander';
import { DumpVersioningError, InvalidInputError } from '@org/dump-versioning';
import { DumpSetError, maskSecrets } from '@org/dump-set';
import { MysqlDumpError } from '@org/mysql-dump';
import { MongoDumpError } from '@org/mongo-dump';
import { registerDiff } from './commands/diff.js';
import { registerDump } from './commands/dump.js';
import { registerLoad } from './commands/load.js';
import { registerProvision, registerStatus } from './commands/provision.js';
import { registerFingerprint } from './commands/fingerprint.js';
import { registerList } from './commands/list.js';
import { registerPrune } from './commands/prune.js';
import { registerPublish } from './commands/publish.js';
import { registerPull } from './commands/pull.js';
import { registerResolve } from './commands/resolve.js';
import { registerVerify } from './commands/verify.js';
import type { CommandContext, RegisterCommand } from './internal/context.js';
import { ReportedFailure, UsageError } from './internal/usage.js';
import { TOOL } from './internal/version.js';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Commands in help order. */
const COMMANDS: RegisterCommand[] = [
  registerProvision,
  registerStatus,
  registerDump,
  registerLoad,
  registerPublish,
  registerResolve,
  registerPull,
  registerList,
  registerDiff,
  registerPrune,
  registerVerify,
  registerFingerprint,
];

/** `urls`: the command line's URLs, whose passwords commander's own messages (which echo arguments) must not show. */
export function buildProgram(context: CommandContext, urls: ReadonlyArray<string> = []): Command {
  const writeErr = (text: string) => context.stderr.write(maskSecrets(text, urls));
  const program = new Command(TOOL.name)
    .version(TOOL.version)
    // `devstack-dumps --version` is this tool's; `pull --version <v>` stays the dump version to pull.
    .enablePositionalOptions()
    .description('Versioned MySQL/Mongo schema dumps: dump, load, publish in lockstep with master, provision from the nearest published ancestor')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr,
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, context);
  // Sub-commands inherit output and exit handling.
  for (const command of program.commands) {
    command.exitOverride().configureOutput({ writeOut: (text) => context.stdout.write(text), writeErr });
  }
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 usage. */
export async function main(argv: ReadonlyArray<string>, context: CommandContext = defaultContext()): Promise<number> {
  // Every message is masked: URL passwords anywhere, and the bare passwords of the URLs on the command line.
  const urls = argv.map((arg) => arg.replace(/^--[\w-]+=/, '')).filter((arg) => /^[a-z][a-z0-9+.-]*:\/\//i.test(arg));
  const fail = (message: string) => context.stderr.write(`error: ${maskSecrets(message, urls)}\n`);
  const program = buildProgram(context, urls);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" to exitOverride but successful runs.
      if (error.exitCode === 0) return EXIT.ok;
      return EXIT.usage;
    }
    if (error instanceof ReportedFailure) return EXIT.failure;
    if (error instanceof UsageError) {
      fail(error.message);
      return EXIT.usage;
    }
    // Every typed error of the libraries is fatal (see each class); all of them exit 1 with their one message.
    if (error instanceof InvalidInputError || error instanceof DumpVersioningError || error instanceof DumpSetError || error instanceof MysqlDumpError || error instanceof MongoDumpError) {
      fail(error.message);
      return EXIT.failure;
    }
    fail(`unexpected failure: ${(error as Error)?.stack ?? String(error)}`);
    return EXIT.failure;
  }
}

function defaultContext(): CommandContext {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
