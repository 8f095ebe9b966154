import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import { InvalidInputError } from './errors.js';
import { gitVisibleFiles, prefixInTree, workingTreeChanges } from './git.js';
import type { MigrationsScope } from './manifest.js';
import { compareVersions, migrationPlace } from './migration-order.js';
import { byteOrder, naturalOrder } from './order.js';

/** Django's layout: `<app>/migrations/0001_initial.py`. */
export const DEFAULT_MIGRATION_GLOBS = ['**/migrations/[0-9]*.py'];

export interface MigrationRecord {
  app: string;
  /** File stem, e.g. `0002_add_index`. */
  name: string;
  /** sha256 of the file bytes. */
  sha256: string;
}

export interface AppFingerprint {
  /** Chain hash of (name, sha256) in name byte order, the order of `migrations` (not the order tools run them). */
  chain: string;
  migrations: Array<{ name: string; sha256: string }>;
}

export interface MigrationFingerprint {
  overall: string;
  apps: Record<string, AppFingerprint>;
}

export interface MigrationRef {
  /** The app as people read it: the fingerprint's app, but `migrations` for its root app `.` (see ROOT_APP). */
  app: string;
  name: string;
}

/**
 * The app of migrations directly in a `migrations/` folder of the fingerprinted directory (migrate-mongo,
 * Knex, Sequelize, golang-migrate) or in that directory itself. It stays `.` in fingerprints: another name
 * would change the fingerprint of every dump such a service published, and its next checkout would look as if
 * it removed every migration and added them again (a full run, a warning for every developer). People read
 * `migrations` instead (`migrations.20240201-create-orders`, not `..20240201-create-orders`).
 */
const ROOT_APP = '.';
/** An app's name as people read it (the fingerprint's own name for the root is `.`). */
export const appForPeople = (app: string) => (app === ROOT_APP ? 'migrations' : app);

export type FingerprintChange =
  | { kind: 'unchanged' }
  /**
   * `addedBefore`: the added migrations numbered at or before the highest-numbered migration of `previous`
   * (migrationPlace: in any app for timestamps, dates and Flyway versions, in their own app for Django's
   * numbers), e.g. merged from a branch that began before it: a tool that runs by number applies them last
   * when migrating incrementally but in their place from scratch (or refuses them, as Flyway does); Django
   * orders siblings of one number by its graph, either way round. Names without a number (Alembic's revision
   * ids, run by their chain; Flyway's repeatables, run after all versions) never are; a Flyway baseline always is.
   */
  | { kind: 'additions-only'; added: MigrationRef[]; addedBefore: MigrationRef[] }
  | { kind: 'rewritten'; edited: MigrationRef[]; removed: MigrationRef[]; added: MigrationRef[] };

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Pure: the fingerprint of a set of migrations (order of the input does not matter). */
export function fingerprintMigrations(records: ReadonlyArray<MigrationRecord>): MigrationFingerprint {
  const byApp = new Map<string, Array<{ name: string; sha256: string }>>();
  for (const record of records) {
    const list = byApp.get(record.app) ?? [];
    if (list.some((existing) => existing.name === record.name)) {
      throw new InvalidInputError('duplicate-migration', `migration ${record.app}.${record.name} appears twice; migration names must be unique per app`);
    }
    list.push({ name: record.name, sha256: record.sha256 });
    byApp.set(record.app, list);
  }
  const apps: Record<string, AppFingerprint> = {};
  const overall = createHash('sha256');
  for (const app of [...byApp.keys()].sort(byteOrder)) {
    const migrations = (byApp.get(app) ?? []).sort((a, b) => byteOrder(a.name, b.name));
    let chain = sha256('');
    for (const migration of migrations) chain = sha256(`${chain}\0${migration.name}\0${migration.sha256}`);
    apps[app] = { chain, migrations };
    overall.update(`${app}\0${chain}\n`);
  }
  return { overall: overall.digest('hex'), apps };
}

/**
 * Reads migration files under `root` matching `globs` and fingerprints them. The app is the folder
 * that holds the `migrations` folder (Django's default label); when two folders share that name the
 * path relative to `root` is used instead so they stay apart. In a git working tree only the files git
 * tracks or would add count: a git-ignored virtualenv holds Django's own migrations, and a nested
 * worktree another copy of the app's, which are not the service's (uncommitted and untracked new
 * migrations still count: they are the developer's pending ones).
 */
