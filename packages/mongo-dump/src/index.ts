// Deterministic MongoDB schema (+ chosen documents) dumps in the mongorestore layout, and their loads.
export { dumpMongo, type DumpMongoOptions, type DumpMongoResult } from './internal/dump.js';
export { loadMongo, type LoadMongoOptions, type LoadMongoResult } from './internal/load.js';
export { checkMongoDump } from './internal/dump-directory.js';
export {
  diffMongoSchemas,
  formatMongoSchemaChange,
  readMongoSchema,
  type MongoCollectionSchema,
  type MongoDatabaseSchema,
  type MongoSchema,
  type MongoSchemaChange,
  type MongoSchemaSource,
} from './internal/schema.js';
export { connectMongo, type MongoEngine } from './internal/connect.js';
export type { MongoProgress } from './internal/progress.js';
export { maskMongoUrl, mongoQuerySecrets, mongoUrlDatabase } from './internal/url.js';
export { isMongoSystemDatabase } from './internal/names.js';
export {
  MongoAuthFailedError,
  MongoCollectionNotFoundError,
  MongoConnectFailedError,
  MongoDatabaseNotFoundError,
  MongoDumpDirectoryError,
  MongoDumpError,
  MongoEmptyDatabaseError,
  MongoInexactDocumentError,
  MongoNotSelectableError,
  MongoLoadRejectedError,
  MongoNoHandshakeError,
  MongoOutputExistsError,
  MongoPrivilegeError,
  MongoSystemDatabaseError,
  MongoTargetNotEmptyError,
  MongoTlsError,
  MongoUnreachableError,
  MongoUnsupportedError,
  MongoUrlError,
  MongoWrongProtocolError,
  type MongoDumpSeverity,
} from './internal/errors.js';
