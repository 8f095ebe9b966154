import { createHash } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import { ManifestError } from './errors.js';
import { classifyDumpPath, unsafePathReason, type DumpKind } from './paths.js';
import type { MigrationFingerprint } from './fingerprint.js';

/** The only document format this version of the library reads and writes. */
export const SCHEMA_VERSION = 1 as const;

export type Compression = 'none' | 'gzip';

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
  schemaVersion: typeof SCHEMA_VERSION;
  service: string;
  version: string;
  source: SourceInfo;
  migrations?: MigrationsInfo;
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
  schemaVersion: typeof SCHEMA_VERSION;
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

const fingerprintSchema = {
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

const documentHead = { schemaVersion: { const: SCHEMA_VERSION }, service: serviceName } as const;
const provenance = { source: sourceInfo, migrations: migrationsInfo, engines, tool: toolInfo, createdAt: isoTime } as const;

const dumpFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['path', 'sha256', 'size', 'kind', 'database', 'compression'],
  properties: {
    path: { type: 'string', minLength: 1, maxLength: 1024 },
    sha256: sha256Hex,
    size: { type: 'integer', minimum: 0 },
    kind: { enum: ['mysql', 'mongo'] },
    database: nonEmpty,
    compression: { enum: ['none', 'gzip'] },
  },
} as const;

const commitEntrySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['schemaVersion', 'service', 'version', 'source', 'tool', 'createdAt'],
  properties: { ...documentHead, version: sha256Hex, ...provenance },
} as const;

const manifestSchema = {
  ...commitEntrySchema,
  required: [...commitEntrySchema.required, 'files'],
  properties: { ...commitEntrySchema.properties, files: { type: 'array', minItems: 1, items: dumpFileSchema } },
} as const;

const branchRefSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['schemaVersion', 'service', 'branch', 'commit', 'version', 'updatedAt'],
  properties: {
    ...documentHead,
    branch: nonEmpty,
    commit: commitSha,
    version: sha256Hex,
    updatedAt: isoTime,
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true });
const validators = {
  manifest: ajv.compile<VersionManifest>(manifestSchema),
  'commit entry': ajv.compile<CommitEntry>(commitEntrySchema),
  ref: ajv.compile<BranchRef>(branchRefSchema),
} satisfies Record<string, ValidateFunction>;

type DocumentKind = keyof typeof validators;

function decodeDocument<K extends DocumentKind>(kind: K, text: string, where: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ManifestError('invalid-json', `${kind} ${where} is not valid JSON (${(error as Error).message}); the store object is damaged, re-publish it`);
  }
  if (typeof parsed === 'object' && parsed !== null && 'schemaVersion' in parsed && parsed.schemaVersion !== SCHEMA_VERSION) {
    throw new ManifestError(
      'unsupported-schema-version',
      `${kind} ${where} has schemaVersion ${JSON.stringify(parsed.schemaVersion)} but this tool reads schemaVersion ${SCHEMA_VERSION}; use a devstack-dumps release that matches the store`,
    );
  }
  const validate = validators[kind] as ValidateFunction;
  if (!validate(parsed)) {
    const first = validate.errors?.[0];
    const detail = first ? `${first.instancePath || '/'} ${first.message ?? 'is invalid'}` : 'is invalid';
    throw new ManifestError('invalid-document', `${kind} ${where} does not match schemaVersion ${SCHEMA_VERSION}: ${detail}; re-publish it or fix the file`);
  }
  return parsed as K extends 'manifest' ? VersionManifest : K extends 'ref' ? BranchRef : CommitEntry;
}

function encodeDocument(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
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
  return encodeDocument(manifest);
}

export function decodeCommitEntry(text: string, where = '(commit entry)'): CommitEntry {
  return decodeDocument('commit entry', text, where);
}

export function encodeCommitEntry(entry: CommitEntry): string {
  return encodeDocument(entry);
}

export function decodeBranchRef(text: string, where = '(ref)'): BranchRef {
  return decodeDocument('ref', text, where);
}

export function encodeBranchRef(ref: BranchRef): string {
  return encodeDocument(ref);
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

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
