import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { ManifestError } from './errors.js';
import { classifyDumpPath, unsafePathReason, type DumpKind } from './paths.js';
import type { MigrationFingerprint } from './fingerprint.js';
import { precompiledValidator } from './json-schema.js';
import { byteOrder } from './order.js';

/**
 * The document format this library writes. 2 moved the migrations record (fingerprint + applied list,
 * ~100 bytes per migration) out of commit entries and manifests into a content-addressed object they
 * name by digest. Readers also accept 1 (inline `migrations`); a reader that only knows 1 rejects a 2
 * document with the clear "schemaVersion" message instead of an obscure "additional property" one.
 */
export const SCHEMA_VERSION = 2 as const;
/** Every document format this library reads. */
export type SchemaVersion = 1 | typeof SCHEMA_VERSION;
const READABLE_SCHEMA_VERSIONS: ReadonlyArray<SchemaVersion> = [1, SCHEMA_VERSION];

/** How a blob is stored; `brotli` (schemaVersion 2, quality 0) stores within ~10% of gzip -1's size at ~3x its speed. */
export type Compression = 'none' | 'gzip' | 'brotli';

export interface DumpFile {
  /** POSIX path relative to the dump set directory. */
  path: string;
  /** sha256 (hex) of the uncompressed bytes: the file's identity. */
  sha256: string;
  /** Uncompressed size in bytes. */
  size: number;
  kind: DumpKind;
  database: string;
  /** How the blob is stored; does not change the file's identity. */
  compression: Compression;
}

export interface SourceInfo {
  repository?: string;
  commit: string;
  branch?: string;
  /** ISO 8601 commit time. */
  commitTime?: string;
}

export interface MigrationsInfo {
  fingerprint: MigrationFingerprint;
  /** Migrations the database had applied when it was dumped (e.g. `app.0001_initial`). */
  applied?: string[];
  /** Which files the fingerprint was taken of, so a developer's checkout is fingerprinted the same way. */
  scope?: MigrationsScope;
}

/**
 * Where a fingerprint's files were found: `globs` relative to `directory`, itself relative to the
 * repository's root (`.` for the root; POSIX separators). An app's label depends on the files the globs
 * match, so another checkout compares like with like only when fingerprinted with the same scope.
 */
export interface MigrationsScope {
  directory: string;
  globs: string[];
}

/**
 * How a schemaVersion 2 document names its migrations record: the sha256 of the stored record's bytes
 * (`<service>/migrations/sha256/<sha256>.json`) plus the overall fingerprint, so "same migrations?"
 * needs no extra read.
 */
export interface MigrationsRecordRef {
  sha256: string;
  overall: string;
}

export interface EngineInfo {
  /** e.g. `mysql`, `mariadb`, `mongodb`, `ferretdb`. */
  flavor: string;
  version: string;
}

export interface ToolInfo {
  name: string;
  version: string;
}

/** The commit index: which version a commit's migrations produce, and how it was produced. */
export interface CommitEntry {
  schemaVersion: SchemaVersion;
  service: string;
  version: string;
  source: SourceInfo;
  /**
   * Inline in schemaVersion 1 documents. For schemaVersion 2 it is loaded from `migrationsRecord` by
   * readCommitEntry/resolve (or readMigrations); decodeCommitEntry/decodeManifest/readManifest leave it unset.
   */
  migrations?: MigrationsInfo;
  /** schemaVersion 2: the content-addressed migrations record; never written together with `migrations`. */
  migrationsRecord?: MigrationsRecordRef;
  engines?: { mysql?: EngineInfo; mongo?: EngineInfo };
  tool: ToolInfo;
  /** Not part of the version identity. */
  createdAt: string;
}

/** A version: its files plus the provenance of the first run that produced it. */
export interface VersionManifest extends CommitEntry {
  files: DumpFile[];
}

/** A branch ref: the newest published commit of the branch and its version. */
export interface BranchRef {
  schemaVersion: SchemaVersion;
  service: string;
  branch: string;
  commit: string;
  version: string;
  updatedAt: string;
}

const sha256Hex = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const commitSha = { type: 'string', pattern: '^([0-9a-f]{40}|[0-9a-f]{64})$' } as const;
const serviceName = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$' } as const;
const isoTime = { type: 'string', minLength: 1, maxLength: 64 } as const;
const nonEmpty = { type: 'string', minLength: 1, maxLength: 255 } as const;

