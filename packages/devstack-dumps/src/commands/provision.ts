import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MIGRATION_GLOBS } from '@org/dump-versioning';
import type { Command } from 'commander';
import type { CommandContext, RegisterCommand } from '../internal/context.js';
import { bytes, describeDistance, printJson, printLines, progressLines, seconds, short } from '../internal/output.js';
import { engineMismatches } from '../internal/engines.js';
import { DJANGO_MIGRATE_COMMAND, describePending, joinNames, migrateAdvice, type MigrateAdvice } from '../internal/pending.js';
import { DEFAULT_CACHE_KEEP } from '../internal/cache-trim.js';
import { planProvision, provision, type ProvisionPlan, type ProvisionResult } from '../internal/provisioning.js';
import { addServerOptions, databaseName, requireServer, type LoadFlags } from '../internal/server-options.js';
import { addServiceOption, addStoreOptions, withStore, type ServiceFlags } from '../internal/store-options.js';
import { addRepoOption } from '../internal/repo-option.js';
import { wholeNumber } from '../internal/usage.js';
import { describeLoaded, describeSkipped } from './load.js';

interface StatusFlags extends ServiceFlags {
  commit: string;
  repo: string;
  migrationsGlob?: string[];
  migrateCommand?: string;
  cache?: string;
  maxDistance: number;
}

type ProvisionFlags = StatusFlags & LoadFlags & { cacheKeep: number };

function addPlanOptions(command: Command, context: CommandContext): Command {
  return addRepoOption(addServiceOption(addStoreOptions(command)), 'git working tree (its migrations are compared with the dump)', context)
    .option('--commit <rev>', 'commit whose nearest published ancestor to use (newest commit first, through every parent)', 'HEAD')
    .option('--migrations-glob <glob...>', `migration file globs relative to --repo (default: the ones the dump was fingerprinted with, which the action records; else ${DEFAULT_MIGRATION_GLOBS.join(' ')})`)
    .option('--migrate-command <command>', `the command that runs pending migrations (printed, never run, never stored; default: ${DJANGO_MIGRATE_COMMAND} when the migration globs are Django's, <app>/migrations/*.py, else a generic line)`)
    .option('--cache <dir>', 'where pulled dump sets are kept (default: <repo>/.devstack/cache)')
    .option('--max-distance <n>', 'how many ancestors to look at', wholeNumber('--max-distance'), 200);
}

/**
 * `<repo>/.devstack` (the cache, the default store) holds nothing to commit: a `.gitignore` of `*` in it
 * keeps it out of `git status` without editing the service's own ignore rules (as pytest and mypy do for
 * their caches). An existing one is left as it is.
 */
export async function ignoreToolDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, '.gitignore'), '# Written by devstack-dumps: the cache and local dumps are not committed.\n*\n', { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}

const cacheRoot = (flags: StatusFlags) => flags.cache ?? path.join(flags.repo, '.devstack', 'cache');

function planLines(plan: ProvisionPlan): string[] {
  const { resolution } = plan;
  return [`ancestor   ${resolution.commit} ${describeDistance(resolution)}`, `version    ${resolution.version}`];
}

/**
 * What to tell people to run. Without --migrate-command, Django's migrate only when the working tree was
 * fingerprinted with Django's globs (--migrations-glob, else those the dump recorded, else the default, as
 * fingerprintAsDumped chooses).
 */
function adviceFor(plan: ProvisionPlan, flags: StatusFlags): MigrateAdvice {
  return migrateAdvice(flags.migrateCommand, flags.migrationsGlob ?? plan.resolution.entry.migrations?.scope?.globs ?? DEFAULT_MIGRATION_GLOBS);
}

function planJson(plan: ProvisionPlan, flags: StatusFlags) {
  const { entry, ...resolution } = plan.resolution;
  return { ...resolution, publishedAt: entry.createdAt, cache: { dir: plan.cacheDir, cached: plan.cached }, pending: plan.pending, migrateCommand: adviceFor(plan, flags).command ?? null };
}

