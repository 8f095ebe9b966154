import { createHash } from 'node:crypto';
import { IntegrityError, InvalidInputError, ManifestError } from './errors.js';
import { precompiledValidator } from './json-schema.js';
import { SCHEMA_VERSION, fingerprintSchema, type CommitEntry, type MigrationsInfo, type MigrationsRecordRef } from './manifest.js';
import { layout, type Store } from './store.js';
import { byteOrder } from './order.js';

/**
 * The migrations record: fingerprint + applied list of one publish, stored once per distinct content
 * at `<service>/migrations/sha256/<digest>.json` and named by commit entries and manifests. It grows
 * with the number of migrations, so keeping it out of the commit entry keeps a no-change publish small.
 */
interface StoredMigrationsRecord extends MigrationsInfo {
  schemaVersion: typeof SCHEMA_VERSION;
}

const recordSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['schemaVersion', 'fingerprint'],
  properties: {
    schemaVersion: { const: SCHEMA_VERSION },
    fingerprint: fingerprintSchema,
    applied: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 } },
    scope: {
      type: 'object',
      additionalProperties: false,
      required: ['directory', 'globs'],
      properties: {
        directory: { type: 'string', minLength: 1, maxLength: 1024 },
        globs: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 1024 } },
      },
    },
  },
} as const;

const recordValidator = precompiledValidator<StoredMigrationsRecord>('migrationsRecord', recordSchema);

/**
 * Canonical bytes (fixed key order, apps in byte order, compact JSON) and their reference, so equal
 * migrations always give one object however the caller built the value.
 */
export function encodeMigrationsRecord(info: MigrationsInfo): { body: Buffer; ref: MigrationsRecordRef } {
  const { overall, apps } = info.fingerprint;
  const record: StoredMigrationsRecord = {
    schemaVersion: SCHEMA_VERSION,
    fingerprint: {
      overall,
      apps: Object.fromEntries(
        Object.keys(apps)
          .sort(byteOrder)
          .map((app) => {
            const { chain, migrations } = apps[app]!;
            return [app, { chain, migrations: migrations.map(({ name, sha256 }) => ({ name, sha256 })) }];
          }),
      ),
    },
    ...(info.applied ? { applied: [...info.applied] } : {}),
    ...(info.scope ? { scope: { directory: info.scope.directory, globs: [...info.scope.globs] } } : {}),
  };
  const validateRecord = recordValidator();
  if (!validateRecord(record)) {
    const first = validateRecord.errors?.[0];
    throw new InvalidInputError('bad-migrations', `the migrations to publish are invalid: ${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}; pass the fingerprint fingerprintMigrationFiles returns`);
  }
  const body = Buffer.from(`${JSON.stringify(record)}\n`);
  return { body, ref: { sha256: createHash('sha256').update(body).digest('hex'), overall } };
}

/** Checks the bytes against the reference (digest and overall fingerprint) and the schema. */
export function decodeMigrationsRecord(body: Buffer, ref: MigrationsRecordRef, where: string): MigrationsInfo {
  const digest = createHash('sha256').update(body).digest('hex');
  if (digest !== ref.sha256) {
    throw new IntegrityError('migrations-mismatch', `migrations record ${where} hashes to ${digest}, not ${ref.sha256}; the store copy was altered or truncated: delete it and re-publish the commit (publishing recreates a missing record)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ManifestError('invalid-json', `migrations record ${where} is not valid JSON (${(error as Error).message}): delete it and re-publish the commit (publishing recreates a missing record)`);
  }
  const validateRecord = recordValidator();
  if (!validateRecord(parsed)) {
    const first = validateRecord.errors?.[0];
    throw new ManifestError('invalid-document', `migrations record ${where} does not match schemaVersion ${SCHEMA_VERSION}: ${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}: delete it and re-publish the commit (publishing recreates a missing record)`);
  }
  if (parsed.fingerprint.overall !== ref.overall) {
    throw new IntegrityError('migrations-mismatch', `migrations record ${where} holds fingerprint ${parsed.fingerprint.overall}, but the document naming it says ${ref.overall}: delete it and re-publish the commit (publishing recreates a missing record)`);
  }
  const { schemaVersion: _format, ...info } = parsed;
  return info;
}

/**
 * The migrations of a commit entry or manifest: inline (schemaVersion 1) or loaded from its record
 * (schemaVersion 2); undefined when it was published without migrations.
 */
export async function readMigrations(store: Store, service: string, document: Pick<CommitEntry, 'migrations' | 'migrationsRecord' | 'source'>): Promise<MigrationsInfo | undefined> {
  if (document.migrations !== undefined || document.migrationsRecord === undefined) return document.migrations;
  const key = layout.migrations(service, document.migrationsRecord.sha256);
  const object = await store.get(key);
  if (!object) {
    throw new IntegrityError('migrations-missing', `the migrations record ${store.location}/${key} named for commit ${document.source.commit} of ${service} is missing; the store is damaged, run verify and re-publish that commit`);
  }
  return decodeMigrationsRecord(object.body, document.migrationsRecord, `${store.location}/${key}`);
}

/** The entry with `migrations` filled in from its record (the form callers of readCommitEntry/resolve get). */
export async function withMigrations<T extends CommitEntry>(store: Store, service: string, document: T): Promise<T> {
  if (document.migrations !== undefined || document.migrationsRecord === undefined) return document;
  const migrations = await readMigrations(store, service, document);
  return migrations ? { ...document, migrations } : document;
}