export async function fingerprintMigrationFiles(
  root: string,
  globs: ReadonlyArray<string> = DEFAULT_MIGRATION_GLOBS,
): Promise<MigrationFingerprint> {
  const files = await migrationFiles(root, globs);
  // Read synchronously: migration files are small sources, and 200 of them take ~2 ms this way against
  // ~15 ms as 200 concurrent promise reads (four thread-pool tasks each), which also held up whatever
  // else was waiting for the thread pool (the refresh runs this while it connects to the servers).
  return fingerprintMigrations(migrationRecords(files, (file) => readFileSync(path.join(root, file))));
}

/** The migration files under `root` that `globs` match and (in a git working tree) git tracks or would add. */
async function migrationFiles(root: string, globs: ReadonlyArray<string>): Promise<string[]> {
  const [matched, visible] = await Promise.all([glob([...globs], { cwd: root, ignore: IGNORED, onlyFiles: true }), gitVisibleFiles(root)]);
  return matched.filter((file) => visible === undefined || visible.has(file));
}

/**
 * The migration files under `dir` (matched as fingerprintMigrationFiles matches them) that differ from the
 * commit checked out: `added` (untracked, or staged as new), `edited`, `deleted`, and `notCheckedOut` (left out
 * by a sparse checkout); paths relative to `dir`.
 */
export async function migrationFilesChangedSinceHead(dir: string, globs: ReadonlyArray<string> = DEFAULT_MIGRATION_GLOBS): Promise<{ added: string[]; edited: string[]; deleted: string[]; notCheckedOut: string[] }> {
  const [files, changes] = await Promise.all([migrationFiles(dir, globs), workingTreeChanges(dir)]);
  const present = new Set(files);
  // A deleted file is no longer on disk for the glob to find: matched by name, with `!` globs excluding as they do there.
  // A glob naming a directory matches what is in it, as on disk.
  const positive = globs.filter((g) => !g.startsWith('!'));
  const matches = picomatch([...positive, ...positive.map((g) => `${g.replace(/\/+$/, '')}/**`)]);
  const negated = globs.filter((g) => g.startsWith('!')).map((g) => g.slice(1));
  const excluded = negated.length > 0 ? picomatch(negated) : () => false;
  const ignored = picomatch(IGNORED);
  const sorted = (set: Iterable<string>) => [...set].sort(byteOrder);
  const isMigration = (file: string) => matches(file) && !excluded(file) && !ignored(file);
  const holdsMigrations = (submodule: string) => files.some((file) => file.startsWith(`${submodule}/`));
  return {
    added: sorted([...changes.added].filter((file) => present.has(file))),
    // A changed submodule holding migration files is named as a whole (`<path>/`): git status does not say which.
    edited: sorted([...[...changes.edited].filter((file) => present.has(file)), ...[...changes.submodules].filter(holdsMigrations).map((submodule) => `${submodule}/`)]),
    deleted: sorted([...changes.deleted].filter(isMigration)),
    notCheckedOut: sorted([...changes.sparse].filter(isMigration)),
  };
}

const IGNORED = ['**/node_modules/**', '**/.git/**'];

/**
 * One record per file (paths relative to the fingerprinted directory). The app is the folder that holds
 * the `migrations` folder (Django's default label); when two folders share that name the path is used
 * instead so they stay apart. A `migrations` folder at the top gives ROOT_APP, as do files at the top.
 */
function migrationRecords(unsorted: ReadonlyArray<string>, read: (file: string) => Buffer): MigrationRecord[] {
  const files = [...unsorted].sort(byteOrder);
  const appDirOf = (file: string) => {
    const dir = path.posix.dirname(file);
    return path.posix.basename(dir) === 'migrations' ? path.posix.dirname(dir) : dir;
  };
  const labels = new Map<string, Set<string>>();
  for (const file of files) {
    const appDir = appDirOf(file);
    const label = path.posix.basename(appDir);
    labels.set(label, (labels.get(label) ?? new Set()).add(appDir));
  }
  return files.map((file) => {
    const appDir = appDirOf(file);
    const label = path.posix.basename(appDir);
    const app = (labels.get(label)?.size ?? 0) > 1 ? appDir : label;
    const name = path.posix.basename(file).replace(/\.[^.]+$/, '');
    return { app, name, sha256: sha256(withLfLineEndings(read(file))) };
  });
}

