import { Command, CommanderError } from 'commander';
import { DumpVersioningError, InvalidInputError, StoreConfigError } from '@org/dump-versioning';
import { DumpSetError, ServersFailedError, isConnectionFailure, maskSecrets, targetsLeftBy, urlSecrets, type TargetLeft } from '@org/dump-set';
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
import { Interrupted, type CommandContext, type RegisterCommand } from './internal/context.js';
export { Interrupted } from './internal/context.js';
import { ReportedFailure, UsageError } from './internal/usage.js';
import { TOOL } from './internal/version.js';

/** 130: stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

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
    checkRequiredAfterUnknown(command);
  }
  return program;
}

/**
 * Commander checks required options before unknown ones, so `--servce shop` said only that `--service` was
 * missing. Required options are checked here instead, in a hook that runs after the unknown-option check
 * (which names the typo and suggests the flag).
 */
function checkRequiredAfterUnknown(command: Command): void {
  const required = command.options.filter((option) => option.mandatory);
  if (required.length === 0) return;
  for (const option of required) option.makeOptionMandatory(false);
  command.hook('preAction', (_program, action) => {
    const missing = required.find((option) => action.getOptionValue(option.attributeName()) === undefined);
    if (missing) throw new UsageError(`required option '${missing.flags}' not specified`);
  });
}

/**
 * A password typed into --mysql/--mongo shows in `ps` to other users and stays in the shell history: said
 * once per flag to a person at a terminal (scripts and CI, whose stderr is no terminal, are left alone).
 */
export function passwordOnCommandLine(argv: ReadonlyArray<string>, context: Pick<CommandContext, 'stderr'>): string[] {
  if (!context.stderr.isTTY) return [];
  const warnings: string[] = [];
  for (const [flag, variable] of [['--mysql', 'DEVSTACK_DUMPS_MYSQL'], ['--mongo', 'DEVSTACK_DUMPS_MONGO']] as const) {
    const index = argv.findIndex((arg) => arg === flag || arg.startsWith(`${flag}=`));
    if (index < 0) continue;
    const value = argv[index] === flag ? argv[index + 1] : argv[index]!.slice(flag.length + 1);
    if (value !== undefined && urlSecrets(value).length > 0) {
      warnings.push(`the ${flag} URL holds a password, which other users see in \`ps\` and your shell history keeps; set ${variable} instead (e.g. in an .envrc)`);
    }
  }
  return warnings;
}

/**
 * The action's input names (`mysql-url`, `mongo-url`) and similar spellings of the server flags: commander's
 * own suggestion goes by spelling and offered `--mysql-db` for `--mysql-url`, a different option.
 */
const SERVER_FLAG_SPELLINGS: Record<string, string> = {
  '--mysql-url': '--mysql',
  '--mysql-uri': '--mysql',
  '--mysql-server': '--mysql',
  '--mongo-url': '--mongo',
  '--mongo-uri': '--mongo',
  '--mongodb': '--mongo',
  '--mongodb-url': '--mongo',
  '--mongodb-uri': '--mongo',
  '--mongo-server': '--mongo',
};

/** The usage error for a server flag spelled like the action's input, or undefined. Arguments after `--` are not options. */
export function confusedServerFlag(argv: ReadonlyArray<string>): string | undefined {
  const end = argv.indexOf('--');
  for (const arg of end < 0 ? argv : argv.slice(0, end)) {
    const flag = arg.replace(/=.*$/s, '');
    const meant = SERVER_FLAG_SPELLINGS[flag];
    if (meant) return `unknown option '${flag}': the server URL is given with ${meant} <url> (or ${meant === '--mysql' ? 'DEVSTACK_DUMPS_MYSQL' : 'DEVSTACK_DUMPS_MONGO'})`;
  }
  return undefined;
}

