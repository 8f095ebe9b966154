import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as cache from '@actions/cache';
import * as core from '@actions/core';
import {
  buildRecordKeys,
  buildRecordOf,
  cacheScopes,
  parseBuildRecord,
  previousFromRecord,
  readContextFacts,
  sameBuildRecord,
  scopeOfRecordKey,
  serializeBuildRecord,
} from '@org/image-build';
import type { BuildRecord, BuildRecordKeys, ContextIgnore, DockerfileModel } from '@org/image-build';
import type { GitRunner, Inputs, RunContext } from './context.js';
import { messageOf } from './errors.js';
import { actionsCacheAvailable, type BuildPlan } from './plan.js';

const FILE = 'record.json';

type Previous = ReturnType<typeof previousFromRecord>;

/** The previous build's record, for the report, and where this build's record goes. */
export interface PreviousBuild {
  /** What the report compares with: the record's facts. */
  previous?: Previous;
  /** The ignore file of this build (which changed files BuildKit sends); read without a record too. */
  contextIgnore?: ContextIgnore;
  restored?: { key: string; record: BuildRecord };
  /** Absent when no record can be kept (no Actions cache service, no cache import). */
  keys?: BuildRecordKeys;
  own?: string;
  dir?: string;
  /** The Dockerfile built: the saved record keeps its stages' instructions. */
  model?: DockerfileModel;
}

const runGit: GitRunner = async (args, cwd) => (await promisify(execFile)('git', args, { cwd })).stdout;

/**
 * The ignore file's text in the commit the changed files are compared with (`changedFiles`' base:
 * the push's `before`, else the parent): null when that commit has none, undefined when git cannot
 * tell (a shallow clone). BuildKit read `<Dockerfile>.dockerignore` there, else the context's `.dockerignore`.
 */
export async function previousIgnoreContent(run: RunContext, inputs: Pick<Inputs, 'context' | 'file'>, git: GitRunner = runGit): Promise<string | null | undefined> {
  const base = run.previousSha ?? `${run.git.sha}~1`;
  // BuildKit's order, in that commit (not the file read now: a `<Dockerfile>.dockerignore` deleted since was the one then).
  const candidates = [...new Set([`${inputs.file}.dockerignore`, path.posix.join(inputs.context, '.dockerignore')].map((f) => path.posix.normalize(f)))];
  try {
    for (const candidate of candidates) {
      // `ls-tree` prints nothing for a path the commit lacks, and fails when the commit is not there.
      const listed = await git(['ls-tree', '--name-only', base, '--', candidate], run.workspace);
      if (listed.trim() !== '') return await git(['show', `${base}:./${candidate}`], run.workspace);
    }
    return null;
  } catch (error) {
    core.debug(`The previous ignore file was not read (${messageOf(error)}): an edit of it is a possible cause of every step that reads the context.`);
    return undefined;
  }
}

/**
 * The ignore file BuildKit reads for this build (`<Dockerfile>.dockerignore`, else the context's
 * `.dockerignore`), with its path in the context and its previous text. Undefined when there is none
 * or it cannot be read.
 */
async function readContextIgnore(plan: BuildPlan, inputs: Inputs, run: RunContext, git: GitRunner): Promise<ContextIgnore | undefined> {
  try {
    const facts = await readContextFacts(plan.contextDir, plan.dockerfilePath, { context: inputs.context, file: inputs.file });
    if (facts.dockerignore === null) return undefined;
    const inContext = facts.dockerignoreFile ? path.relative(plan.contextDir, path.resolve(run.workspace, facts.dockerignoreFile)).split(path.sep).join('/') : '';
    const previous = facts.dockerignoreFile ? await previousIgnoreContent(run, inputs, git) : undefined;
    return { content: facts.dockerignore, ...(inContext && !inContext.startsWith('..') ? { file: inContext } : {}), ...(previous !== undefined ? { previous } : {}) };
  } catch (error) {
    core.debug(`The ignore file was not read (${messageOf(error)}): changed files are not filtered through it.`);
    return undefined;
  }
}

