import { classifyFingerprintChange, type MigrationFingerprint } from '@org/dump-versioning';

/** Which migrations a developer must run after loading a dump, from the dump's fingerprint and the working tree's. */
export interface PendingMigrations {
  /**
   * `up-to-date`: the dump has every migration of the working tree; `pending`: the tree only adds
   * migrations; `rewritten`: the tree edited or removed migrations the dump has (the loaded schema may
   * not match); `unknown`: the dump was published without a fingerprint.
   */
  state: 'up-to-date' | 'pending' | 'rewritten' | 'unknown';
  /**
   * `app.name`, these absent from the dump, by app then name in natural order (digit runs by value:
   * `V4__y` before `V10__x`, `0002_b` before `0010_c`). That is the run order of tools that number their
   * files (Django within an app, Flyway, Knex, golang-migrate), not of tools whose file names are not their
   * run order (Alembic's revision ids): those are listed by name.
   */
  pending: string[];
  /** Those of `pending` that sort before migrations the dump has (merged from an older branch). */
  addedBefore: string[];
  edited: string[];
  removed: string[];
}

const qualified = (m: { app: string; name: string }) => `${m.app}.${m.name}`;

export function pendingMigrations(dumped: MigrationFingerprint | undefined, workingTree: MigrationFingerprint): PendingMigrations {
  if (dumped === undefined) return { state: 'unknown', pending: [], addedBefore: [], edited: [], removed: [] };
  const change = classifyFingerprintChange(dumped, workingTree);
  switch (change.kind) {
    case 'unchanged':
      return { state: 'up-to-date', pending: [], addedBefore: [], edited: [], removed: [] };
    case 'additions-only':
      return { state: 'pending', pending: change.added.map(qualified), addedBefore: change.addedBefore.map(qualified), edited: [], removed: [] };
    case 'rewritten':
      return { state: 'rewritten', pending: change.added.map(qualified), addedBefore: [], edited: change.edited.map(qualified), removed: change.removed.map(qualified) };
  }
}

export const DJANGO_MIGRATE_COMMAND = 'python manage.py migrate';

/** What to tell people to run: the command they named, else Django's for Django migrations, else none (a generic line). */
export interface MigrateAdvice {
  command: string | undefined;
  /** The migrations are Django's (see isDjangoLayout): its wording, which knows what its migrate does. */
  django: boolean;
}

/**
 * Django's layout, decided from the globs the working tree was fingerprinted with (the migrations are not
 * read for it): a glob, `!` exclusions aside, matches `.py` files directly in the `migrations` folder of any
 * app folder (a wildcard before `migrations`), as DEFAULT_MIGRATION_GLOBS and `lms/*\/migrations/*.py` do;
 * other globs beside it are the files a Django service adds (index definitions, seed data). Alembic
 * (`alembic/versions/*.py`, `migrations/versions/*.py`), yoyo or peewee (`migrations/*.py`,
 * `db/migrations/*.py`) and any non-Python tool are not; neither is one named app (`shop/migrations/*.py`):
 * undecided is not Django.
 */
export function isDjangoLayout(globs: readonly string[]): boolean {
  return globs.filter((glob) => !glob.startsWith('!')).some((glob) => {
    const segments = glob.split('/');
    return segments.length >= 3 && segments.at(-2) === 'migrations' && segments.at(-1)!.endsWith('.py') && /[*?[]/.test(segments.at(-3)!);
  });
}

/** The command to print (never run, never stored: it may hold secrets): `--migrate-command`, else Django's for Django's layout. */
export function migrateAdvice(given: string | undefined, globs: readonly string[]): MigrateAdvice {
  const django = isDjangoLayout(globs);
  return { command: given ?? (django ? DJANGO_MIGRATE_COMMAND : undefined), django };
}

const GENERIC_RUN = "the service's migrate command (name it with --migrate-command)";

/**
 * How many names a list for people shows (a branch may add hundreds of migrations, a rewrite remove a
 * thousand); `--json` has every one.
 */
export const NAMES_SHOWN = 50;

/** `names`, one per line with `indent`, the ones past `limit` counted on a last line. */
export function nameLines(names: readonly string[], indent: string, limit = NAMES_SHOWN): string[] {
  const shown = names.length > limit ? names.slice(0, limit) : names;
  const rest = names.length - shown.length;
  return [...shown.map((name) => `${indent}${name}`), ...(rest > 0 ? [`${indent}... and ${rest} more (--json lists every one)`] : [])];
}

/** `names` joined with commas, the ones past `limit` counted. */
export function joinNames(names: readonly string[], limit = 10): string {
  return names.length > limit ? `${names.slice(0, limit).join(', ')} and ${names.length - limit} more` : names.join(', ');
}

/** Lines for people: what to run, and a clear warning when the tree rewrote migrations the dump has. */
export function describePending(result: PendingMigrations, advice: MigrateAdvice, ancestor: string): string[] {
  const run = advice.command ?? GENERIC_RUN;
  const lines: string[] = [];
  if (result.state === 'unknown') {
    return [
      `pending    unknown: the dump of ${ancestor} was published without a migration fingerprint`,
      `run        ${run}   (applies whatever the dump lacks)`,
    ];
  }
  if (result.pending.length === 0) lines.push('pending    none: the dump has every migration of the working tree');
  else lines.push(`pending    ${result.pending.length} migration(s) in the working tree are not in the dump:`, ...nameLines(result.pending, '             '));
  if (result.addedBefore.length > 0) {
    lines.push(
      `note       ${joinNames(result.addedBefore)}: numbered at or before migrations the dump already has (merged from an older branch?):`,
      `           migrating now runs them after those, so the schema can differ from a fresh migrate (column order), and`,
      `           some tools refuse them (Flyway without outOfOrder); a full migrate from empty databases gives the exact schema.`,
    );
  }
  if (result.state === 'rewritten') {
    // Django never re-runs an applied migration; other tools may (Flyway re-applies an edited repeatable R__ migration).
    const rerun = advice.django ? `${run} will not re-run edited migrations` : `${advice.command ?? 'your migrate command'} may not re-run edited migrations`;
    lines.push(
      `WARNING    the working tree rewrote migration(s) the dump already has:`,
      ...nameLines(result.edited, '             edited   '),
      ...nameLines(result.removed, '             removed  '),
      `           the loaded schema may not match this code, and ${rerun};`,
      `           for an exact schema do a full migrate: empty the databases and run ${advice.command ?? "the service's migrate command"} from scratch.`,
    );
  }
  if (result.pending.length > 0 || result.state === 'rewritten') lines.push(`run        ${run}`);
  return lines;
}
