import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DiffContext, DiffDetailHook, DumpFile, VersionManifest } from '@org/dump-versioning';
import { describeSchemaDiff, diffSchemas, type SemanticSchema } from '@org/mysql-dump';
import { diffMongoSchemas, readMongoSchema, type MongoSchema, type MongoSchemaChange } from '@org/mongo-dump';
import { DumpSetFileError } from './errors.js';

/**
 * Human lines, e.g. `+ table catalog_product`, `  ~ column price: type "int" -> "bigint"`,
 * `  ~ index ix_a: columns (a_id) -> (a_id, b_id)`, `+ index email_1 on app.users`,
 * `~ index expiresAt_1 on app.orders: TTL 3600s -> 60s`. Only these lines: no structured diff.
 */
export interface SchemaChanges {
  mysql: string[];
  mongo: string[];
}

const SCHEMA_FILE = /^mysql\/([^/]+)\.schema\.json$/;
const MONGO_METADATA = /^mongo\/([^/]+)\/[^/]+\.metadata\.json$/;

function parseSemanticSchema(bytes: Buffer, where: string): SemanticSchema {
  try {
    const schema = JSON.parse(bytes.toString('utf8')) as SemanticSchema;
    if (schema.format === 1 && Array.isArray(schema.tables)) return schema;
  } catch {
    // reported below
  }
  throw new DumpSetFileError('schema-malformed', `${where} is not a semantic schema (format 1); the dump was not written by mysql-dump`);
}

/** Databases (of one engine) whose schema files differ between the versions. */
function touchedDatabases(context: DiffContext, pattern: RegExp): string[] {
  const paths = [...context.added, ...context.removed, ...context.changed.map((change) => change.after)].map((file) => file.path);
  return [...new Set(paths.map((file) => pattern.exec(file)?.[1]).filter((name): name is string => name !== undefined))].sort();
}

async function mysqlChanges(context: DiffContext): Promise<string[]> {
  const databases = touchedDatabases(context, SCHEMA_FILE);
  const allDatabases = new Set([...context.from.files, ...context.to.files].filter((file) => SCHEMA_FILE.test(file.path)).map((file) => file.database));
  const has = (manifest: VersionManifest, file: string) => manifest.files.some((f) => f.path === file);
  const lines: string[] = [];
  for (const database of databases) {
    const file = `mysql/${database}.schema.json`;
    const [before, after] = await Promise.all(
      (['from', 'to'] as const).map(async (side) => (has(context[side], file) ? parseSemanticSchema(await context.readFile(side, file), `${file} of version ${context[side].version}`) : undefined)),
    );
    if (!before && after) lines.push(`+ database ${database}`, ...after.tables.map((table) => `  + table ${table.name}`));
    else if (before && !after) lines.push(`- database ${database}`);
    else if (before && after) {
      const described = describeSchemaDiff(diffSchemas(before, after));
      if (described.length === 0) continue;
      // With one database the lines stand alone; with several each group is headed by its database.
      if (allDatabases.size > 1) lines.push(`~ database ${database}`, ...described.map((line) => `  ${line}`));
      else lines.push(...described);
    }
  }
  return lines;
}

/**
 * The Mongo schema of the touched databases of one side, read by mongo-dump's own parser from a
 * temporary copy of their metadata files (with empty stand-ins for the .bson files it expects).
 */
async function mongoSchemaOf(context: DiffContext, side: 'from' | 'to', databases: string[], scratch: string): Promise<MongoSchema> {
  const files = context[side].files.filter((file: DumpFile) => file.kind === 'mongo' && databases.includes(file.database));
  if (files.length === 0) return { databases: [] };
  const root = path.join(scratch, side);
  for (const file of files) {
    const target = path.join(root, ...file.path.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.path.endsWith('.metadata.json') ? await context.readFile(side, file.path) : Buffer.alloc(0));
  }
  return readMongoSchema({ dir: root });
}

/** `+ index email_1 on app.users`, `~ index ttl_1 on app.sessions: TTL 3600s -> 60s, unique no -> yes`. */
function formatMongoChange(change: MongoSchemaChange): string {
  const sign = { added: '+', removed: '-', changed: '~' }[change.change];
  const fields = (change.fields ?? []).map((field) => `${field.field} ${field.from} -> ${field.to}`).join(', ');
  const detail = change.change === 'changed' && fields !== '' ? `: ${fields}` : '';
  if (change.object === 'database') return `${sign} database ${change.database}`;
  if (change.object === 'index') return `${sign} index ${change.index} on ${change.database}.${change.collection}${detail}`;
  const kind = change.object === 'timeseries' ? 'time series' : change.object;
  return `${sign} ${kind} ${change.database}.${change.collection}${detail}`;
}

async function mongoChanges(context: DiffContext): Promise<string[]> {
  const databases = touchedDatabases(context, MONGO_METADATA);
  if (databases.length === 0) return [];
  const scratch = await mkdtemp(path.join(tmpdir(), 'dump-set-diff-'));
  try {
    const [before, after] = await Promise.all([mongoSchemaOf(context, 'from', databases, scratch), mongoSchemaOf(context, 'to', databases, scratch)]);
    const lines: string[] = [];
    for (const change of diffMongoSchemas(before, after)) {
      lines.push(formatMongoChange(change));
      if (change.object === 'database' && change.change === 'added') {
        const added = after.databases.find((db) => db.name === change.database);
        for (const collection of added?.collections ?? []) {
          lines.push(`  + ${collection.type === 'timeseries' ? 'time series' : collection.type} ${change.database}.${collection.name}`);
          lines.push(...collection.indexes.map((index) => `    + index ${index.name}`));
        }
      }
    }
    return lines;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Plugs into dump-versioning's `diff({ detail })`: schema-level changes from the dumps' schema files. */
export const schemaDiffDetail: DiffDetailHook<SchemaChanges> = async (context) => {
  const [mysql, mongo] = await Promise.all([mysqlChanges(context), mongoChanges(context)]);
  return { mysql, mongo };
};

/** Markdown for job summaries: one `diff` code block per engine, or a sentence when nothing changed. */
export function describeSchemaChanges(changes: SchemaChanges): string {
  const sections: string[] = [];
  for (const [title, lines] of [['MySQL', changes.mysql], ['MongoDB', changes.mongo]] as const) {
    if (lines.length > 0) sections.push(`${title} (${lines.filter((line) => !line.startsWith(' ')).length} top-level change(s)):\n\n\`\`\`diff\n${lines.join('\n')}\n\`\`\``);
  }
  return sections.length > 0 ? sections.join('\n\n') : 'No schema changes (MySQL tables, columns, indexes and foreign keys; MongoDB collections and indexes are the same).';
}
