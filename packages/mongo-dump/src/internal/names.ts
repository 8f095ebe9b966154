import { MongoCollectionNotFoundError, MongoSystemDatabaseError, MongoUnsupportedError } from './errors.js';
import type { CollectionSpec } from './normalise.js';

// The server's own databases, and devstack_dumps_locks, where devstack-dumps keeps its load locks
// (@org/dump-set's mongo-load-lock.ts): never a database to load, drop or dump. Compared lower-cased:
// MongoDB refuses names differing only in case from an existing database, so `Admin` can only ever mean trouble.
const SYSTEM_DATABASES = new Set(['admin', 'local', 'config', 'devstack_dumps_locks']);

/** Whether `name` is one of MongoDB's own databases (admin, local, config) or devstack-dumps' lock database, in any case. */
export function isMongoSystemDatabase(name: string): boolean {
  return SYSTEM_DATABASES.has(name.toLowerCase());
}

/** Throws MongoSystemDatabaseError for the first system database among the write targets. */
export function refuseSystemDatabases(targets: Iterable<string>): void {
  for (const name of targets) if (isMongoSystemDatabase(name)) throw new MongoSystemDatabaseError(name);
}

// `<name>.metadata.json` must fit the usual 255-byte file name limit.
const MAX_FILE_NAME_BYTES = 255 - '.metadata.json'.length;
// Characters Windows refuses in file names, and control characters; `%` and `+` could be read as escapes.
const UNPORTABLE_DATABASE_CHARACTERS = /[%+*?:<>|"\x00-\x1f\x7f]/;

/**
 * Database names are folder names as they are (mongodump does not escape them). Collection names are
 * escaped (see collectionFileStem), so only what no escaping fixes is refused here.
 */
export function checkFileSafeName(kind: 'database' | 'collection', name: string, database?: string): void {
  const where = database ? ` in database "${database}"` : '';
  const fileName = kind === 'collection' ? collectionFileStem(name) : name;
  let problem: string | undefined;
  if (name === '' || name === '.' || name === '..') problem = 'is empty or a relative path';
  else if (kind === 'database' && /[/\\\0]/.test(name)) problem = 'contains a path separator or NUL';
  else if (kind === 'database' && UNPORTABLE_DATABASE_CHARACTERS.test(name)) problem = 'contains a character that is not portable in a folder name (% + * ? : < > | " or a control character)';
  else if (name.startsWith('.')) problem = 'starts with "."';
  else if (Buffer.byteLength(fileName) > MAX_FILE_NAME_BYTES) problem = `is longer than ${MAX_FILE_NAME_BYTES} bytes${fileName === name ? '' : ` once escaped (${Buffer.byteLength(fileName)} bytes)`}`;
  if (problem) {
    throw new MongoUnsupportedError(`${kind} name "${name}"${where} ${problem}, which cannot be a dump file name; rename it`);
  }
}

const KEPT_IN_FILE_NAMES = /^[A-Za-z0-9._~-]$/;

/**
 * The file name stem of a collection, escaped as mongodump escapes it (Go's url.QueryEscape: every byte
 * of the UTF-8 name outside `A-Za-z0-9._~-` as `%XX`, a space as `+`), so stock mongorestore reads the
 * name back, and every name is one portable ASCII file name: no separators, no characters Windows
 * refuses, and the NFC and NFD spellings of a name stay two files. Case is kept (see caseCollision).
 */
export function collectionFileStem(name: string): string {
  let stem = '';
  for (const char of name) {
    if (KEPT_IN_FILE_NAMES.test(char)) stem += char;
    else if (char === ' ') stem += '+';
    else for (const byte of Buffer.from(char, 'utf8')) stem += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return stem;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The collection name of a file name stem (Go's url.QueryUnescape), or undefined when it is no valid escape. */
export function collectionFromFileStem(stem: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < stem.length; i++) {
    const char = stem[i]!;
    if (char === '%') {
      const hex = stem.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (char === '+') bytes.push(0x20);
    else bytes.push(...Buffer.from(char, 'utf8'));
  }
  try {
    return UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/**
 * Two collections whose file names differ only in case: a checkout of the dump on a case-insensitive file
 * system (macOS, Windows) would merge their files. Returns the two names, or undefined.
 */
export function caseCollision(names: Iterable<string>): [string, string] | undefined {
  const seen = new Map<string, string>();
  for (const name of names) {
    const folded = collectionFileStem(name).toLowerCase();
    const other = seen.get(folded);
    if (other !== undefined) return [other, name];
    seen.set(folded, name);
  }
  return undefined;
}

/** Refuses a database whose collections would share a file on a case-insensitive file system. */
export function refuseCaseCollisions(database: string, names: Iterable<string>): void {
  const collision = caseCollision(names);
  if (collision) {
    throw new MongoUnsupportedError(
      `collections "${collision[0]}" and "${collision[1]}" of database "${database}" differ only in case, so their dump files ` +
        'would be one file on macOS and Windows; rename one of them',
    );
  }
}

/**
 * Which collections of which database get documents. An entry `db.collection` whose prefix is one of
 * the dumped databases names that database's collection; any other entry is a bare collection name
 * (collection names may contain dots) looked up in every dumped database. Every entry must match at
 * least one collection, and only plain collections have documents of their own.
 */
export function resolveDataCollections(
  entries: readonly string[],
  catalogs: ReadonlyMap<string, readonly CollectionSpec[]>,
): Map<string, Set<string>> {
  const chosen = new Map<string, Set<string>>();
  const databases = [...catalogs.keys()];
  for (const entry of entries) {
    const dot = entry.indexOf('.');
    const prefix = dot > 0 ? entry.slice(0, dot) : undefined;
    const qualified = prefix !== undefined && catalogs.has(prefix);
    const targets = qualified ? [[prefix, entry.slice(dot + 1)] as const] : databases.map((db) => [db, entry] as const);
    let matched = 0;
    for (const [database, collection] of targets) {
      const spec = catalogs.get(database)?.find((candidate) => candidate.name === collection);
      if (!spec) continue;
      if (spec.type !== 'collection') {
        throw new MongoUnsupportedError(
          `data collection "${entry}" is a ${spec.type === 'view' ? 'view' : 'time series collection'} ` +
            `in database "${database}"; only plain collections can be dumped with documents, remove it from the list`,
        );
      }
      matched++;
      const set = chosen.get(database) ?? new Set<string>();
      set.add(collection);
      chosen.set(database, set);
    }
    if (matched === 0) throw new MongoCollectionNotFoundError(entry, qualified ? [prefix] : databases);
  }
  return chosen;
}