/** Where --mysql/--mongo may come from instead of the command line (see server-options.ts). */
const SERVER_URL_VARIABLES = ['DEVSTACK_DUMPS_MYSQL', 'DEVSTACK_DUMPS_MONGO'];

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 usage. */
export async function main(argv: ReadonlyArray<string>, context: CommandContext = defaultContext()): Promise<number> {
  // Every message is masked: URL passwords anywhere, and the bare passwords of the URLs on the command line.
  // Also `user:password@host` without a scheme: commander echoes a mistyped argument whole.
  const given = [...argv.map((arg) => arg.replace(/^--[\w-]+=/, '')), ...SERVER_URL_VARIABLES.map((name) => context.env[name] ?? '')];
  const urls = given.filter((arg) => /^[a-z][a-z0-9+.-]*:\/\//i.test(arg) || /:[^@]*@/.test(arg));
  // With --json, a failure is also one JSON object on stdout (`{"error":{code,message,exitCode}}`), so a
  // script reading stdout never gets nothing; stderr keeps the message for people.
  const json = argv.includes('--json');
  const failWith = (exitCode: number, code: string, message: string, targets?: TargetLeft[]): number => {
    const masked = maskSecrets(message, urls);
    context.stderr.write(`error: ${masked}\n`);
    // `targets`: what a failed load (load, provision) left in each database it was loading into.
    if (json) context.stdout.write(`${JSON.stringify({ error: { code, message: masked, exitCode, ...(targets ? { targets } : {}) } })}\n`);
    return exitCode;
  };
  const program = buildProgram(context, urls);
  const confused = confusedServerFlag(argv);
  if (confused) return failWith(EXIT.usage, 'unknownOption', confused);
  for (const warning of passwordOnCommandLine(argv, context)) context.stderr.write(`warning: ${warning}\n`);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" to exitOverride but successful runs.
      if (error.exitCode === 0) return EXIT.ok;
      // Commander printed its message already.
      if (json) context.stdout.write(`${JSON.stringify({ error: { code: error.code, message: maskSecrets(error.message.replace(/^error: /, ''), urls), exitCode: EXIT.usage } })}\n`);
      return EXIT.usage;
    }
    if (error instanceof ReportedFailure) return EXIT.failure;
    // A load that failed or was interrupted while loading says what it left in each target database.
    const targets = targetsLeftBy(error);
    if (error instanceof Interrupted) return failWith(EXIT.interrupted, 'interrupted', error.outcome ? `interrupted: ${error.outcome}` : interruptedMessage(targets), targets);
    if (error instanceof UsageError) return failWith(EXIT.usage, 'usage', error.message);
    if (error instanceof ServersFailedError) {
      // Each server's own message with the flag that acts on it.
      const told = (failure: Error) =>
        failure instanceof MysqlDumpError || failure instanceof MongoDumpError ? `${failure.message}${flagHint(failure)}${serverSourceHint(failure, argv, context.env)}` : failure.message;
      return failWith(EXIT.failure, error.code, `neither server could be used:\n  MySQL: ${told(error.failures.mysql)}\n  MongoDB: ${told(error.failures.mongo)}`);
    }
    // Every typed error of the libraries is fatal (see each class); all of them exit 1 with their one message.
    if (error instanceof InvalidInputError || error instanceof DumpVersioningError || error instanceof DumpSetError || error instanceof MysqlDumpError || error instanceof MongoDumpError) {
      const exitCode = USAGE_CODES.has(error.code) && !(error instanceof DumpSetError) ? EXIT.usage : EXIT.failure;
      return failWith(exitCode, error.code, `${error.message}${flagHint(error)}${serverSourceHint(error, argv, context.env)}${failedLoadLeft(targets)}`, targets);
    }
    return failWith(EXIT.failure, 'unexpected', `unexpected failure: ${(error as Error)?.stack ?? String(error)}${failedLoadLeft(targets)}`, targets);
  }
}

/**
 * The message for a command stopped by Ctrl-C. The loads and pulls that take a signal undo what they
 * started before they reject, except that a database --replace had already dropped stays dropped: the
 * message then names each database and what it holds now. `targets`: what the interrupted load left (see
 * targetsLeftBy), undefined when the command was not loading (nothing loaded yet, or a pull).
 */
export function interruptedMessage(targets: ReadonlyArray<TargetLeft> | undefined): string {
  if (targets === undefined || targets.every(asItWas)) {
    return 'interrupted: stopped before finishing; what the command had started was undone (databases it loaded into are as they were, no partial download is kept)';
  }
  return `interrupted: stopped before finishing; ${describeTargetsLeft(targets).join('; ')}; run the same command again to finish`;
}

/** For a failed load's message: what it left in its databases, when that is not what they held before (else ''). */
export function failedLoadLeft(targets: ReadonlyArray<TargetLeft> | undefined): string {
  return targets === undefined || targets.every(asItWas) ? '' : `; ${describeTargetsLeft(targets).join('; ')}`;
}

