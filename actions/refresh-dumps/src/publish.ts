import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { schemaDiffDetail } from '@org/dump-set';
import {
  commitTime,
  computeVersion,
  DumpVersioningError,
  diff,
  gitAncestry,
  prune,
  publish,
  readBranchRef,
  readManifest,
  type AncestryChecker,
  type MigrationFingerprint,
  type MigrationsScope,
  type PublishResult,
  type Store,
} from '@org/dump-versioning';
import type { ForcePush } from './runner.js';
import type { Engines } from './mode.js';
import type { DumpedFile, RefreshReport, SchemaSection } from './summary.js';

export interface PublishRequest {
  store: Store;
  service: string;
  dir: string;
  commit: string;
  branch: string;
  repository: string | undefined;
  /** The checkout: commit time and "is the ref's commit an ancestor?" come from its git history. */
  repoDir: string;
  fingerprint: MigrationFingerprint;
  /** The files the fingerprint was taken of (working-directory and migrations-glob), recorded for `status`/`provision`. */
  migrationsScope: MigrationsScope;
  /** A force push of this commit (when, and the head it replaced): a ref left on the replaced history is moved here (see publish). */
  forcePush: ForcePush | undefined;
  engines: Engines;
  /** Told when the publish waits for a running prune. */
  onWait?: (message: string) => void;
  /** Aborting stops the publish at its next safe point, releasing its store lease (the run was cancelled). */
  signal?: AbortSignal | undefined;
}

/**
 * The git answers a publish needs, asked while `migrate` runs so that publishing right after the dump
 * only hashes and writes: the commit's time, and whether the branch ref's current commit is an ancestor
 * of this one (the ref may still move meanwhile; a new pair is then asked at publish time).
 */
export interface PublishPreparation {
  commitTime: Promise<string | undefined>;
  ancestry: AncestryChecker;
}

export function preparePublish(store: Store, service: string, branch: string, repoDir: string, commit: string): PublishPreparation {
  const answers: AncestryAnswers = new Map();
  const ancestry = memoizeAncestry(gitAncestry(repoDir), answers);
  // Only what the clone can tell now: a fetch or deepening of a shallow clone is left to the publish,
  // so no git process outlives a failing migrate. Failures only mean the publish asks again (and reports
  // them there). The ref's manifest is read now too: the publish reads it for the blobs it can reuse.
  const warm = memoizeAncestry(gitAncestry(repoDir, { offline: true }), answers);
  readBranchRef(store, service, branch)
    .then((ref) => ref && Promise.all([ref.commit !== commit ? warm(ref.commit, commit) : undefined, readManifest(store, service, ref.version)]))
    .catch(() => undefined);
  const time = commitTime(repoDir, commit);
  time.catch(() => undefined);
  return { commitTime: time, ancestry };
}

type AncestryAnswers = Map<string, ReturnType<AncestryChecker>>;

/**
 * Remembers each decided answer (in `answers`, which checkers may share); an undecided answer or an
 * error is not remembered, and a caller finding one in flight asks with its own checker.
 */
export function memoizeAncestry(check: AncestryChecker, answers: AncestryAnswers = new Map()): AncestryChecker {
  return async (ancestor, descendant) => {
    const key = `${ancestor}..${descendant}`;
    const known = answers.get(key);
    if (known) {
      const answer = await known.catch(() => undefined);
      if (typeof answer === 'boolean') return answer;
    }
    const answer = check(ancestor, descendant);
    answers.set(key, answer);
    answer.then(
      (value) => typeof value !== 'boolean' && answers.get(key) === answer && answers.delete(key),
      () => answers.get(key) === answer && answers.delete(key),
    );
    return answer;
  };
}

