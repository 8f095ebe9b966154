import { exec } from '@actions/exec';
import { InputError } from '@org/action-inputs';
import type { Inputs } from './context.js';
import { StepError, messageOf } from './errors.js';

/**
 * The shell expansion starting with the `$` at `start`, as written: `$NAME`, `${NAME}` (or `${` when it is
 * no plain variable), `$(`; undefined for a `$` no shell would expand (`$5`, a lone `$`).
 */
function expansionAt(line: string, start: number): string | undefined {
  const rest = line.slice(start);
  return /^\$[A-Za-z_][A-Za-z0-9_]*/.exec(rest)?.[0] ?? /^\$\{[A-Za-z_][A-Za-z0-9_]*\}/.exec(rest)?.[0] ?? /^\$[({]/.exec(rest)?.[0];
}

/**
 * Why a migrate line cannot run as written. @actions/exec splits a line into argv itself (double quotes
 * group, nothing else is special) and starts the program without a shell, so shell syntax would reach the
 * program as literal arguments: `a && b` would run `a` with the arguments `&&` and `b`.
 */
export function shellSyntaxIn(line: string): string | undefined {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    const next = line[i + 1] ?? '';
    const expansion = char === '$' ? expansionAt(line, i) : undefined;
    if (char === '"') {
      quoted = !quoted;
      continue;
    }
    if (quoted) {
      if (char === '\\') i++;
      // Double quotes do not make `$VAR` work: no shell expands it, the program would get it literally.
      else if (expansion !== undefined) return `\`${expansion}\``;
      continue;
    }
    if ((char === '&' || char === '|') && next === char) return `\`${char}${char}\``;
    if (char === '|' || char === ';' || char === '>' || char === '<') return `\`${char}\``;
    if (char === '`') return 'backticks';
    // A lone `&` inside an argument (`?a=1&b=2`) is harmless; one standing alone means "background".
    if (char === '&' && (next === '' || /\s/.test(next))) return '`&`';
    if (expansion !== undefined) return `\`${expansion}\``;
    if (char === "'") return 'single quotes';
    // `cmd # note` would pass `#` and `note` to the program as arguments.
    if (char === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return 'a `#` comment';
  }
  return quoted ? 'an unclosed double quote' : undefined;
}

export interface MigrateCommand {
  /** 1-based position among the commands. */
  index: number;
  line: string;
}

/** Checks each line of the `migrate` input; lines arrive trimmed, without blanks and `#` comments. */
export function parseMigrateLines(lines: readonly string[]): MigrateCommand[] {
  if (lines.length === 0) throw new InputError('migrate', 'is required; give the command that migrates, e.g. `python manage.py migrate --noinput`');
  return lines.map((line, position) => {
    const syntax = shellSyntaxIn(line);
    if (syntax !== undefined) {
      const hint =
        syntax === 'single quotes'
          ? 'group arguments with double quotes instead'
          : syntax.startsWith('`$')
            ? `no shell expands variables here (not even in double quotes): the commands get ${MIGRATE_VARIABLES.join(', ')} and the job environment as environment variables; read them in the program, or call a script`
            : syntax === 'a `#` comment'
              ? 'put comments on their own line'
              : 'no shell runs these commands: put each command on its own line (e.g. `a && b` as two lines), or call a script';
      throw new InputError('migrate', `line ${position + 1} (\`${line}\`) uses ${syntax}; ${hint}`);
    }
    return { index: position + 1, line };
  });
}

/**
 * What the runner gives a JavaScript action but not a `run:` step, which a migrate command (the service's
 * code and its dependencies) must not get: the Actions runtime token (writes to the Actions cache, which
 * build-image's cache mounts restore from), its service URLs, the OIDC token request, and every input
 * (INPUT_* hold the URLs with their passwords; the commands get MYSQL_URL and MONGO_URL instead).
 */
const ACTION_ONLY = /^(?:INPUT_.*|ACTIONS_RUNTIME_TOKEN|ACTIONS_RUNTIME_URL|ACTIONS_CACHE_URL|ACTIONS_RESULTS_URL|ACTIONS_ID_TOKEN_REQUEST_TOKEN|ACTIONS_ID_TOKEN_REQUEST_URL)$/i;

/** The environment of the migrate commands: the job's, without what only the action may hold, plus migrateVariables. */
export function migrateEnvironment(env: NodeJS.ProcessEnv, variables: Record<string, string>): Record<string, string> {
  const kept = Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && !ACTION_ONLY.test(entry[0]));
  return { ...Object.fromEntries(kept), ...variables };
}

/** Every variable migrateVariables can set, for messages that list them. */
export const MIGRATE_VARIABLES = ['MYSQL_URL', 'MYSQL_DATABASE', 'MYSQL_DATABASES', 'MONGO_URL', 'MONGO_DB', 'MONGO_DATABASES'] as const;

/**
 * The variables migrate commands get on top of the job's environment, pointing at the service databases:
 * MYSQL_URL (the server URL with the first `mysql-databases` entry as its path), MYSQL_DATABASE(S),
 * MONGO_URL, MONGO_DB (the first `mongo-databases` entry) and MONGO_DATABASES.
 */
export function migrateVariables(inputs: Pick<Inputs, 'mysqlUrl' | 'mysqlDatabases' | 'mongoUrl' | 'mongoDatabases'>): Record<string, string> {
  const variables: Record<string, string> = {};
  const [mysqlDatabase] = inputs.mysqlDatabases;
  if (inputs.mysqlUrl !== '' && mysqlDatabase !== undefined) {
    const url = new URL(inputs.mysqlUrl);
    url.pathname = `/${encodeURIComponent(mysqlDatabase)}`;
    variables.MYSQL_URL = url.toString();
    variables.MYSQL_DATABASE = mysqlDatabase;
    variables.MYSQL_DATABASES = inputs.mysqlDatabases.join(',');
  }
  const [mongoDatabase] = inputs.mongoDatabases;
  if (inputs.mongoUrl !== '' && mongoDatabase !== undefined) {
    variables.MONGO_URL = inputs.mongoUrl;
    variables.MONGO_DB = mongoDatabase;
    variables.MONGO_DATABASES = inputs.mongoDatabases.join(',');
  }
  return variables;
}

export interface MigrateRun {
  command: MigrateCommand;
  durationMs: number;
}

const TAIL_LINES = 8;

/**
 * An error's own line in a tool's output (a stack trace below it fills the tail): an exception class
 * (`TypeError: ...`, `django.db.utils.ProgrammingError: ...`, `java.sql.SQLException`), a line starting
 * `error`/`fatal`, a table that already exists, a duplicate entry or key. Not Python's "The above exception
 * was the direct cause" lines, nor `0 errors`.
 */
const ERROR_LINES = [/\w(?:Error|Exception)\b/, /^\s*(?:error|fatal)\b/i, /already exists|\bduplicate (?:entry|key|column)/i];
const IGNORED_LINE = /^(?:The above exception|During handling of the above exception)/;
/** An error line is quoted up to this long (a one-line SQL log could be most of a pipe chunk). */
const ERROR_LINE_MAX = 300;

/**
 * Keeps the last lines a command printed, for the failure message (the full output is in the log), and
 * the last line that reads as an error, put first when the tail (a stack trace) leaves it out.
 */
export function outputTail() {
  let text = '';
  let partial = '';
  let lastError: string | undefined;
  const errorIn = (line: string) => {
    const trimmed = line.trim();
    if (ERROR_LINES.some((pattern) => pattern.test(trimmed)) && !IGNORED_LINE.test(trimmed)) lastError = trimmed.length > ERROR_LINE_MAX ? `${trimmed.slice(0, ERROR_LINE_MAX)}...` : trimmed;
  };
  return {
    add: (data: Buffer) => {
      const chunk = data.toString('utf8');
      text = (text + chunk).slice(-8192);
      const lines = (partial + chunk).split('\n');
      partial = (lines.pop() ?? '').slice(-8192);
      for (const line of lines) errorIn(line);
    },
    lines: () => {
      errorIn(partial);
      const tail = text
        .split('\n')
        .map((line) => line.trimEnd())
        .filter((line) => line !== '')
        .slice(-TAIL_LINES);
      return lastError !== undefined && !tail.some((line) => line.trim() === lastError) ? [lastError, '...', ...tail] : tail;
    },
  };
}

/**
 * Runs `body` while ignoring one error: @actions/exec ends each child's stdin (the empty `input` below)
 * with no 'error' listener on the pipe, so a command that exits before that write lands (`true`, a failing
 * import) makes Node raise EPIPE as an uncaught exception, which crashed the action (25 of 200 runs of
 * `true` here). The command's exit code still says what happened. Any other uncaught error is raised again.
 */
async function ignoringStdinEpipe<T>(body: () => Promise<T>): Promise<T> {
  const onUncaught = (error: Error & { code?: string; syscall?: string }) => {
    if (error.code === 'EPIPE' && error.syscall === 'write') return;
    process.removeListener('uncaughtException', onUncaught);
    process.nextTick(() => {
      throw error;
    });
  };
  process.on('uncaughtException', onUncaught);
  try {
    return await body();
  } finally {
    // The pipe's error can come after the exit code.
    await new Promise(setImmediate);
    process.removeListener('uncaughtException', onUncaught);
  }
}

/** Runs the commands in order in `cwd`; the first one that cannot start or exits non-zero stops the run. */
export async function runMigrate(
  commands: readonly MigrateCommand[],
  options: { cwd: string; env: Record<string, string>; mask?: (text: string) => string },
): Promise<MigrateRun[]> {
  const mask = options.mask ?? ((text: string) => text);
  const runs: MigrateRun[] = [];
  for (const command of commands) {
    const label = `migrate command ${command.index} of ${commands.length} (\`${command.line}\`)`;
    const tail = outputTail();
    const started = performance.now();
    let exitCode: number;
    try {
      exitCode = await ignoringStdinEpipe(() => exec(command.line, [], {
        cwd: options.cwd,
        env: options.env,
        ignoreReturnCode: true,
        // Nobody types into a CI step: a command that reads stdin (a prompt, `input()`) gets end-of-file
        // at once, as under a `run:` step, instead of waiting on an open pipe until the job times out.
        input: Buffer.alloc(0),
        listeners: { stdout: tail.add, stderr: tail.add },
      }));
    } catch (error) {
      throw new StepError(label, `could not start: ${mask(messageOf(error))}`, 'migrate');
    }
    if (exitCode !== 0) {
      const lines = tail.lines();
      const output = lines.length > 0 ? `; its last output:\n${mask(lines.join('\n'))}` : ' without output';
      throw new StepError(label, `exited with code ${exitCode}${output}`, 'migrate');
    }
    runs.push({ command, durationMs: performance.now() - started });
  }
  return runs;
}
