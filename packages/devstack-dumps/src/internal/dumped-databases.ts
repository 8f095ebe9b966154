import { readDumpSetContents } from '@org/dump-set';

/**
 * The database names of a dump set directory, by engine, as the dump set layout reads them (a missing
 * directory, a file outside the layout or an empty set is refused there, naming it); used to turn
 * --mysql-db/--mongo-db into a rename before loading. loadSet verifies the files themselves.
 */
export async function dumpedDatabases(dir: string): Promise<{ mysql: string[]; mongo: string[] }> {
  const contents = await readDumpSetContents(dir);
  return { mysql: [...contents.mysql.keys()].sort(), mongo: [...contents.mongo.keys()].sort() };
}
