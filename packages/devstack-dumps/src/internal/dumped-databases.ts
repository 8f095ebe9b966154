import { readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * The database names of a dump set directory, from its file names only (loadSet verifies the files);
 * used to turn --mysql-db/--mongo-db into a rename before loading.
 */
export async function dumpedDatabases(dir: string): Promise<{ mysql: string[]; mongo: string[] }> {
  const names = async (sub: string) => readdir(path.join(dir, sub), { withFileTypes: true }).catch(() => []);
  const mysql = (await names('mysql')).filter((entry) => entry.isFile() && entry.name.endsWith('.sql')).map((entry) => entry.name.slice(0, -'.sql'.length));
  const mongo = (await names('mongo')).filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => entry.name);
  return { mysql: mysql.sort(), mongo: mongo.sort() };
}
