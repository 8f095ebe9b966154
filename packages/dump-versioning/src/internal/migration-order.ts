import { numericOrder } from './order.js';

/**
 * Where a migration's name places it in its tool's run order, for telling whether an added migration runs
 * where a migrate from scratch would run it (see classifyFingerprintChange): its version, as numbers (digit
 * runs kept as strings, compared by value), and whether it is compared with the migrations of every app
 * (`global`: timestamps, dates and Flyway versions order a tool's migrations across folders) or with its
 * own app's only (Django numbers each app's migrations 0001, 0002...). `always`: out of place whenever added.
 */
export interface MigrationPlace {
  version: string[];
  global: boolean;
  always?: boolean;
}

/**
 * The place of migration `name` in app (folder) `app`, or undefined for a name that says nothing about
 * order (Alembic's revision ids, run by their down_revision chain; Flyway's `R__` repeatables, run after all
 * versions) or that never runs going up (golang-migrate's `.down` files, Flyway's `.sql.conf` files).
 */
export function migrationPlace(app: string, name: string): MigrationPlace | undefined {
  if (/\.(down|sql)$/.test(name)) return undefined;
  // Prisma: `<timestamp>_<name>/migration.sql`, the folder is the migration.
  const source = name === 'migration' ? (app.split('/').at(-1) ?? app) : name;
  // Alembic's dated file_template (`2024_01_05_1430-ae1027a6acf_add_x`): still run by its chain.
  if (/^[\d_]+-[0-9a-f]{12}_/.test(source)) return undefined;
  const flyway = /^([VB])(\d+(?:[._]\d+)*)__/.exec(source);
  // A baseline (`B2__x`) replaces every version up to its own from scratch, and is skipped on a migrated database.
  if (flyway) return { version: flyway[2]!.split(/[._]/), global: true, ...(flyway[1] === 'B' ? { always: true } : {}) };
  const doctrine = /^Version(\d+)$/.exec(source);
  if (doctrine) return { version: [doctrine[1]!], global: true };
  const numbered = /^(\d+(?:_\d+)*)(?=[_\-.]|$)/.exec(source);
  if (!numbered) return undefined;
  const version = numbered[1]!.split('_');
  // Django's per-app sequence (four digits); anything longer is a timestamp or a date.
  return { version, global: !(version.length === 1 && version[0]!.length <= 4) };
}

/** Two versions, number by number by value; a prefix comes first ([2] before [2, 5]). */
export function compareVersions(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = numericOrder(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}
