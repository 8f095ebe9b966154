// A dump set = the MySQL and MongoDB dumps of one service, dumped and loaded together.
export { dumpSet } from './internal/dump.js';
export type { DumpSetOptions, DumpSetResult, DumpSources, MongoSource, MysqlSource } from './internal/dump.js';
export { loadSet, targetsLeftBy } from './internal/load.js';
export type { LoadSetOptions, LoadSetResult, LoadTargets, TargetLeft } from './internal/load.js';
export { emptyDatabases, waitForServers } from './internal/servers.js';
export { describeSchemaChanges, schemaDiffDetail } from './internal/schema-diff.js';
export type { SchemaChanges } from './internal/schema-diff.js';
export { connectionSecrets, maskSecrets, urlSecrets } from './internal/mask.js';
export { checksumsPathOf, readDumpSetContents, verifyDumpSet, writeChecksumsFile } from './internal/layout.js';
export type { DumpSetChecksums, DumpSetFile, VerifiedDumpSet } from './internal/layout.js';
export { DumpSetError, DumpSetFileError, DumpSetInputError, DumpSetServerError, ServersFailedError, isConnectionFailure } from './internal/errors.js';