/**
 * How a checkout's fingerprint is recorded: `dir` relative to the top of its git working tree (POSIX
 * separators, `.` for the top; a developer's clone is that tree, whatever path CI checked it out under),
 * or relative to `outsideGit` when `dir` is in no git tree, with the globs.
 */
export async function migrationsScopeOf(dir: string, globs: string[], outsideGit: string = dir): Promise<MigrationsScope> {
  const prefix = await prefixInTree(dir);
  const directory = prefix !== undefined ? prefix.replace(/\/$/, '') : path.relative(outsideGit, dir).split(path.sep).join('/');
  return { directory: directory || '.', globs };
}

/**
 * A migration's bytes with CRLF line endings as LF: a Windows checkout (core.autocrlf=true) holds the same
 * migration as CI's LF one, and must not count as edited. LF-only files are unchanged, so fingerprints of
 * LF checkouts (all published ones) stay as they were.
 */
export function withLfLineEndings(bytes: Buffer): Buffer {
  return bytes.includes('\r\n') ? Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1') : bytes;
}

/**
 * How `current` differs from `previous`: only new migrations (safe to migrate incrementally), or an
 * existing migration edited/removed (needs a full migrate from empty). Each list is in natural order of
 * app, then name (naturalOrder): numbered names in number order; not necessarily the order a tool runs them.
 */
export function classifyFingerprintChange(previous: MigrationFingerprint, current: MigrationFingerprint): FingerprintChange {
  const edited: MigrationRef[] = [];
  const removed: MigrationRef[] = [];
  const added: MigrationRef[] = [];
  const addedBefore: MigrationRef[] = [];
  const apps = new Set([...Object.keys(previous.apps), ...Object.keys(current.apps)]);
  // The highest version of the ancestor's migrations, across apps (for global places) and per app.
  const places = Object.entries(previous.apps).flatMap(([app, { migrations }]) => migrations.map((m) => ({ app, place: migrationPlace(app, m.name) })));
  const highest = (among: typeof places) => among.map(({ place }) => place?.version).filter((version) => version !== undefined).sort(compareVersions).at(-1);
  const highestOverall = highest(places.filter(({ place }) => place?.global));
  const highestOf = (app: string) => highest(places.filter((entry) => entry.app === app && entry.place?.global === false));
  const outOfPlace = (app: string, name: string) => {
    const place = migrationPlace(app, name);
    if (place === undefined) return false;
    const top = place.global ? highestOverall : highestOf(app);
    return place.always === true || (top !== undefined && compareVersions(place.version, top) <= 0);
  };
  // Listed for people in natural order (`V4__y` before `V10__x`), which fingerprints (byte order) do not use.
  for (const app of [...apps].sort((x, y) => naturalOrder(appForPeople(x), appForPeople(y)) || byteOrder(x, y))) {
    const before = new Map((previous.apps[app]?.migrations ?? []).map((m) => [m.name, m.sha256]));
    const after = new Map((current.apps[app]?.migrations ?? []).map((m) => [m.name, m.sha256]));
    const ref = (name: string): MigrationRef => ({ app: appForPeople(app), name });
    for (const name of [...before.keys()].sort(naturalOrder)) {
      const now = after.get(name);
      if (now === undefined) removed.push(ref(name));
      else if (now !== before.get(name)) edited.push(ref(name));
    }
    for (const name of [...after.keys()].sort(naturalOrder)) {
      if (before.has(name)) continue;
      added.push(ref(name));
      if (outOfPlace(app, name)) addedBefore.push(ref(name));
    }
  }
  if (edited.length > 0 || removed.length > 0) return { kind: 'rewritten', edited, removed, added };
  if (added.length > 0) return { kind: 'additions-only', added, addedBefore };
  return { kind: 'unchanged' };
}
