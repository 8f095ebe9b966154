import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { computeVersion } from '@org/dump-versioning';
import { checkMongoDump } from '@org/mongo-dump';
import { DumpSetFileError } from './errors.js';
import * as generatedValidators from './generated/validators.js';

/** One file of a dump set as a checksum list records it. */
export interface DumpSetFile {
  path: string;
  sha256: string;
  size: number;
}

/** The server a dump was made on (kept beside the set, not in it: it is provenance, not content). */
export interface DumpEngine {
  flavor: string;
  version: string;
}

/** The checksum list written beside a dump set directory (`<dir>.checksums.json`). */
export interface DumpSetChecksums {
  format: 1;
  /** dump-versioning's version id of these files (the same id `publish` gives them). */
  version: string;
  files: DumpSetFile[];
  /** The servers the dumps were made on, when known, so a later `publish` can record them. */
  engines?: { mysql?: DumpEngine; mongo?: DumpEngine };
}

/** What a dump set directory holds, by engine: database -> relative file paths. */
export interface DumpSetContents {
  files: string[];
  mysql: Map<string, string[]>;
  mongo: Map<string, string[]>;
}

const MYSQL_FILE = /^mysql\/([^/]+)\.(sql|schema\.json)$/;
const MONGO_FILE = /^mongo\/([^/]+)\/[^/]+\.(bson|metadata\.json)$/;
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
/** A `/`-separated relative path with a segment starting with "." (the file or one of its folders is hidden). */
const isHidden = (relative: string) => relative.split('/').some((segment) => segment.startsWith('.'));

/** The checksum list of a dump set directory lives beside it: inside, `publish` would refuse it as a stray file. */
export const checksumsPathOf = (dir: string) => `${path.resolve(dir)}.checksums.json`;

/**
 * Lists a dump set directory and checks its layout (preamble contract): only regular files,
 * `mysql/<db>.sql` + `mysql/<db>.schema.json` in pairs, `mongo/<db>/<name>.bson|.metadata.json`.
 * Hidden files and folders (any path segment starting with ".") are skipped: they are not in the set.
 */
export async function readDumpSetContents(dir: string): Promise<DumpSetContents> {
  const root = path.resolve(dir);
  const info = await lstat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new DumpSetFileError('dump-dir-missing', `dump set directory ${root} does not exist or is not a directory; pass a directory written by dump or pull`);
  const files: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const relative = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    // Hidden entries (a `.db.partial-*` left by an interrupted dump, a `.DS_Store`) are no part of a dump
    // set, for either engine: the dumpers' own readers skip them too, so nothing would load them.
    if (isHidden(relative)) continue;
    if (entry.isDirectory()) continue;
    if (!entry.isFile()) throw new DumpSetFileError('dump-dir-not-regular', `dump set ${root}: ${relative} is not a regular file; a dump set holds regular files only`);
    if (!MYSQL_FILE.test(relative) && !MONGO_FILE.test(relative)) {
      throw new DumpSetFileError('dump-dir-layout', `dump set ${root}: ${relative} is not part of the dump set layout (mysql/<db>.sql, mysql/<db>.schema.json, mongo/<db>/<collection>.bson|.metadata.json); remove it or re-create the dump`);
    }
    files.push(relative);
  }
  if (files.length === 0) throw new DumpSetFileError('dump-dir-empty', `dump set directory ${root} holds no dump files; run dump or pull first`);
  files.sort(byteOrder);
  const mysql = new Map<string, string[]>();
  const mongo = new Map<string, string[]>();
  for (const file of files) {
    const [, database] = MYSQL_FILE.exec(file) ?? MONGO_FILE.exec(file)!;
    const byDatabase = file.startsWith('mysql/') ? mysql : mongo;
    byDatabase.set(database!, [...(byDatabase.get(database!) ?? []), file]);
  }
  for (const [database, list] of mysql) {
    for (const needed of [`mysql/${database}.sql`, `mysql/${database}.schema.json`]) {
      if (!list.includes(needed)) throw new DumpSetFileError('dump-file-missing', `dump set ${root}: ${needed} is missing (every MySQL database has a .sql and a .schema.json); pull or dump the set again`);
    }
  }
  return { files, mysql, mongo };
}

/**
 * The dumpers' own checks of file contents, run before anything is loaded: every schema.json parses
 * as a semantic schema, and the mongo part reads as a dump (metadata parses strictly, every collection has
 * its .bson, every document reads and would load exactly).
 */
export async function checkDumpSetContents(dir: string, contents: DumpSetContents): Promise<void> {
  for (const database of contents.mysql.keys()) {
    const file = path.join(dir, 'mysql', `${database}.schema.json`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new DumpSetFileError('dump-file-malformed', `${file} is not valid JSON (${(error as Error).message}); pull or dump the set again`);
    }
    const schema = parsed as { format?: unknown; tables?: unknown };
    if (schema.format !== 1 || !Array.isArray(schema.tables)) {
      throw new DumpSetFileError('dump-file-malformed', `${file} is not a semantic schema (format 1 with tables); pull or dump the set again`);
    }
  }
  // Every document too, not only the metadata: a load must not start (and replace a MySQL database
  // beside it) when a Mongo document would be refused.
  if (contents.mongo.size > 0) await checkMongoDump({ dir });
}

export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