/**
 * Restores the newest build record of this build's cache scopes (own scope first, then the base and
 * default branch: the order the cache is imported in) from the Actions cache, and reads the build's
 * ignore file. Never throws: without a record the report simply has no previous build to compare
 * with, which a debug line says.
 */
export async function restoreBuildRecord(plan: BuildPlan, inputs: Inputs, run: RunContext, env: NodeJS.ProcessEnv = process.env, git: GitRunner = runGit): Promise<PreviousBuild> {
  const contextIgnore = await readContextIgnore(plan, inputs, run, git);
  const state = await restoreRecord(plan, inputs, run, env);
  return { ...state, ...(contextIgnore ? { contextIgnore } : {}), model: plan.model };
}

async function restoreRecord(plan: BuildPlan, inputs: Inputs, run: RunContext, env: NodeJS.ProcessEnv): Promise<PreviousBuild> {
  try {
    if (Object.values(plan.cache).every((c) => c.from.length === 0)) {
      core.debug('No build record: this build imports no cache, so there is no previous build to compare with.');
      return {};
    }
    if (!actionsCacheAvailable(env) || !cache.isFeatureAvailable()) {
      core.debug('No build record: the Actions cache service is not available, so a moved base image cannot be told from other cache misses.');
      return {};
    }
    const scopes = cacheScopes(run.git);
    const keys = buildRecordKeys({
      dockerfile: inputs.file,
      flavours: plan.flavours,
      scopes,
      sha: run.git.sha,
      runId: env.GITHUB_RUN_ID || '0',
      runAttempt: env.GITHUB_RUN_ATTEMPT || '1',
      now: Date.now(),
    });
    const dir = path.join(run.runnerTemp, 'build-image-record');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const state: PreviousBuild = { keys, ...(scopes.own ? { own: scopes.own } : {}), dir };
    // A build that writes no scope (a tag) has no key of its own: the first read prefix stands in.
    const matched = await cache.restoreCache([dir], keys.key ?? keys.restoreKeys[0] ?? '', keys.restoreKeys);
    if (!matched) {
      core.debug(`No build record of scope ${scopes.read.join(', ')} yet: the report has no previous base images or build args to compare with.`);
      return state;
    }
    const record = parseBuildRecord(await readFile(path.join(dir, FILE), 'utf8'));
    core.info(`Previous build record: ${matched} (${Object.keys(record.baseImages).length} base image(s)).`);
    return { ...state, previous: previousFromRecord(record), restored: { key: matched, record } };
  } catch (error) {
    core.debug(`No build record (${messageOf(error)}): the report has no previous base images or build args to compare with.`);
    return {};
  }
}

/**
 * Saves this build's record under a key of its own, with the stage instructions of the Dockerfile
 * built when the record lacks them. Skipped when it equals the record restored from the own scope:
 * the newest entry of the scope already says the same. Never throws.
 */
export async function saveBuildRecord(state: PreviousBuild, built: BuildRecord): Promise<void> {
  if (!state.keys || !state.dir) return;
  const record = built.stageInstructions || !state.model ? built : { ...built, stageInstructions: buildRecordOf({ baseImages: {} }, {}, state.model).stageInstructions };
  const { key } = state.keys;
  if (!key) {
    core.info('This build writes no cache scope (a tag build reads the default branch\'s cache only), so it saves no build record.');
    return;
  }
  const { restored } = state;
  if (restored && scopeOfRecordKey(restored.key) === state.own && sameBuildRecord(restored.record, record)) {
    core.info(`The build record is unchanged since ${restored.key}: nothing to save.`);
    return;
  }
  try {
    await mkdir(state.dir, { recursive: true });
    await writeFile(path.join(state.dir, FILE), serializeBuildRecord(record));
    const id = await cache.saveCache([state.dir], key);
    if (id !== -1) core.info(`Saved the build record as ${key}.`);
  } catch (error) {
    core.warning(`The build record was not saved (${messageOf(error)}): the next build cannot tell a moved base image from other cache misses.`);
  }
}