const engineInfo = {
  type: 'object',
  additionalProperties: false,
  required: ['flavor', 'version'],
  properties: { flavor: nonEmpty, version: nonEmpty },
} as const;

const engines = {
  type: 'object',
  additionalProperties: false,
  properties: { mysql: engineInfo, mongo: engineInfo },
} as const;

const sourceInfo = {
  type: 'object',
  additionalProperties: false,
  required: ['commit'],
  properties: { repository: nonEmpty, commit: commitSha, branch: nonEmpty, commitTime: isoTime },
} as const;

export const fingerprintSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['overall', 'apps'],
  properties: {
    overall: sha256Hex,
    apps: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['chain', 'migrations'],
        properties: {
          chain: sha256Hex,
          migrations: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'sha256'],
              properties: { name: nonEmpty, sha256: sha256Hex },
            },
          },
        },
      },
    },
  },
} as const;

const migrationsInfo = {
  type: 'object',
  additionalProperties: false,
  required: ['fingerprint'],
  properties: { fingerprint: fingerprintSchema, applied: { type: 'array', items: nonEmpty } },
} as const;

const toolInfo = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'version'],
  properties: { name: nonEmpty, version: nonEmpty },
} as const;

const migrationsRecordRef = {
  type: 'object',
  additionalProperties: false,
  required: ['sha256', 'overall'],
  properties: { sha256: sha256Hex, overall: sha256Hex },
} as const;

const provenance = { source: sourceInfo, migrations: migrationsInfo, engines, tool: toolInfo, createdAt: isoTime } as const;

function dumpFileSchema(schemaVersion: SchemaVersion) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['path', 'sha256', 'size', 'kind', 'database', 'compression'],
    properties: {
      path: { type: 'string', minLength: 1, maxLength: 1024 },
      sha256: sha256Hex,
      size: { type: 'integer', minimum: 0 },
      kind: { enum: ['mysql', 'mongo'] },
      database: nonEmpty,
      compression: { enum: schemaVersion === 1 ? ['none', 'gzip'] : ['none', 'gzip', 'brotli'] },
    },
  } as const;
}

/** The JSON schemas of one document format; 2 adds `migrationsRecord` and `brotli` blobs. */
function documentSchemas(schemaVersion: SchemaVersion) {
  const head = { schemaVersion: { const: schemaVersion }, service: serviceName };
  const provenanceOf = schemaVersion === 1 ? provenance : { ...provenance, migrationsRecord: migrationsRecordRef };
  const commitEntrySchema = {
    type: 'object',
    additionalProperties: false,
    required: ['schemaVersion', 'service', 'version', 'source', 'tool', 'createdAt'],
    properties: { ...head, version: sha256Hex, ...provenanceOf },
  };
  const manifestSchema = {
    ...commitEntrySchema,
    required: [...commitEntrySchema.required, 'files'],
    properties: { ...commitEntrySchema.properties, files: { type: 'array', minItems: 1, items: dumpFileSchema(schemaVersion) } },
  };
  const branchRefSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['schemaVersion', 'service', 'branch', 'commit', 'version', 'updatedAt'],
    properties: { ...head, branch: nonEmpty, commit: commitSha, version: sha256Hex, updatedAt: isoTime },
  };
  return {
    manifest: precompiledValidator<VersionManifest>(`manifestV${schemaVersion}`, manifestSchema),
    'commit entry': precompiledValidator<CommitEntry>(`commitEntryV${schemaVersion}`, commitEntrySchema),
    ref: precompiledValidator<BranchRef>(`refV${schemaVersion}`, branchRefSchema),
  } satisfies Record<string, () => ValidateFunction>;
}

const validators = { 1: documentSchemas(1), 2: documentSchemas(2) } satisfies Record<SchemaVersion, unknown>;

type DocumentKind = keyof (typeof validators)[SchemaVersion];