export async function describeFiles(dir: string, files: ReadonlyArray<string>): Promise<DumpSetFile[]> {
  const described: DumpSetFile[] = [];
  for (const file of files) described.push({ path: file, ...(await hashFile(path.join(dir, ...file.split('/')))) });
  return described;
}

const pickEngine = ({ flavor, version }: DumpEngine): DumpEngine => ({ flavor, version });

/** Writes `<dir>.checksums.json` atomically (temp file + rename). */
export async function writeChecksumsFile(dir: string, files: ReadonlyArray<DumpSetFile>, engines?: DumpSetChecksums['engines']): Promise<DumpSetChecksums> {
  const sorted = [...files].map(({ path: file, sha256, size }) => ({ path: file, sha256, size })).sort((a, b) => byteOrder(a.path, b.path));
  const known = engines && (engines.mysql || engines.mongo) ? { engines: { ...(engines.mysql ? { mysql: pickEngine(engines.mysql) } : {}), ...(engines.mongo ? { mongo: pickEngine(engines.mongo) } : {}) } } : {};
  const checksums: DumpSetChecksums = { format: 1, version: computeVersion(sorted), files: sorted, ...known };
  const target = checksumsPathOf(dir);
  const temp = `${target}.${randomUUID()}.tmp`;
  await writeFile(temp, `${JSON.stringify(checksums, null, 2)}\n`);
  await rename(temp, target).catch(async (error: unknown) => {
    await rm(temp, { force: true });
    throw error;
  });
  return checksums;
}

/**
 * The checksum list's schema. Its validator is generated ahead of time (scripts/validators/generate.ts:
 * strict mode, meta-schema checked) into generated/validators.js, so no process compiles it at start-up.
 */
const engineSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['flavor', 'version'],
  properties: { flavor: { type: 'string', minLength: 1 }, version: { type: 'string', minLength: 1 } },
} as const;

export const checksumsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'version', 'files'],
  properties: {
    format: { const: 1 },
    version: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    files: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'sha256', 'size'],
        properties: { path: { type: 'string', minLength: 1 }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, size: { type: 'integer', minimum: 0 } },
      },
    },
    engines: {
      type: 'object',
      additionalProperties: false,
      properties: { mysql: engineSchema, mongo: engineSchema },
    },
  },
} as const;
// Read at call time through the namespace, so the generator can load this module while the file is stale.
const validateChecksums = () => generatedValidators.checksums as ValidateFunction<DumpSetChecksums>;

/** The checksum list beside `dir`, or undefined when there is none. */
export async function readChecksumsFile(dir: string): Promise<DumpSetChecksums | undefined> {
  const file = checksumsPathOf(dir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DumpSetFileError('checksums-unreadable', `cannot read ${file} (${(error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DumpSetFileError('checksums-malformed', `${file} is not valid JSON; delete it and pull or dump the set again`);
  }
  const validate = validateChecksums();
  if (!validate(parsed)) {
    throw new DumpSetFileError('checksums-malformed', `${file} is not a dump set checksum list (${validate.errors?.[0]?.instancePath || '/'} ${validate.errors?.[0]?.message ?? ''}); delete it and pull or dump the set again`);
  }
  if (computeVersion(parsed.files) !== parsed.version) {
    throw new DumpSetFileError('checksums-altered', `${file} was altered (its version does not match its files); delete it and pull or dump the set again`);
  }
  return parsed;
}

export interface VerifiedDumpSet extends DumpSetContents {
  /** `checksums`: every file matched the list beside the directory; `layout`: there was no list, only the layout and the dumpers' checks ran. */
  verifiedBy: 'checksums' | 'layout';
  version?: string;
  /** The servers the dumps were made on, as the checksum list records them. */
  engines?: DumpSetChecksums['engines'];
}

/**
 * Checks a dump set before anything is loaded: layout, then every file against `<dir>.checksums.json`
 * when present (a missing, extra or altered file is named), then the dumpers' content checks.
 */
export async function verifyDumpSet(dir: string): Promise<VerifiedDumpSet> {
  const root = path.resolve(dir);
  const contents = await readDumpSetContents(root);
  const checksums = await readChecksumsFile(root);
  if (checksums) {
    const present = new Set(contents.files);
    const listed = new Set(checksums.files.map((file) => file.path));
    const missing = checksums.files.find((file) => !present.has(file.path));
    if (missing) throw new DumpSetFileError('dump-file-missing', `dump set ${root}: ${missing.path} is missing (listed in ${checksumsPathOf(root)}); pull or dump the set again`);
    const extra = contents.files.find((file) => !listed.has(file));
    if (extra) throw new DumpSetFileError('dump-file-extra', `dump set ${root}: ${extra} is not part of this dump set (not in ${checksumsPathOf(root)}); remove it or pull the set again`);
    for (const expected of checksums.files) {
      const actual = await hashFile(path.join(root, ...expected.path.split('/')));
      if (actual.sha256 !== expected.sha256 || actual.size !== expected.size) {
        throw new DumpSetFileError('dump-file-altered', `dump set ${root}: ${expected.path} was altered (sha256 ${actual.sha256.slice(0, 12)}, ${actual.size} bytes; expected ${expected.sha256.slice(0, 12)}, ${expected.size} bytes); pull or dump the set again`);
      }
    }
  }
  await checkDumpSetContents(root, contents);
  return { ...contents, verifiedBy: checksums ? 'checksums' : 'layout', ...(checksums ? { version: checksums.version } : {}), ...(checksums?.engines ? { engines: checksums.engines } : {}) };
}
