import { describeServerError, openSession } from './connect.js';
import { UnknownDatabaseError } from './errors.js';
import { readSemanticSchema } from './read-schema.js';
import type { SemanticSchema } from './semantic-schema.js';

/** Reads the semantic schema of one database of the server at `url`. */
export async function readSchema(url: string, database: string, options: { wait?: number } = {}): Promise<SemanticSchema> {
  const session = await openSession({ url, connections: 2, wait: options.wait });
  try {
    const [rows] = await session.pool.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
    if ((rows as unknown[]).length === 0) throw new UnknownDatabaseError(database, session.url.address);
    return await readSemanticSchema(session.pool, database, session.engine);
  } catch (error) {
    throw describeServerError(error, session.url, { database, operation: `reading the schema of \`${database}\`` });
  } finally {
    await session.close();
  }
}
