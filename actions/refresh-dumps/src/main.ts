import { access, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import * as core from '@actions/core';
import { InputError, reportFailure } from '@org/action-inputs';
import { dumpSet, emptyDatabases, loadSet, maskSecrets, type DumpSetResult } from '@org/dump-set';
import { fingerprintMigrationFiles, pull, migrationsScopeOf, resolveCommit, workingTreeRoot, type MigrationFingerprint, type MigrationsScope, type PublishResult, type PullResult, type Store } from '@org/dump-versioning';
import { unlessCancelled, whileCancellable } from './cancel.js';
import { PhaseClock } from './clock.js';
import { getInputs, type Inputs } from './context.js';
import { StepError, databaseInputOf, incrementalMigrateFailure, inStep, isStatementError, isUnreachable, messageOf, settleAll } from './errors.js';
import { migrateEnvironment, migrateVariables, parseMigrateLines, runMigrate, type MigrateCommand } from './migrate.js';
import { databasesOfFiles, decideMode, recheckAfterDump, recheckDatabases, type Ancestor, type ModeDecision } from './mode.js';
import { applyRetention, comparisonBase, dryRunVersion, preparePublish, publishDumpSet, schemaSection, type PublishPreparation } from './publish.js';
import { checkRunOnBranch, defaultBranchOf, forcedPushOf, readEventPayload, readRunnerContext, resolveBranch, type ForcePush, type RunnerContext } from './runner.js';
import { secretsToMask } from './secrets.js';
import { findAncestor, openActionStore, storeInput, workspacePath } from './store.js';
import { addRefreshSummary, rowLines, type RefreshReport } from './summary.js';
import { dumpSources, loadTargets, serviceDatabases } from './targets.js';

const short = (sha: string) => sha.slice(0, 12);

/** Everything the phases share; built once from the inputs and the runner's environment. */
interface Run {
  inputs: Inputs;
  runner: RunnerContext;
  branch: string;
  workDir: string;
  commands: MigrateCommand[];
  store: Store;
  /** Scratch directory under RUNNER_TEMP for the pulled ancestor and the dumps. */
  work: string;
  clock: PhaseClock;
  /** The run is of a force push of this commit to the branch, made then: a ref on the old history is moved here. */
  forcePush: ForcePush | undefined;
  /** What the store records of how the migrations were fingerprinted; asked of git at the start, never rejects. */
  migrationsScope: Promise<MigrationsScope>;
}

/** The action's single entry: every error becomes exactly one core.setFailed (in reportFailure) here. */
export async function run(): Promise<void> {
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const inputs = getInputs();
    for (const secret of secretsToMask(inputs, process.env)) core.setSecret(secret);
    const runner = readRunnerContext(process.env);
    const payload = await readEventPayload(runner.eventPath);
    const branchChoice = resolveBranch(inputs.branch, payload, runner.refName);
    checkRunOnBranch(branchChoice, runner.ref, defaultBranchOf(payload));
    const { branch, source } = branchChoice;
    const workDir = workspacePath(runner.workspace, 'working-directory', inputs.workingDirectory);
    await access(workDir).catch(() => {
      throw new InputError('working-directory', `${workDir} does not exist in the checkout; give the directory the migrate command runs in`);
    });
    const commands = parseMigrateLines(inputs.migrate);
    const store = openActionStore(inputs, runner.workspace);
    cleanups.push(() => store.close());
    const work = await mkdtemp(path.join(runner.temp, 'refresh-dumps-'));
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    const r: Run = {
      inputs,
      runner,
      branch,
      workDir,
      commands,
      store,
      work,
      clock: new PhaseClock(),
      forcePush: forcedPushOf(payload, branch, runner.sha),
      migrationsScope: migrationsScopeOf(workDir, inputs.migrationsGlob, runner.workspace),
    };
    core.info(`Service ${inputs.service}, commit ${runner.sha}, branch ${branch} (from the ${source}), store ${store.location}${inputs.dryRun ? ' (dry run)' : ''}`);

    // Both modes start from empty databases: waiting for the servers (service containers may still be
    // starting) and emptying them overlaps with the git and store work that decides the mode and
    // downloads the ancestor's dump.
    const [, { fingerprint, decision: planned, ancestor, ancestorDir }] = await core.group('Wait for the servers and empty the databases; choose full or incremental', () =>
      settleAll([
        emptyServiceDatabases(r, inputs.waitTimeout),
        choose(r).then((plan) => pullForDecision(r, plan)),
      ] as const),
    );
    // Asked once migrate runs (git and the store only), so the publish after the dump only writes; not
    // earlier, where its git processes would compete with the load for this process's one thread.
    let prepared: PublishPreparation | undefined;
    const prepare = () => {
      if (!inputs.dryRun) prepared ??= preparePublish(store, inputs.service, branch, workDir, runner.sha);
    };
    let decision = planned;
    let dumped = await migrateAndDump(r, decision, 1, ancestorDir, prepare);
    const rechecked = recheckAfterDump(decision, inputs.mode, dumped.engines);
    let firstAttempt: string | undefined;
    if (rechecked !== decision) {
      core.notice(`Redoing the refresh in full mode: ${rechecked.reason}`);
      firstAttempt = decision.reason;
      decision = rechecked;
      dumped = await migrateAndDump(r, decision, 2, undefined, prepare);
    }
    // A cancelled run stops the publish and retention cleanly, releasing their store leases (cancel.ts).
    const report = await core.group(inputs.dryRun ? 'Dry run: compute the version' : 'Publish', () =>
      inputs.dryRun
        ? publishPhase(r, dumped, fingerprint, decision, firstAttempt, prepared, ancestor, undefined)
        : whileCancellable((signal) => publishPhase(r, dumped, fingerprint, decision, firstAttempt, prepared, ancestor, signal), (message) => core.info(message)),
    );

    core.setOutput('version', report.version);
    core.setOutput('changed', String(report.changed));
    core.setOutput('commit', runner.sha);
    core.setOutput('mode', report.mode);
    core.setOutput('manifest', report.manifest ?? '');
    addRefreshSummary({ ...report, totalMs: r.clock.elapsed() });
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.write();
    else core.info(core.summary.stringify());
    if (report.retentionFailure) throw report.retentionFailure;
  } catch (error) {
    reportFailure(error);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

/** Fingerprints the checkout's migrations, finds the nearest published ancestor and decides the mode. */
async function choose(r: Run): Promise<{ fingerprint: MigrationFingerprint; decision: ModeDecision; ancestor: Ancestor | undefined }> {
  const { inputs, runner, clock } = r;
  // git is asked from working-directory, so a checkout under actions/checkout's `path:` is found too.
  const head = await inStep('Reading the checkout', undefined, () =>
    resolveCommit(r.workDir, 'HEAD').catch(async (error: unknown) => {
      if ((await workingTreeRoot(r.workDir)) !== undefined) throw error;
      throw new InputError('working-directory', `${r.workDir} is not in a git checkout; run actions/checkout before this action (when it checks out under a \`path:\`, point working-directory into that path)`);
    }),
  );
  if (head !== runner.sha) {
    throw new StepError('Reading the checkout', `the checkout at ${r.workDir} has ${head} checked out but GITHUB_SHA is ${runner.sha}; check out GITHUB_SHA (actions/checkout does by default)`);
  }
  const fingerprint = await clock.time('fingerprint migrations', () =>
    inStep('Fingerprinting the migrations', 'migrations-glob', () => fingerprintMigrationFiles(r.workDir, inputs.migrationsGlob)),
  );
  if (Object.keys(fingerprint.apps).length === 0) {
    throw new InputError('migrations-glob', `matched no migration file under ${r.workDir} (globs: ${inputs.migrationsGlob.join(', ')}); give globs relative to \`working-directory\``);
  }
  const found =
    inputs.mode === 'full'
      ? undefined
      : await clock.time('find ancestor', () => inStep('Reading the store', storeInput(inputs), () => findAncestor(r.store, inputs.service, runner.sha, r.workDir)));
  const ancestor = found === undefined || 'none' in found ? undefined : found;
  const decision = decideMode(inputs.mode, fingerprint, found);
  core.info(`Mode ${decision.mode}: ${decision.reason}`);
  return { fingerprint, decision, ancestor };
}

/**
 * In incremental mode, pulls the ancestor's dump, then checks it holds the databases this run migrates:
 * if not (inputs changed since), the run falls back to full mode and the pulled files are not used.
 */
async function pullForDecision<T extends { decision: ModeDecision }>(r: Run, plan: T): Promise<T & { ancestorDir: string | undefined }> {
  if (plan.decision.mode !== 'incremental') return { ...plan, ancestorDir: undefined };
  const pulled = await pullAncestor(r, plan.decision.ancestor);
  const decision = recheckDatabases(plan.decision, r.inputs.mode, databasesOfFiles(pulled.manifest.files), {
    mysql: r.inputs.mysqlUrl ? r.inputs.mysqlDatabases : undefined,
    mongo: r.inputs.mongoUrl ? r.inputs.mongoDatabases : undefined,
  });
  if (decision !== plan.decision) core.info(`Mode ${decision.mode}: ${decision.reason}`);
  return { ...plan, decision, ancestorDir: decision.mode === 'incremental' ? pulled.dir : undefined };
}

/** Downloads (and verifies) the ancestor's dump set into the scratch directory. */
async function pullAncestor(r: Run, ancestor: Ancestor): Promise<PullResult> {
  const dir = path.join(r.work, 'ancestor');
  return r.clock.time('pull ancestor', () =>
    inStep(`Pulling version ${short(ancestor.version)} (the dump of ${short(ancestor.commit)})`, storeInput(r.inputs), () => pull({ store: r.store, service: r.inputs.service, version: ancestor.version, out: dir })),
  );
}

/**
 * Connects (waiting, bounded, for servers still starting) and empties the service databases over the
 * same connections. A failure to connect is reported as the wait, anything after it as the emptying.
 */
function emptyServiceDatabases(r: Run, waitSeconds = 0): Promise<void> {
  return r.clock.time('wait for servers, empty databases', async () => {
    try {
      await emptyDatabases(serviceDatabases(r.inputs), { waitSeconds });
    } catch (error) {
      const step = isStatementError(error) ? 'Emptying the service databases' : 'Waiting for the database servers';
      // The dumpers' message says to wait longer; here that is an input.
      const hint = isUnreachable(error) ? ` (\`wait-timeout\`, now ${waitSeconds} s, is how long a starting server is waited for)` : '';
      return inStep(step, databaseInputOf, () => Promise.reject(error), (text) => maskSecrets(text) + hint);
    }
  });
}

/**
 * From the emptied databases (emptied again for a second attempt): loads the ancestor's dump in
 * incremental mode, runs the migrate commands (calling `whileMigrating` once they started), dumps.
 */
async function migrateAndDump(r: Run, decision: ModeDecision, attempt: number, ancestorDir: string | undefined, whileMigrating: () => void): Promise<DumpSetResult> {
  const { inputs, clock } = r;
  if (attempt > 1) await core.group('Empty the databases', () => emptyServiceDatabases(r));
  if (decision.mode === 'incremental') {
    const { ancestor } = decision;
    const dir = ancestorDir ?? (await pullAncestor(r, ancestor)).dir;
    await core.group(`Load the dump of ${short(ancestor.commit)} into the empty databases`, () =>
      clock.time('load ancestor', () =>
        inStep(
          `Loading the dump of ${short(ancestor.commit)} (incremental mode; \`mode: full\` skips this)`,
          databaseInputOf,
          // The run owns the service databases from emptying to dump (the workflow's concurrency group): a
          // MongoDB load lock would guard one step of it only, at ~50 ms.
          () => loadSet(dir, loadTargets(inputs), { waitSeconds: inputs.waitTimeout, lockMongo: false, onProgress: (message) => core.info(message) }),
          maskSecrets,
        ),
      ),
    );
  }
  const env = migrateEnvironment(process.env, migrateVariables(inputs));
  await core.group(`Migrate (${decision.mode})`, () =>
    clock.time('migrate', () => {
      const run = runMigrate(r.commands, { cwd: r.workDir, env, mask: maskSecrets });
      const migrating = decision.mode === 'incremental' ? run.catch((error: unknown) => Promise.reject(incrementalMigrateFailure(error, decision.ancestor.commit))) : run;
      whileMigrating();
      return migrating;
    }),
  );
  return core.group('Dump', async () => {
    const dumped = await clock.time('dump', () =>
      inStep('Dumping the databases', databaseInputOf, () => dumpSet(dumpSources(inputs), path.join(r.work, `dump-${attempt}`), { waitSeconds: inputs.waitTimeout, onProgress: (message) => core.info(message) }), maskSecrets),
    );
    // What left the databases as rows: the listed tables and the migration tools' bookkeeping, nothing else.
    for (const line of rowLines(dumped.rows)) core.info(line);
    return dumped;
  });
}

/** Publishes (or, in a dry run, only versions) the dump set, applies retention and diffs the schema. */
async function publishPhase(
  r: Run,
  dumped: DumpSetResult,
  fingerprint: MigrationFingerprint,
  decision: ModeDecision,
  firstAttempt: string | undefined,
  prepared: PublishPreparation | undefined,
  /** The nearest published ancestor found before migrating (none in `mode: full`). */
  ancestor: Ancestor | undefined,
  /** Aborted when the run is cancelled: the publish and retention stop at a safe point. */
  signal: AbortSignal | undefined,
): Promise<Omit<RefreshReport, 'totalMs'>> {
  const { inputs, runner, clock, store } = r;
  const base = { service: inputs.service, commit: runner.sha, branch: r.branch, store: store.location, dryRun: inputs.dryRun, mode: decision.mode, reason: decision.reason, firstAttempt };
  if (inputs.dryRun) {
    const result = await clock.time('version (dry run)', () => inStep('Reading the store', storeInput(inputs), () => dryRunVersion(store, inputs.service, r.branch, dumped.dir, dumped.files)));
    core.info(`Dry run: version ${result.version} (${result.changed ? 'differs from' : 'same as'} the branch's); nothing was published`);
    const schema: RefreshReport['schema'] =
      !result.changed && result.previous ? { kind: 'same', base: result.previous } : { kind: 'skipped', why: 'dry run: the new version is not in the store to compare with' };
    return { ...base, version: result.version, changed: result.changed, manifest: undefined, phases: clock.phases, files: result.files, uploads: undefined, ref: undefined, retention: undefined, schema };
  }
  const migrationsScope = await r.migrationsScope;
  // The cancel is recognised inside the step (inStep passes its CancelledError, an action error, through as it is).
  const published: PublishResult = await clock.time('publish', () =>
    inStep(`Publishing to ${store.location}`, storeInput(inputs), () =>
      unlessCancelled(signal, { phase: 'publish', commit: runner.sha }, () =>
        publishDumpSet(
          { store, service: inputs.service, dir: dumped.dir, commit: runner.sha, branch: r.branch, repository: runner.repository, repoDir: r.workDir, fingerprint, migrationsScope, forcePush: r.forcePush, engines: dumped.engines, onWait: (message) => core.info(message), signal },
          prepared,
        ),
      ),
    ),
  );
  for (const warning of published.warnings) core.warning(warning.message);
  const { notAdvanced, compareWith, changed } = comparisonBase(published, ancestor);
  core.info(`Version ${published.version} (${changed ? 'changed' : 'unchanged'}${notAdvanced && compareWith ? ` from the dump of ${short(compareWith.commit)}` : ''}), ${published.blobsUploaded} new blob(s), ref ${r.branch}: ${published.ref.outcome}`);
  // The diff first: retention may delete the version the branch named before (older than its window).
  let schema: RefreshReport['schema'];
  try {
    schema =
      notAdvanced && compareWith === undefined
        ? { kind: 'skipped', why: `the branch ref stayed at another commit and this commit has no published ancestor to compare with${inputs.mode === 'full' ? ' (none is looked up in `mode: full`)' : ''}` }
        : await clock.time('schema diff', () => schemaSection(store, inputs.service, published.version, compareWith));
    if (schema.kind === 'changes') logSchemaChanges(schema);
  } catch (error) {
    // The publish is complete; a diff that cannot be computed only leaves the summary shorter.
    core.warning(`Schema diff skipped: ${maskSecrets(messageOf(error))}`);
    schema = { kind: 'skipped', why: 'the diff failed (see the warning in the log)' };
  }
  let retention: RefreshReport['retention'];
  let retentionFailure: Error | undefined;
  if (inputs.keep !== undefined) {
    try {
      retention = await clock.time('retention', () =>
        inStep('Applying retention', 'keep', () => unlessCancelled(signal, { phase: 'retention', version: published.version }, () => applyRetention(store, inputs.service, inputs.keep!, (message) => core.warning(message), signal)), maskSecrets),
      );
    } catch (error) {
      // The version is published and the ref moved: outputs and summary still say so; run() fails the step after.
      retentionFailure = error as Error;
    }
  }
  return {
    ...base,
    version: published.version,
    changed,
    manifest: `${store.location}/${published.manifestKey}`,
    phases: clock.phases,
    files: published.files.map((file) => ({ path: file.path, size: file.size })),
    uploads: { blobs: published.blobsUploaded, bytes: published.bytesUploaded },
    ref: { outcome: published.ref.outcome, previous: published.ref.previous, reason: published.ref.reason },
    retention,
    ...(retentionFailure ? { retentionFailure } : {}),
    schema,
  };
}

/** The schema changes as plain log lines (the summary renders them as code blocks). */
function logSchemaChanges(schema: { mysql: string[]; mongo: string[] }): void {
  for (const [engine, lines] of [['MySQL', schema.mysql], ['MongoDB', schema.mongo]] as const) {
    if (lines.length === 0) continue;
    core.info(`${engine} schema changes:`);
    for (const line of lines) core.info(`  ${line}`);
  }
}
