import { Command, CommanderError } from 'commander';
import { DumpVersioningError, InvalidInputError } from '@org/dump-versioning';
import { registerDiff } from './commands/diff.js';
import { registerFingerprint } from './commands/fingerprint.js';
import { registerList } from './commands/list.js';
import { registerPrune } from './commands/prune.js';
import { registerPublish } from './commands/publish.js';
import { registerPull } from './commands/pull.js';
import { registerResolve } from './commands/resolve.js';
import { registerVerify } from './commands/verify.js';
import type { CommandContext, RegisterCommand } from './internal/context.js';
import { ReportedFailure, UsageError } from './internal/usage.js';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Commands in help order; `dump`, `load`, `provision` and `status` are added here as they land. */
const COMMANDS: RegisterCommand[] = [
  registerPublish,
  registerResolve,
  registerPull,
  registerList,
  registerDiff,
  registerPrune,
  registerVerify,
  registerFingerprint,
];

export function buildProgram(context: CommandContext): Command {
  const program = new Command('devstack-dumps')
    .description('Versioned MySQL/Mongo schema dumps: publish in lockstep with master, resolve, pull, verify')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, context);
  // Sub-commands inherit output and exit handling.
  for (const command of program.commands) {
    command.exitOverride().configureOutput({ writeOut: (text) => context.stdout.write(text), writeErr: (text) => context.stderr.write(text) });
  }
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 usage. */
export async function main(argv: ReadonlyArray<string>, context: CommandContext = defaultContext()): Promise<number> {
  const program = buildProgram(context);
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
    if (error instanceof UsageError || error instanceof InvalidInputError) {
      context.stderr.write(`error: ${error.message}\n`);
      return error instanceof UsageError ? EXIT.usage : EXIT.failure;
    }
    if (error instanceof DumpVersioningError) {
      context.stderr.write(`error: ${error.message}\n`);
      return EXIT.failure;
    }
    context.stderr.write(`error: unexpected failure: ${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT.failure;
  }
}

function defaultContext(): CommandContext {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
