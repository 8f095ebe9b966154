import { classifyFingerprintChange, type MigrationFingerprint } from '@org/dump-versioning';

/** Which migrations a developer must run after loading a dump, from the dump's fingerprint and the working tree's. */
export interface PendingMigrations {
  /**
   * `up-to-date`: the dump has every migration of the working tree; `pending`: the tree only adds
   * migrations; `rewritten`: the tree edited or removed migrations the dump has (the loaded schema may
   * not match); `unknown`: the dump was published without a fingerprint.
   */
  state: 'up-to-date' | 'pending' | 'rewritten' | 'unknown';
  /** `app.name` in the order Django runs them within an app; these are absent from the dump. */
  pending: string[];
  edited: string[];
  removed: string[];
}

const qualified = (m: { app: string; name: string }) => `${m.app}.${m.name}`;

export function pendingMigrations(dumped: MigrationFingerprint | undefined, workingTree: MigrationFingerprint): PendingMigrations {
  if (dumped === undefined) return { state: 'unknown', pending: [], edited: [], removed: [] };
  const change = classifyFingerprintChange(dumped, workingTree);
  switch (change.kind) {
    case 'unchanged':
      return { state: 'up-to-date', pending: [], edited: [], removed: [] };
    case 'additions-only':
      return { state: 'pending', pending: change.added.map(qualified), edited: [], removed: [] };
    case 'rewritten':
      return { state: 'rewritten', pending: change.added.map(qualified), edited: change.edited.map(qualified), removed: change.removed.map(qualified) };
  }
}

/** Lines for people: what to run, and a clear warning when the tree rewrote migrations the dump has. */
export function describePending(result: PendingMigrations, migrateCommand: string, ancestor: string): string[] {
  const lines: string[] = [];
  if (result.state === 'unknown') {
    return [
      `pending    unknown: the dump of ${ancestor} was published without a migration fingerprint`,
      `run        ${migrateCommand}   (applies whatever the dump lacks)`,
    ];
  }
  if (result.pending.length === 0) lines.push('pending    none: the dump has every migration of the working tree');
  else lines.push(`pending    ${result.pending.length} migration(s) in the working tree are not in the dump:`, ...result.pending.map((name) => `             ${name}`));
  if (result.state === 'rewritten') {
    lines.push(
      `WARNING    the working tree rewrote migration(s) the dump already has:`,
      ...result.edited.map((name) => `             edited   ${name}`),
      ...result.removed.map((name) => `             removed  ${name}`),
      `           the loaded schema may not match this code, and ${migrateCommand} will not re-run edited migrations;`,
      `           for an exact schema do a full migrate: empty the databases and run ${migrateCommand} from scratch.`,
    );
  }
  if (result.pending.length > 0 || result.state === 'rewritten') lines.push(`run        ${migrateCommand}`);
  return lines;
}
