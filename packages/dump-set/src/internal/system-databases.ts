import { MongoSystemDatabaseError, isMongoSystemDatabase } from '@org/mongo-dump';
import { SystemDatabaseError, isMysqlSystemDatabase } from '@org/mysql-dump';

/**
 * Throws the dumper's own SystemDatabaseError / MongoSystemDatabaseError for the first of the server's
 * own databases among `databases`. Called before connecting by everything that drops or loads.
 */
export function refuseSystemDatabases(engine: 'MySQL' | 'MongoDB', databases: Iterable<string>): void {
  for (const database of databases) {
    if (engine === 'MySQL' && isMysqlSystemDatabase(database)) throw new SystemDatabaseError(database);
    if (engine === 'MongoDB' && isMongoSystemDatabase(database)) throw new MongoSystemDatabaseError(database);
  }
}