const asItWas = (target: TargetLeft) => target.state === 'unchanged' || target.state === 'restored';

/** One clause per target database, those no longer as they were first: "MongoDB crm was dropped (--replace) and is now empty". */
export function describeTargetsLeft(targets: ReadonlyArray<TargetLeft>): string[] {
  const rank = { unknown: 0, 'drop-failed': 0, emptied: 1, restored: 2, unchanged: 3 } as const;
  return [...targets]
    .sort((a, b) => rank[a.state] - rank[b.state])
    .map((target) => {
      const name = `${target.engine === 'mysql' ? 'MySQL' : 'MongoDB'} ${target.database}`;
      switch (target.state) {
        case 'unchanged':
          return target.objectsBefore > 0 ? `${name} is unchanged (it keeps its old content)` : `${name} is as it was`;
        case 'restored':
          return `${name} is as it was (what was loaded into it was removed)`;
        case 'emptied':
          return `${name} was dropped (--replace) and is now empty`;
        case 'drop-failed':
          return `${name} could not be dropped (--replace): nothing was loaded into it, but part of its old content may be gone`;
        case 'unknown':
          return target.objectsBefore > 0
            ? `${name} could not be cleaned up: its old content may be gone (--replace) and it may hold part of the load`
            : `${name} could not be cleaned up and may hold part of the load (load again with --replace)`;
      }
    });
}

/**
 * The libraries' messages name no flags (the GitHub Action has inputs instead); this adds the flag that
 * acts on the problem, by the error's stable code.
 */
export function flagHint(error: MysqlDumpError | MongoDumpError | DumpVersioningError | DumpSetError): string {
  if (error instanceof MysqlDumpError || error instanceof MongoDumpError) {
    if (error.code === 'target-not-empty') return ' (--replace)';
    if (error.code === 'system-database') return error instanceof MysqlDumpError ? ' (--mysql-db)' : ' (--mongo-db)';
    if (error.code === 'server-unreachable') return (error as { waitedSeconds?: number }).waitedSeconds ? ' (raise --wait)' : ' (--wait <seconds>)';
    if (['tls-failed', 'invalid-url', 'no-greeting', 'no-handshake', 'wrong-protocol'].includes(error.code)) return error instanceof MysqlDumpError ? ' (--mysql)' : ' (--mongo)';
  }
  if (error instanceof InvalidInputError && error.code === 'out-not-empty') return ' (--replace)';
  if (error instanceof StoreConfigError) {
    if (['s3-endpoint-invalid', 'endpoint-unreachable', 's3-endpoint-not-s3', 's3-endpoint-not-tls', 's3-endpoint-needs-tls'].includes(error.code)) return ' (--s3-endpoint)';
    if (error.code === 's3-region-invalid' || error.code === 'region-mismatch') return ' (--s3-region)';
    if (error.code.startsWith('store-') || error.code === 'bucket-missing') return ' (--store)';
  }
  return '';
}

/** A server's URL taken from its variable (a stale `.envrc`?) is named as the source of a connection problem. */
export function serverSourceHint(error: MysqlDumpError | MongoDumpError | DumpVersioningError | DumpSetError, argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv): string {
  const engine = error instanceof MysqlDumpError ? 'mysql' : error instanceof MongoDumpError ? 'mongo' : undefined;
  if (engine === undefined || !isConnectionFailure(error)) return '';
  const variable = engine === 'mysql' ? 'DEVSTACK_DUMPS_MYSQL' : 'DEVSTACK_DUMPS_MONGO';
  const onCommandLine = argv.some((arg) => arg === `--${engine}` || arg.startsWith(`--${engine}=`));
  return onCommandLine || !env[variable] ? '' : `; the --${engine} URL came from ${variable}`;
}


/** Codes of input the command line got wrong (exit 2, like commander's own usage errors), not failures of the work. */
const USAGE_CODES = new Set([
  // dump-versioning
  'bad-keep',
  'bad-branch',
  'bad-version',
  'ambiguous-version',
  'bad-max-distance',
  'bad-commit',
  'bad-service',
  'bad-compression',
  'store-empty',
  'store-unknown-scheme',
  'store-bad-file-url',
  'store-bad-bucket',
  'store-bad-prefix',
  'store-credentials-in-url',
  's3-endpoint-invalid',
  's3-region-invalid',
  // the dumpers
  'invalid-url',
  'system-database',
]);

export function defaultContext(): CommandContext {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}
