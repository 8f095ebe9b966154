import { isAbsolute } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_STORE, openStore, type Store } from '@org/dump-versioning';
import type { CommandContext } from './context.js';
import { workingTreeRoot } from '@org/dump-versioning';

export interface StoreFlags {
  store: string;
  s3Endpoint?: string;
  s3Region?: string;
  json?: boolean;
}

export interface ServiceFlags extends StoreFlags {
  service: string;
}

/** --store, --s3-endpoint, --s3-region and --json, shared by every store command. */
export function addStoreOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--store <url>', 's3://bucket/prefix, file:///abs/dir or a directory (a relative one from the top of the git working tree)')
        .env('DEVSTACK_DUMPS_STORE')
        .default(DEFAULT_STORE),
    )
    .addOption(new Option('--s3-endpoint <url>', 'S3-compatible endpoint (MinIO, R2, Ceph); default AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL'))
    .addOption(new Option('--s3-region <region>', 'S3 region; default AWS_REGION, AWS_DEFAULT_REGION or us-east-1'))
    .option('--json', 'machine-readable output on stdout', false);
}

export function addServiceOption(command: Command): Command {
  return command.requiredOption('--service <name>', 'service whose dumps to use, e.g. lms');
}

/**
 * The directory a relative store path is read from: the top of the git working tree holding `cwd` (the
 * default `.devstack/dumps` belongs to the repository, like the cache, also from a subdirectory), else `cwd`.
 */
export async function storeBase(cwd: string): Promise<string> {
  return (await workingTreeRoot(cwd)) ?? cwd;
}

export async function openStoreFrom(flags: StoreFlags, context: CommandContext): Promise<Store> {
  const relative = !/^[a-z][a-z0-9+.-]*:/i.test(flags.store) && !isAbsolute(flags.store);
  return openStore(flags.store, {
    cwd: relative ? await storeBase(context.cwd) : context.cwd,
    env: context.env,
    ...(flags.s3Endpoint ? { s3Endpoint: flags.s3Endpoint } : {}),
    ...(flags.s3Region ? { s3Region: flags.s3Region } : {}),
    // An S3 endpoint that does not answer is retried; say so rather than stay silent until it gives up.
    onRetry: (message: string) => context.stderr.write(`${message}\n`),
  });
}

/** Opens the store, runs `body`, and always closes the store. */
export async function withStore<T>(flags: StoreFlags, context: CommandContext, body: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStoreFrom(flags, context);
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}
