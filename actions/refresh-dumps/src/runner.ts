import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ActionError, InputError } from '@org/action-inputs';

/** What the runner tells the action through its environment (the variables every job has). */
export interface RunnerContext {
  /** The commit being processed (GITHUB_SHA). */
  sha: string;
  /** The checkout (GITHUB_WORKSPACE): migrate runs here and git answers ancestry questions. */
  workspace: string;
  /** RUNNER_TEMP: scratch space for dumps and the pulled ancestor. */
  temp: string;
  /** owner/name (GITHUB_REPOSITORY), recorded as provenance. */
  repository: string | undefined;
  /** GITHUB_REF: the full ref that triggered the run (refs/heads/<branch>, refs/tags/<tag>, refs/pull/...). */
  ref: string | undefined;
  /** GITHUB_REF_NAME: the branch or tag that triggered the run. */
  refName: string | undefined;
  /** GITHUB_EVENT_PATH: the webhook payload. */
  eventPath: string | undefined;
}

/** The runner's environment is not what a GitHub job provides (e.g. the action is run by hand). */
export class RunnerContextError extends ActionError {}

const fullSha = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

export function readRunnerContext(env: NodeJS.ProcessEnv): RunnerContext {
  const sha = (env.GITHUB_SHA ?? '').trim();
  if (!fullSha.test(sha)) {
    throw new RunnerContextError(`GITHUB_SHA is ${sha === '' ? 'not set' : `"${sha}", not a full commit sha`}; run the action in a GitHub Actions job (or set GITHUB_SHA to the checked-out commit)`);
  }
  const workspace = (env.GITHUB_WORKSPACE ?? '').trim();
  if (workspace === '') throw new RunnerContextError('GITHUB_WORKSPACE is not set; run the action after actions/checkout in a GitHub Actions job');
  const optional = (value: string | undefined) => (value && value.trim() !== '' ? value.trim() : undefined);
  return {
    sha,
    workspace: path.resolve(workspace),
    temp: path.resolve(optional(env.RUNNER_TEMP) ?? tmpdir()),
    repository: optional(env.GITHUB_REPOSITORY),
    ref: optional(env.GITHUB_REF),
    refName: optional(env.GITHUB_REF_NAME),
    eventPath: optional(env.GITHUB_EVENT_PATH),
  };
}

