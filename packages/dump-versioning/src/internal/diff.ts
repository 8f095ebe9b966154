import { InvalidInputError } from './errors.js';
import type { DumpFile, VersionManifest } from './manifest.js';
import { readManifest } from './publish.js';
import { assertService } from './query.js';
import type { Store } from './store.js';
import { readVerified } from './transfer.js';
import { versionIdOf } from './version-id.js';

export interface ChangedFile {
  path: string;
  before: DumpFile;
  after: DumpFile;
}

export interface DiffContext {
  from: VersionManifest;
  to: VersionManifest;
  added: DumpFile[];
  removed: DumpFile[];
  changed: ChangedFile[];
  /** The verified bytes of a file of either version. */
  readFile: (side: 'from' | 'to', path: string) => Promise<Buffer>;
}

/** Lets dumpers add detail (tables, columns, indexes) to a file-level diff. */
export type DiffDetailHook<D> = (context: DiffContext) => Promise<D>;

export interface DiffResult<D = undefined> {
  service: string;
  from: string;
  to: string;
  added: DumpFile[];
  removed: DumpFile[];
  changed: ChangedFile[];
  unchanged: number;
  details: D | undefined;
}

/** Compares two versions, each given by its id or a unique prefix of at least 7 characters. */
export async function diff<D = undefined>(options: { store: Store; service: string; from: string; to: string; detail?: DiffDetailHook<D> }): Promise<DiffResult<D>> {
  const { store, service } = options;
  assertService(service);
  await store.checkRoot?.('read');
  const manifestOf = async (given: string) => readManifest(store, service, await versionIdOf(store, service, given));
  const [from, to] = await Promise.all([manifestOf(options.from), manifestOf(options.to)]);
  const before = new Map(from.files.map((file) => [file.path, file]));
  const after = new Map(to.files.map((file) => [file.path, file]));
  const added = to.files.filter((file) => !before.has(file.path));
  const removed = from.files.filter((file) => !after.has(file.path));
  const changed: ChangedFile[] = [];
  let unchanged = 0;
  for (const file of to.files) {
    const old = before.get(file.path);
    if (!old) continue;
    if (old.sha256 === file.sha256) unchanged++;
    else changed.push({ path: file.path, before: old, after: file });
  }
  const readFile = async (side: 'from' | 'to', path: string) => {
    const file = (side === 'from' ? before : after).get(path);
    if (!file) throw new InvalidInputError('diff-no-file', `version ${side === 'from' ? from.version : to.version} has no file ${path}`);
    return readVerified(store, service, file, `diff of ${service}`);
  };
  const details = options.detail ? await options.detail({ from, to, added, removed, changed, readFile }) : undefined;
  return { service, from: from.version, to: to.version, added, removed, changed, unchanged, details };
}