/** Lockstep publish of the dump set (blobs, version, commit index entry, forward-only ref move). */
export async function publishDumpSet(request: PublishRequest, prepared?: PublishPreparation): Promise<PublishResult> {
  const time = await (prepared ? prepared.commitTime.catch(() => commitTime(request.repoDir, request.commit)) : commitTime(request.repoDir, request.commit));
  return publish({
    store: request.store,
    service: request.service,
    dir: request.dir,
    source: {
      commit: request.commit,
      branch: request.branch,
      ...(request.repository ? { repository: request.repository } : {}),
      ...(time ? { commitTime: time } : {}),
    },
    ancestry: prepared?.ancestry ?? gitAncestry(request.repoDir),
    ...(request.forcePush?.at ? { historyRewrittenAt: request.forcePush.at } : {}),
    ...(request.forcePush?.replacedHead ? { historyReplacedHead: request.forcePush.replacedHead } : {}),
    migrations: { fingerprint: request.fingerprint, scope: request.migrationsScope },
    engines: request.engines,
    tool: { name: 'org/actions refresh-dumps', version: '1' },
    ...(request.onWait ? { onWait: request.onWait } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  });
}

/** A dry run publishes nothing: the version the files would get, and whether it differs from the branch's. */
export async function dryRunVersion(
  store: Store,
  service: string,
  branch: string,
  dir: string,
  files: readonly string[],
): Promise<{ version: string; changed: boolean; files: DumpedFile[]; previous: { commit: string; version: string } | undefined }> {
  const described = await Promise.all(
    files.map(async (file) => {
      const bytes = await readFile(path.join(dir, ...file.split('/')));
      return { path: file, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    }),
  );
  const version = computeVersion(described);
  const ref = await readBranchRef(store, service, branch);
  return {
    version,
    changed: ref?.version !== version,
    files: described.map(({ path: file, size }) => ({ path: file, size })),
    previous: ref ? { commit: ref.commit, version: ref.version } : undefined,
  };
}

/** Retention after a publish: keep the newest `keep` versions per branch (and what refs and recent commits name). */
export async function applyRetention(store: Store, service: string, keep: number, warn: (message: string) => void, signal?: AbortSignal): Promise<RefreshReport['retention']> {
  let result: Awaited<ReturnType<typeof prune>>;
  try {
    // Aborted (the run cancelled), it stops between delete batches and releases its lease; that is a failure, not a skip.
    result = await prune({ store, service, keep, yes: true, ...(signal ? { signal } : {}) });
  } catch (error) {
    // Another prune, or a publish reusing objects, is running: the next run's retention catches up.
    if (error instanceof DumpVersioningError && !error.fatal) {
      warn(`Retention skipped this run: ${error.message}`);
      return undefined;
    }
    throw error;
  }
  for (const warning of result.warnings) warn(`Retention: ${warning}`);
  return {
    versions: result.deleted.versions.length,
    commits: result.deleted.commits.length,
    blobs: result.deleted.blobs.length,
    bytes: result.bytes,
  };
}

/** The schema diff between the version the branch named before this run and the new one. */
export async function schemaSection(
  store: Store,
  service: string,
  version: string,
  previous: { commit: string; version: string } | undefined,
): Promise<SchemaSection> {
  if (previous === undefined) return { kind: 'first' };
  if (previous.version === version) return { kind: 'same', base: previous };
  const result = await diff({ store, service, from: previous.version, to: version, detail: schemaDiffDetail });
  const changes = result.details ?? { mysql: [], mongo: [] };
  const files = [...result.added, ...result.removed, ...result.changed].map((file) => file.path).sort();
  return { kind: 'changes', base: previous, mysql: changes.mysql, mongo: changes.mongo, files };
}

/**
 * What a published version is compared with, and whether it changed. Normally the version the branch ref
 * named before. A run whose ref stayed at another (newer) commit compares with what this commit descends
 * from (its nearest published ancestor, none in `mode: full`): against a newer version its own changes
 * would show reversed, and `changed` would say nothing about this commit.
 */
export function comparisonBase(
  published: Pick<PublishResult, 'version' | 'changed' | 'ref'>,
  ancestor: { commit: string; version: string } | undefined,
): { notAdvanced: boolean; compareWith: { commit: string; version: string } | undefined; changed: boolean } {
  if (published.ref.outcome !== 'not-advanced') return { notAdvanced: false, compareWith: published.ref.previous, changed: published.changed };
  const compareWith = ancestor ? { commit: ancestor.commit, version: ancestor.version } : undefined;
  return { notAdvanced: true, compareWith, changed: compareWith?.version !== published.version };
}
