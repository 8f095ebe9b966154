import type { DumpSources } from '@org/dump-set';
import type { Inputs } from './context.js';

type ServerInputs = Pick<Inputs, 'mysqlUrl' | 'mysqlDatabases' | 'dataTables' | 'volatileColumns' | 'mongoUrl' | 'mongoDatabases' | 'dataCollections'>;

/** What to dump: each configured engine's databases and the tables/collections whose rows are kept. */
export function dumpSources(inputs: ServerInputs): DumpSources {
  return {
    // No `data-tables`: the dumper's default (the Django reference tables present), not a list every table of which must exist.
    ...(inputs.mysqlUrl
      ? {
          mysql: {
            url: inputs.mysqlUrl,
            databases: inputs.mysqlDatabases,
            ...(inputs.dataTables.length > 0 ? { dataTables: inputs.dataTables } : {}),
            ...(Object.keys(inputs.volatileColumns).length > 0 ? { volatileColumns: inputs.volatileColumns } : {}),
          },
        }
      : {}),
    ...(inputs.mongoUrl ? { mongo: { url: inputs.mongoUrl, databases: inputs.mongoDatabases, dataCollections: inputs.dataCollections } } : {}),
  };
}

/** The service databases a run empties before migrating (or before loading the ancestor). */
export function serviceDatabases(inputs: ServerInputs): { mysql?: { url: string; databases: string[] }; mongo?: { url: string; databases: string[] } } {
  return {
    ...(inputs.mysqlUrl ? { mysql: { url: inputs.mysqlUrl, databases: inputs.mysqlDatabases } } : {}),
    ...(inputs.mongoUrl ? { mongo: { url: inputs.mongoUrl, databases: inputs.mongoDatabases } } : {}),
  };
}

/** The servers the ancestor's dump is loaded into (its databases keep their names). */
export function loadTargets(inputs: ServerInputs): { mysql?: { url: string }; mongo?: { url: string } } {
  return {
    ...(inputs.mysqlUrl ? { mysql: { url: inputs.mysqlUrl } } : {}),
    ...(inputs.mongoUrl ? { mongo: { url: inputs.mongoUrl } } : {}),
  };
}