function decodeDocument<K extends DocumentKind>(kind: K, text: string, where: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ManifestError('invalid-json', `${kind} ${where} is not valid JSON (${(error as Error).message}); the store object is damaged: delete it and re-publish the commit that wrote it (publishing recreates a missing object)`);
  }
  const claimed = typeof parsed === 'object' && parsed !== null && 'schemaVersion' in parsed ? parsed.schemaVersion : undefined;
  if (claimed !== undefined && !READABLE_SCHEMA_VERSIONS.includes(claimed as SchemaVersion)) {
    throw new ManifestError(
      'unsupported-schema-version',
      `${kind} ${where} has schemaVersion ${JSON.stringify(claimed)} but this tool reads schemaVersion ${READABLE_SCHEMA_VERSIONS.join(' or ')}; use a devstack-dumps release that matches the store`,
    );
  }
  // A document without schemaVersion is checked against the current format (and fails on the missing field).
  const schemaVersion = (claimed as SchemaVersion | undefined) ?? SCHEMA_VERSION;
  const validate = validators[schemaVersion][kind]() as ValidateFunction;
  if (!validate(parsed)) {
    const first = validate.errors?.[0];
    const detail = first ? `${first.instancePath || '/'} ${first.message ?? 'is invalid'}` : 'is invalid';
    throw new ManifestError('invalid-document', `${kind} ${where} does not match schemaVersion ${schemaVersion}: ${detail}; delete it and re-publish the commit that wrote it (publishing recreates a missing object), or fix the file`);
  }
  if (typeof parsed === 'object' && parsed !== null && 'migrations' in parsed && 'migrationsRecord' in parsed) {
    throw new ManifestError('invalid-document', `${kind} ${where} has both inline migrations and a migrationsRecord; a document carries one of them: delete it and re-publish the commit that wrote it`);
  }
  return parsed as K extends 'manifest' ? VersionManifest : K extends 'ref' ? BranchRef : CommitEntry;
}

function encodeDocument(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The stored form: a record reference replaces loaded migrations, so a read-modify-write never re-inlines them. */
function storedForm<T extends CommitEntry>(document: T): T {
  if (document.migrationsRecord === undefined || document.migrations === undefined) return document;
  const stored = { ...document };
  delete stored.migrations;
  return stored;
}

/** Parses and validates a version manifest, including its file paths and its version digest. */
export function decodeManifest(text: string, where = '(manifest)'): VersionManifest {
  const manifest = decodeDocument('manifest', text, where);
  const seen = new Set<string>();
  for (const file of manifest.files) {
    const reason = unsafePathReason(file.path);
    if (reason !== undefined) {
      throw new ManifestError('unsafe-path', `manifest ${where} lists file ${JSON.stringify(file.path)}, which is rejected because ${reason}; the manifest is not trustworthy, do not use it`);
    }
    const layout = classifyDumpPath(file.path);
    if (!layout || layout.kind !== file.kind || layout.database !== file.database) {
      throw new ManifestError('layout-mismatch', `manifest ${where}: file ${JSON.stringify(file.path)} does not match its kind/database (${file.kind}/${file.database})`);
    }
    if (seen.has(file.path)) throw new ManifestError('duplicate-path', `manifest ${where} lists ${JSON.stringify(file.path)} twice`);
    seen.add(file.path);
  }
  const expected = computeVersion(manifest.files);
  if (expected !== manifest.version) {
    throw new ManifestError('version-mismatch', `manifest ${where} claims version ${manifest.version} but its files give ${expected}; the manifest was altered`);
  }
  return manifest;
}

export function encodeManifest(manifest: VersionManifest): string {
  return encodeDocument(storedForm(manifest));
}

export function decodeCommitEntry(text: string, where = '(commit entry)'): CommitEntry {
  return decodeDocument('commit entry', text, where);
}

export function encodeCommitEntry(entry: CommitEntry): string {
  return encodeDocument(storedForm(entry));
}

export function decodeBranchRef(text: string, where = '(ref)'): BranchRef {
  return decodeDocument('ref', text, where);
}

export function encodeBranchRef(ref: BranchRef): string {
  return encodeDocument(ref);
}


/**
 * The version of a dump set: sha256 over `path\0sha256\0size\n` lines sorted by path bytes. Only
 * content counts, so two commits with the same schema share one version.
 */
export function computeVersion(files: ReadonlyArray<Pick<DumpFile, 'path' | 'sha256' | 'size'>>): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => byteOrder(a.path, b.path))) {
    hash.update(`${file.path}\0${file.sha256}\0${file.size}\n`);
  }
  return hash.digest('hex');
}

export const isServiceName = (value: string) => new RegExp(serviceName.pattern).test(value);
export const isCommitSha = (value: string) => new RegExp(commitSha.pattern).test(value);
export const isVersionId = (value: string) => new RegExp(sha256Hex.pattern).test(value);
