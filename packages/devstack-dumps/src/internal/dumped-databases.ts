import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DumpSetFileError } from '@org/dump-set';

/**
 * The database names of a dump set directory, from its file names only (loadSet verifies the files);
 * used to turn --mysql-db/--mongo-db into a rename before loading. Hidden entries are skipped, as the
 * dump set layout skips them.
 */
export async function dumpedDatabases(dir: string): Promise<{ mysql: string[]; mongo: string[] }> {
  const root = path.resolve(dir);
  // A missing directory must be named as such, not read as "a dump without databases".
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new DumpSetFileError('dump-dir-missing', `dump set directory ${root} does not exist or is not a directory; pass a directory written by dump or pull`);
  const names = async (sub: string) =>
    readdir(path.join(root, sub), { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      // A set may hold one engine only; any other failure is named.
      if (error.code === 'ENOENT') return [];
      throw new DumpSetFileError('dump-dir-unreadable', `cannot read ${path.join(root, sub)} (${error.code ?? error.message}); check its permissions`);
    });
  const visible = (entries: Awaited<ReturnType<typeof names>>) => entries.filter((entry) => !entry.name.startsWith('.'));
  const mysql = visible(await names('mysql')).filter((entry) => entry.isFile() && entry.name.endsWith('.sql')).map((entry) => entry.name.slice(0, -'.sql'.length));
  const mongo = visible(await names('mongo')).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  return { mysql: mysql.sort(), mongo: mongo.sort() };
}