/** The webhook payload, or undefined when there is none or it cannot be read (the branch then falls back). */
export async function readEventPayload(eventPath: string | undefined): Promise<unknown> {
  if (eventPath === undefined) return undefined;
  try {
    return JSON.parse(await readFile(eventPath, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export interface BranchChoice {
  branch: string;
  /** Where the branch came from, for the log. */
  source: 'input' | 'event' | 'ref-name';
}

/**
 * The branch whose pointer is advanced: the `branch` input, else the repository's default branch from the
 * event payload (push, workflow_dispatch and schedule events all carry `repository.default_branch`), else
 * the branch the run was triggered on.
 */
export function resolveBranch(input: string, payload: unknown, refName: string | undefined): BranchChoice {
  if (input !== '') return { branch: input, source: 'input' };
  const fromEvent = defaultBranchOf(payload);
  if (fromEvent !== undefined) return { branch: fromEvent, source: 'event' };
  if (refName !== undefined && refName !== '') return { branch: refName, source: 'ref-name' };
  throw new RunnerContextError(
    'cannot tell which branch to advance: the `branch` input is empty, the event payload names no default branch and GITHUB_REF_NAME is not set; set `branch`',
  );
}

/** The repository's default branch as the event payload names it (push, workflow_dispatch, schedule...). */
export function defaultBranchOf(payload: unknown): string | undefined {
  const fromEvent = (payload as { repository?: { default_branch?: unknown } } | undefined)?.repository?.default_branch;
  return typeof fromEvent === 'string' && fromEvent.trim() !== '' ? fromEvent.trim() : undefined;
}

/**
 * A run on a branch may only advance that branch's pointer. The lockstep publish moves the ref to any
 * descendant of its commit, so a dispatch on a feature branch would otherwise point master's ref at an
 * unmerged commit, and every later master commit would then be refused as diverged. That holds for a
 * `branch` input as much as for the default branch. A run on another kind of ref (a pull request's merge
 * ref, a tag) may publish under an explicit `branch` other than the default branch only (the workflow chose
 * that name, e.g. a store of its own); a run without GITHUB_REF (by hand) is not checked. A branch taken from GITHUB_REF_NAME must
 * come from a branch ref.
 */
export function checkRunOnBranch(choice: BranchChoice, ref: string | undefined, defaultBranch?: string): void {
  if (ref === undefined || ref === `refs/heads/${choice.branch}`) return;
  const runOnIt = `run it on ${choice.branch} (e.g. \`if: github.ref == 'refs/heads/${choice.branch}'\` on the job)`;
  if (choice.source === 'ref-name') {
    // Without a default branch in the payload the branch is the triggering ref's name: a tag or a pull
    // request's merge ref would become a "branch" named `v1.0` or `7/merge`.
    if (!ref.startsWith('refs/heads/')) {
      throw new RunnerContextError(`this run is for ${ref} (GITHUB_REF), not a branch, and the event names no default branch; set \`branch\` to the branch whose dumps this run publishes`);
    }
    return;
  }
  if (choice.source === 'event') {
    throw new RunnerContextError(
      `this run is for ${ref} (GITHUB_REF), but it would advance the dumps of the default branch ${choice.branch}; ${runOnIt}` +
        (ref.startsWith('refs/heads/') ? '' : ', or set `branch` to a name of its own for these dumps'),
    );
  }
  if (!ref.startsWith('refs/heads/')) {
    if (choice.branch !== defaultBranch) return;
    throw new InputError(
      'branch',
      `is ${choice.branch}, the default branch, but this run is for ${ref} (GITHUB_REF), not a branch: its commit is not on ${choice.branch} and would become its ref; ` +
        `${runOnIt}, or set \`branch\` to a name of its own for these dumps (e.g. pr-\${{ github.event.number }})`,
    );
  }
  throw new InputError(
    'branch',
    `is ${choice.branch}, but this run is for ${ref} (GITHUB_REF): only runs on ${choice.branch} may advance its dumps (a commit from elsewhere would become its ref, ` +
      `and every later ${choice.branch} commit would be refused as diverged); ${runOnIt}, or set \`branch\` to the branch this run is on`,
  );
}

/** A force push of the run's commit: when it happened and the head it replaced, as far as the event tells. */
export interface ForcePush {
  at?: Date;
  replacedHead?: string;
}

/**
 * When this run is of a force push to `branch` whose new head is `sha` (the push event's `forced`, `ref`
 * and `after`): the time of that push (`repository.pushed_at`, epoch seconds in push events) and the head
 * it replaced (`before`), which tell a ref left on the replaced history from one a later push moved.
 * Undefined for any other run, or when the event carries neither.
 */
export function forcedPushOf(payload: unknown, branch: string, sha: string): ForcePush | undefined {
  const push = payload as { forced?: unknown; ref?: unknown; after?: unknown; before?: unknown; repository?: { pushed_at?: unknown } } | undefined;
  if (!(push?.forced === true && push.ref === `refs/heads/${branch}` && push.after === sha)) return undefined;
  const pushedAt = push.repository?.pushed_at;
  const time = typeof pushedAt === 'number' ? new Date(pushedAt * 1000) : typeof pushedAt === 'string' ? new Date(pushedAt) : undefined;
  const at = time && !Number.isNaN(time.getTime()) ? time : undefined;
  // `before` is all zeros when the push created the branch: there was no head to replace.
  const replacedHead = typeof push.before === 'string' && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(push.before) && !/^0+$/.test(push.before) ? push.before : undefined;
  if (at === undefined && replacedHead === undefined) return undefined;
  return { ...(at ? { at } : {}), ...(replacedHead ? { replacedHead } : {}) };
}
