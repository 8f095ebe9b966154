import { Option } from 'commander';
import path from 'node:path';
import { checksumsPathOf, verifyDumpSet } from '@org/dump-set';
import {
  NotFoundError,
  commitTime,
  fingerprintMigrationFiles,
  migrationFilesChangedSinceHead,
  gitAncestry,
  migrationsScopeOf,
  publish,
  resolveCommit,
  type MigrationsInfo,
} from '@org/dump-versioning';
import { Interrupted, type RegisterCommand } from '../internal/context.js';
import { addRepoOption } from '../internal/repo-option.js';
import { UsageError } from '../internal/usage.js';
import { bytes, printJson, printLines, printWarnings, progressBar, short } from '../internal/output.js';
import { addServiceOption, addStoreOptions, withStore, type ServiceFlags } from '../internal/store-options.js';
import { TOOL } from '../internal/version.js';

interface PublishFlags extends ServiceFlags {
  commit: string;
  branch: string;
  repo: string;
  repository?: string;
  compression: 'brotli' | 'gzip' | 'none';
  migrationsGlob?: string[];
}

export const registerPublish: RegisterCommand = (program, context) => {
  const command = program
    .command('publish')
    .description('publish a dump set directory for a commit and advance the branch ref (forward only)')
    .argument('<dir>', 'dump set directory (mysql/<db>.sql, mongo/<db>/...)')
    .option('--commit <sha>', 'commit the dumps were made at', 'HEAD')
    .requiredOption('--branch <name>', 'branch whose ref to advance, e.g. master')
    .option('--repository <name>', 'repository name recorded in the manifest, e.g. org/lms')
    .addOption(new Option('--compression <kind>', 'how blobs are stored').choices(['brotli', 'gzip', 'none']).default('brotli'))
    .option('--migrations-glob <glob...>', 'record the migration fingerprint of --repo (e.g. "**/migrations/[0-9]*.py")');
  addRepoOption(addServiceOption(addStoreOptions(command)), 'git clone used to resolve the commit and decide ancestry', context).action(async (dir: string, flags: PublishFlags) => {
    // What `load` refuses must not be published either: a file altered, added or removed since the dump
    // (against <dir>.checksums.json), a bad layout, a malformed schema file. The list is required here:
    // `dump` and `pull` write it once every file is complete, and without it a truncated file (cut at a
    // statement boundary, it even loads) would be published as a version.
    const verified = await verifyDumpSet(dir);
    if (verified.verifiedBy !== 'checksums') {
      throw new NotFoundError(
        'checksums-missing',
        `dump set ${path.resolve(dir)} has no checksum list beside it (${checksumsPathOf(path.resolve(dir))}, which \`devstack-dumps dump\` and \`pull\` write once every file is complete), so nothing shows its files are whole; dump or pull it again, or copy the list along with the directory`,
      );
    }
    const commit = await resolveCommit(flags.repo, flags.commit);
    const time = await commitTime(flags.repo, commit);
    const migrations = flags.migrationsGlob ? await committedMigrations(flags.repo, commit, flags.migrationsGlob) : undefined;
    const progress = progressBar(context, flags.json);
    const result = await withStore(flags, context, (store) =>
      publish({
        store,
        service: flags.service,
        dir,
        source: { commit, branch: flags.branch, ...(time ? { commitTime: time } : {}), ...(flags.repository ? { repository: flags.repository } : {}) },
        ancestry: gitAncestry(flags.repo),
        compression: flags.compression,
        ...(migrations ? { migrations } : {}),
        // Recorded by `dump` (or `pull`) in the checksum list: lets provision warn about engine mismatches.
        ...(verified.engines ? { engines: verified.engines } : {}),
        tool: { ...TOOL },
        ...(progress.listener ? { onProgress: progress.listener } : {}),
        onWait: (message: string) => context.stderr.write(`${message}\n`),
        // Ctrl-C stops it at the next safe point and releases its store lease (else a prune would wait for it).
        ...(context.interruptible ? { signal: context.interruptible() } : {}),
      })
        .catch((error: unknown) => {
          if (error instanceof Interrupted) {
            error.outcome = 'publish stopped before naming a version: no commit entry or ref was written and its lease on the store was released; the blobs it stored stay, and publishing again reuses them';
          }
          throw error;
        })
        .finally(progress.stop),
    );
    if (flags.json) {
      const { files, warnings, ...rest } = result;
      printJson(context, { ...rest, files: files.length, warnings: warnings.map(({ code, message }) => ({ code, message })) });
    } else {
      printLines(context, [
        `version   ${result.version}${result.versionCreated ? ' (new)' : ' (already published)'}`,
        `changed   ${result.changed ? 'yes' : 'no'}`,
        `uploaded  ${result.blobsUploaded} blob(s), ${bytes(result.bytesUploaded)}`,
        `ref       ${flags.branch}: ${result.ref.outcome}${result.ref.previous ? ` (was ${short(result.ref.previous.commit)})` : ''}`,
      ]);
    }
    printWarnings(context, result.warnings);
  });
};

/**
 * The migrations record of a publish: the fingerprint of the working tree, which must hold exactly the
 * migration files of `commit` (the dumps were made by migrating it: an uncommitted, untracked, edited or
 * deleted migration file means they are not of that commit), with the scope a developer's checkout is
 * fingerprinted by (--repo relative to the top of its working tree).
 */
async function committedMigrations(repo: string, commit: string, globs: string[]): Promise<MigrationsInfo> {
  if (commit !== (await resolveCommit(repo, 'HEAD'))) {
    // The dumps were made from a working tree; only one at that commit shows they match it.
    throw new UsageError(`--migrations-glob checks the working tree of ${repo} against commit ${commit}, but it is at another commit; check that commit out or drop --migrations-glob`);
  }
  const [fingerprint, changes] = await Promise.all([fingerprintMigrationFiles(repo, globs), migrationFilesChangedSinceHead(repo, globs)]);
  const parts = [
    changes.added.length > 0 ? `not committed: ${changes.added.join(', ')}` : '',
    changes.edited.length > 0 ? `changed since the commit: ${changes.edited.join(', ')}` : '',
    changes.deleted.length > 0 ? `deleted: ${changes.deleted.join(', ')}` : '',
    changes.notCheckedOut.length > 0 ? `not in the working tree (sparse checkout): ${changes.notCheckedOut.join(', ')}` : '',
  ].filter(Boolean);
  if (parts.length > 0) {
    throw new UsageError(
      `the migration files in ${repo} differ from commit ${commit} (${parts.join('; ')}), so the dumps are not of that commit; ` +
        'commit or remove those changes, re-run the migrations and dump again, then publish',
    );
  }
  if (Object.keys(fingerprint.apps).length === 0) {
    throw new UsageError(`--migrations-glob (${globs.join(' ')}) matched no migration file under ${repo}; give globs relative to --repo`);
  }
  return { fingerprint, scope: await migrationsScopeOf(repo, globs) };
}