export const registerProvision: RegisterCommand = (program, context) => {
  const command = program
    .command('provision')
    .description("load the dump of HEAD's nearest published ancestor into local databases, then list the migrations to run");
  addServerOptions(addPlanOptions(command, context))
    .option('--mysql-db <name>', 'load the only MySQL database of the dump under this name', databaseName('--mysql-db', 'mysql'))
    .option('--mongo-db <name>', 'load the only MongoDB database of the dump under this name', databaseName('--mongo-db', 'mongo'))
    .option('--replace', 'drop non-empty target databases first (otherwise they are refused)', false)
    .option('--cache-keep <n>', 'versions of the service the cache keeps, most recently used first (0: all)', wholeNumber('--cache-keep'), DEFAULT_CACHE_KEEP)
    .action(async (flags: ProvisionFlags) => {
      requireServer(flags, 'provision');
      const started = performance.now();
      const onProgress = progressLines(context, [flags.mysql, flags.mongo]);
      const { plan, result } = await withStore(flags, context, async (store) => {
        const plan = await planProvision({ store, service: flags.service, repo: flags.repo, commit: flags.commit, migrationsGlob: flags.migrationsGlob, maxDistance: flags.maxDistance, cacheRoot: cacheRoot(flags) });
        if (flags.cache === undefined) await ignoreToolDirectory(path.join(flags.repo, '.devstack'));
        const result = await provision(plan, { store, service: flags.service, flags, onProgress, cacheKeep: flags.cacheKeep, ...(context.interruptible ? { signal: context.interruptible() } : {}) });
        return { plan, result };
      });
      const totalMs = Math.round(performance.now() - started);
      const timings = { ...plan.timings, ...result.timings, totalMs };
      const engineWarnings = engineMismatches(plan.resolution.entry.engines, result.loaded.engines);
      for (const warning of engineWarnings) context.stderr.write(`warning: ${warning}\n`);
      if (flags.json) {
        printJson(context, { ...planJson(plan, flags), pulled: result.pulled ?? null, loaded: result.loaded, engineWarnings, timings });
      } else {
        printLines(context, [
          ...planLines(plan),
          `dump       ${plan.cacheDir} (${describePull(result)})`,
          `loaded     ${describeLoaded(result.loaded)}`,
          ...describeSkipped(result.loaded.skipped).map((line) => `           ${line}`),
          ...describePending(plan.pending, adviceFor(plan, flags), short(plan.resolution.commit)),
          `timings    fingerprint ${seconds(timings.fingerprintMs)}, resolve ${seconds(timings.resolveMs)}, pull ${seconds(timings.pullMs)}, load ${seconds(timings.loadMs)}, total ${seconds(totalMs)}`,
        ]);
      }
      if (plan.pending.state === 'rewritten') context.stderr.write(`warning: the working tree rewrote migration(s) the dump has (${joinNames([...plan.pending.edited, ...plan.pending.removed])}); the loaded schema may not match, consider a full migrate\n`);
    });
};

function describePull(result: ProvisionResult): string {
  return result.pulled ? `pulled ${result.pulled.files} files, ${bytes(result.pulled.bytes)} in ${seconds(result.timings.pullMs)}` : 'reused the verified cache';
}

export const registerStatus: RegisterCommand = (program, context) => {
  const command = program
    .command('status')
    .description('what provision would load (nearest published ancestor of HEAD) and which migrations would be pending; loads nothing');
  addPlanOptions(command, context).action(async (flags: StatusFlags) => {
    const started = performance.now();
    const plan = await withStore(flags, context, (store) =>
      planProvision({ store, service: flags.service, repo: flags.repo, commit: flags.commit, migrationsGlob: flags.migrationsGlob, maxDistance: flags.maxDistance, cacheRoot: cacheRoot(flags) }),
    );
    const timings = { ...plan.timings, totalMs: Math.round(performance.now() - started) };
    if (flags.json) {
      printJson(context, { ...planJson(plan, flags), timings });
      return;
    }
    printLines(context, [
      ...planLines(plan),
      `cache      ${plan.cacheDir} (${plan.cached ? 'pulled and verified' : 'not pulled yet'})`,
      ...describePending(plan.pending, adviceFor(plan, flags), short(plan.resolution.commit)),
      `timings    fingerprint ${seconds(timings.fingerprintMs)}, resolve ${seconds(timings.resolveMs)}, total ${seconds(timings.totalMs)}`,
    ]);
    if (plan.pending.state === 'rewritten') context.stderr.write(`warning: the working tree rewrote migration(s) the dump has (${joinNames([...plan.pending.edited, ...plan.pending.removed])}); the dump may not match, consider a full migrate\n`);
  });
};
