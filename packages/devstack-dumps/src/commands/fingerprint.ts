import {
  DEFAULT_MIGRATION_GLOBS,
  appForPeople,
  naturalOrder,
  NotFoundError,
  classifyFingerprintChange,
  fingerprintMigrationFiles,
  readCommitEntry,
  resolve,
  type MigrationFingerprint,
} from '@org/dump-versioning';
import type { RegisterCommand } from '../internal/context.js';
import { printJson, printLines, short, table } from '../internal/output.js';
import { addStoreOptions, withStore, type StoreFlags } from '../internal/store-options.js';
import { addRepoOption } from '../internal/repo-option.js';
import { UsageError } from '../internal/usage.js';
import { fingerprintAsDumped } from '../internal/migrations-scope.js';

interface FingerprintFlags extends StoreFlags {
  repo: string;
  migrationsGlob?: string[];
  service?: string;
  againstCommit?: string;
  againstBranch?: string;
}

export const registerFingerprint: RegisterCommand = (program, context) => {
  const command = program
    .command('fingerprint')
    .description('migration fingerprint of the working tree (no database needed); with --against-*, which migrations are new or rewritten')
    .option('--glob, --migrations-glob <pattern...>', `migration file globs relative to --repo (default ${DEFAULT_MIGRATION_GLOBS.join(' ')}; with --against-*, the ones that dump was fingerprinted with)`)
    .option('--service <name>', 'service to compare against (with --against-*)')
    .option('--against-commit <sha>', 'compare with the fingerprint published for this commit (or its nearest published ancestor)')
    .option('--against-branch <name>', 'compare with the fingerprint of the published branch ref');
  addRepoOption(addStoreOptions(command), 'source tree to read migrations from', context).action(async (flags: FingerprintFlags) => {
    if (flags.againstCommit === undefined && flags.againstBranch === undefined) {
      const current = await fingerprintMigrationFiles(flags.repo, flags.migrationsGlob ?? DEFAULT_MIGRATION_GLOBS);
      if (flags.json) printJson(context, current);
      else printFingerprint(current);
      return;
    }
    if (flags.againstCommit !== undefined && flags.againstBranch !== undefined) throw new UsageError('pass either --against-commit or --against-branch, not both');
    if (flags.service === undefined) throw new UsageError('--against-commit/--against-branch need --service');
    const service = flags.service;
    const previous = await withStore(flags, context, async (store) => {
      const found = await resolve({
        store,
        service,
        ...(flags.againstBranch !== undefined ? { branch: flags.againstBranch } : { commit: flags.againstCommit!, repoDir: flags.repo }),
      });
      const entry = await readCommitEntry(store, service, found.commit);
      if (!entry?.migrations) {
        throw new NotFoundError('no-fingerprint', `the dump for commit ${found.commit} was published without a migration fingerprint; publish with --migrations-glob`);
      }
      return { commit: found.commit, fingerprint: entry.migrations.fingerprint, scope: entry.migrations.scope };
    });
    const current = (await fingerprintAsDumped(flags.repo, flags.migrationsGlob, previous.scope)).fingerprint;
    const change = classifyFingerprintChange(previous.fingerprint, current);
    if (flags.json) {
      printJson(context, { against: previous.commit, ...change });
      return;
    }
    const lines = [`against ${short(previous.commit)}: ${change.kind}`];
    if (change.kind !== 'unchanged') {
      lines.push(...change.added.map((m) => `  new       ${m.app}.${m.name}`));
    }
    if (change.kind === 'rewritten') {
      lines.push(...change.edited.map((m) => `  edited    ${m.app}.${m.name}`), ...change.removed.map((m) => `  removed   ${m.app}.${m.name}`));
    }
    printLines(context, lines);
  });

  function printFingerprint(fingerprint: MigrationFingerprint) {
    printLines(context, [
      `overall ${fingerprint.overall}`,
      // People read numbered names in number order (`V10__x` after `V9__y`), not the fingerprint's byte order.
      ...table(
        ['APP', 'MIGRATIONS', 'LATEST', 'CHAIN'],
        Object.entries(fingerprint.apps).map(([app, value]) => [
          appForPeople(app),
          String(value.migrations.length),
          value.migrations.map((migration) => migration.name).sort(naturalOrder).at(-1) ?? '',
          short(value.chain),
        ]),
      ),
    ]);
  }
};
