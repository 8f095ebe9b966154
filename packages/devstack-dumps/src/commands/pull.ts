import { writeChecksumsFile } from '@org/dump-set';
import { pull, resolve } from '@org/dump-versioning';
import type { RegisterCommand } from '../internal/context.js';
import { bytes, printJson, printLines, progressBar, short } from '../internal/output.js';
import { addServiceOption, addStoreOptions, withStore, type ServiceFlags } from '../internal/store-options.js';
import { exactlyOne, fullCommitSha } from '../internal/usage.js';

interface PullFlags extends ServiceFlags {
  commit?: string;
  version?: string;
  branch?: string;
  out: string;
  replace: boolean;
}

export const registerPull: RegisterCommand = (program, context) => {
  const command = program
    .command('pull')
    .description('download a version, verify every sha256 and write it atomically into a directory')
    .option('--commit <sha>', 'the version published for exactly this commit (full sha)', fullCommitSha('--commit'))
    .option('--version <version>', 'a version id (see list)')
    .option('--branch <name>', 'the version the branch ref names')
    .requiredOption('--out <dir>', 'directory to create (must be empty or new); its checksum list goes to <dir>.checksums.json, which load checks: copy both')
    .option('--replace', 'replace a non-empty --out once everything verified', false);
  addServiceOption(addStoreOptions(command)).action(async (flags: PullFlags) => {
    exactlyOne(flags as unknown as Record<string, unknown>, ['commit', 'version', 'branch']);
    const progress = progressBar(context, flags.json);
    const result = await withStore(flags, context, async (store) => {
      const version = flags.branch !== undefined ? (await resolve({ store, service: flags.service, branch: flags.branch })).version : flags.version;
      const pulled = await pull({
        store,
        service: flags.service,
        out: flags.out,
        replace: flags.replace,
        ...(version !== undefined ? { version } : { commit: flags.commit! }),
        ...(progress.listener ? { onProgress: progress.listener } : {}),
        ...(context.interruptible ? { signal: context.interruptible() } : {}),
      }).finally(progress.stop);
      // pull verified every sha256; the list beside the directory (as `dump` writes it) lets `load`
      // refuse a file altered or removed since.
      await writeChecksumsFile(pulled.dir, pulled.manifest.files, pulled.manifest.engines);
      return pulled;
    });
    if (flags.json) printJson(context, { version: result.version, dir: result.dir, files: result.manifest.files.length, bytes: result.bytes });
    else printLines(context, [`pulled version ${short(result.version)} (${result.manifest.files.length} files, ${bytes(result.bytes)}) into ${result.dir}`]);
  });
};
