export { dumpMysql } from './internal/dump.js';
export type { DumpMysqlOptions, DumpMysqlResult, DumpProgress } from './internal/dump.js';
export { loadMysql } from './internal/load.js';
export type { LoadMysqlOptions, LoadMysqlResult, LoadProgress } from './internal/load.js';
export { readSchema } from './internal/read-schema-public.js';
export { diffSchemas, describeSchemaDiff, isEmptyDiff } from './internal/diff.js';
export type { SchemaDiff, TableChange, NamedChanges, FieldChange, ProgramChanges } from './internal/diff.js';
export type { SemanticSchema, SemanticTable, SemanticColumn, SemanticIndex, SemanticForeignKey, SemanticSequence } from './internal/semantic-schema.js';
export { serializeSchema } from './internal/semantic-schema.js';
export { parseMysqlUrl, maskUrl } from './internal/url.js';
export type { MysqlUrl, MysqlTls, MysqlTlsMode } from './internal/url.js';
export { openSession as openMysqlSession } from './internal/connect.js';
export type { EngineInfo, Flavor, Session as MysqlSession } from './internal/connect.js';
export { DJANGO_DATA_TABLES, DJANGO_VOLATILE_COLUMNS, parseVolatileColumns } from './internal/data-plan.js';
export { BOOKKEEPING_TABLES, type BookkeepingTable } from './internal/bookkeeping.js';
export { DJANGO_RENUMBER_RULES } from './internal/renumber.js';
export type { RenumberRule } from './internal/renumber.js';
export {
  MysqlDumpError,
  InvalidMysqlUrlError,
  ServerUnreachableError,
  AccessDeniedError,
  HostNotAllowedError,
  ConnectFailedError,
  TlsError,
  NoMysqlGreetingError,
  MysqlServerError,
  MissingPrivilegeError,
  UnknownDatabaseError,
  UnknownDataTableError,
  UnknownVolatileColumnError,
  InvalidVolatileColumnError,
  TargetNotEmptyError,
  DumpFileError,
  RefusedStatementError,
  SystemDatabaseError,
  UnportableObjectError,
  SequenceNotSupportedError,
  UnsafeDatabaseNameError,
  OversizedRowError,
} from './internal/errors.js';
export { isMysqlSystemDatabase } from './internal/system-databases.js';
