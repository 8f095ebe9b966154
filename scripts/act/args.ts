import { UsageError } from './errors.js';

/** The workflow `pnpm act` runs when none is named: the one written to run locally as well as on GitHub. */
export const defaultWorkflow = '.github/workflows/e2e.yml';

export const usage =
  'usage: pnpm act [--workflow <file>] [--job <id>] [act args...]  (default workflow: ' + defaultWorkflow + ')';

export interface CommandLine {
  workflow: string;
  job: string | undefined;
  /** Everything else, passed to act unchanged and after our own arguments (so it can override them). */
  actArgs: string[];
  help: boolean;
}

const workflowFlags = new Set(['--workflow', '-W', '--workflows']);
const jobFlags = new Set(['--job', '-j']);

/** Splits `pnpm act`'s arguments into its own options and the arguments for act. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  let workflow: string | undefined;
  let job: string | undefined;
  let help = false;
  const actArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inlineValue] = arg.startsWith('--') && arg.includes('=') ? splitOnce(arg, '=') : [arg, undefined];
    if (workflowFlags.has(flag) || jobFlags.has(flag)) {
      const value = inlineValue ?? argv[++i];
      if (value === undefined || value === '' || (inlineValue === undefined && value.startsWith('-'))) {
        throw new UsageError(`${flag} needs a value; ${usage}`);
      }
      if (workflowFlags.has(flag)) workflow = value;
      else job = value;
    } else if (arg === '-h' || arg === '--help') {
      help = true;
    } else if (arg === '--' && i === 0) {
      // `pnpm act -- --list`: pnpm may pass the separator through; act would take it as an event name.
      continue;
    } else {
      actArgs.push(arg);
    }
  }
  return { workflow: workflow ?? defaultWorkflow, job, actArgs, help };
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return [text.slice(0, at), text.slice(at + 1)];
}

export interface Mount {
  path: string;
  readOnly: boolean;
}

/** Everything act's command line depends on, resolved by main.ts; .actrc holds the settings that never vary. */
export interface ActRun {
  workflow: string;
  job: string | undefined;
  /** Job image for `runs-on: ubuntu-latest`; overrides the alias tag in .actrc. */
  image: string;
  /** The image is in the engine already: do not let act try to pull it (there may be no registry). */
  imageIsLocal: boolean;
  /** A free port on 127.0.0.1 for act's artifact server (its default 34567 may be taken by another run). */
  artifactServerPort: number;
  /** Where act's cache server keeps entries; in the tool cache so a later run restores what one saved. */
  cacheServerPath: string;
  /** Host directories bind-mounted into the job container at the same path. */
  mounts: Mount[];
  /**
   * GITHUB_RUN_ID of this run (act says 1 for every run): the e2e jobs name their images, base image tag
   * and store prefix after it, so two runs must not share one. An `--env GITHUB_RUN_ID=...` in actArgs wins.
   */
  runId: string;
  actArgs: string[];
}

/** The arguments after `act` (act itself reads .actrc first, so these come on top of it). */
export function buildActArgs(run: ActRun): string[] {
  const args = ['--workflows', run.workflow];
  if (run.job !== undefined) args.push('--job', run.job);
  args.push('--platform', `ubuntu-latest=${run.image}`);
  args.push(`--pull=${run.imageIsLocal ? 'false' : 'true'}`);
  args.push('--artifact-server-port', String(run.artifactServerPort));
  args.push('--cache-server-path', run.cacheServerPath);
  if (run.mounts.length > 0) {
    for (const { path } of run.mounts) {
      if (/[\s:,]/.test(path)) throw new UsageError(`cannot mount "${path}" into the job container: the path holds a space, ":" or ","`);
    }
    const volume = ({ path, readOnly }: Mount) => `--volume=${path}:${path}${readOnly ? ':ro' : ''}`;
    args.push('--container-options', run.mounts.map(volume).join(' '));
  }
  const givesRunId = run.actArgs.some((arg, index) => /^(--env=)?GITHUB_RUN_ID=/.test(arg) && (arg.startsWith('--env=') || run.actArgs[index - 1] === '--env'));
  if (!givesRunId) args.push('--env', `GITHUB_RUN_ID=${run.runId}`);
  return [...args, ...run.actArgs];
}

/** act only lists or graphs the workflow's jobs (`-l/--list`, `-g/--graph`): nothing runs, so nothing needs building. */
export function onlyLists(actArgs: readonly string[]): boolean {
  return actArgs.some((arg) => arg === '--list' || arg === '-l' || arg === '--graph' || arg === '-g');
}
