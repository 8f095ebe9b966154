import { InputError } from '@org/action-inputs';
import { classifyFingerprintChange, type EngineInfo, type MigrationFingerprint, type MigrationRef } from '@org/dump-versioning';
import type { Mode } from './context.js';

export type Engines = { mysql?: EngineInfo; mongo?: EngineInfo };

/** The nearest published first-parent ancestor of the commit (or the commit itself on a re-run). */
export interface Ancestor {
  commit: string;
  version: string;
  /** First-parent steps from the processed commit (0: this commit was published before). */
  distance: number;
  fingerprint: MigrationFingerprint | undefined;
  engines: Engines | undefined;
}

/** No ancestor to start from, and why (for the mode's reason). */
export interface NoAncestor {
  none: string;
}

export type UsedMode = Exclude<Mode, 'auto'>;

export type ModeDecision =
  | { mode: 'full'; reason: string }
  | { mode: 'incremental'; reason: string; ancestor: Ancestor; added: MigrationRef[] };

const short = (sha: string) => sha.slice(0, 12);
const names = (refs: readonly MigrationRef[], limit = 5) => {
  const shown = refs.slice(0, limit).map((ref) => `${ref.app}.${ref.name}`);
  return refs.length > limit ? `${shown.join(', ')} and ${refs.length - limit} more` : shown.join(', ');
};
const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/**
 * Full or incremental, and why. Incremental (load the ancestor's dump, then migrate) gives the same dump as
 * migrating empty databases only when every migration the ancestor ran is still there unchanged; an edited
 * or removed migration, or an ancestor without a recorded fingerprint, needs the full run.
 */
export function decideMode(
  requested: Mode,
  fingerprint: MigrationFingerprint,
  found: Ancestor | NoAncestor | undefined,
  /** The servers' engines when already known; otherwise recheckAfterDump compares them after the dump. */
  current?: Engines,
): ModeDecision {
  if (requested === 'full') return { mode: 'full', reason: 'input `mode` is `full`' };
  const cannot = (why: string): ModeDecision => {
    if (requested === 'incremental') throw new InputError('mode', `\`incremental\` is impossible: ${why}; use \`auto\` (falls back to a full run) or \`full\``);
    return { mode: 'full', reason: why };
  };
  if (found === undefined || 'none' in found) return cannot(found?.none ?? 'no dump is published for this commit or its first-parent ancestors');
  const ancestor = found;
  const from = `${short(ancestor.commit)}${ancestor.distance === 0 ? ' (this commit, published before)' : ` (${plural(ancestor.distance, 'commit')} back)`}`;
  if (ancestor.fingerprint === undefined) return cannot(`the dump of ${from} recorded no migration fingerprint`);
  const change = classifyFingerprintChange(ancestor.fingerprint, fingerprint);
  const engines = current === undefined ? undefined : engineChange(ancestor.engines, current);
  if (engines !== undefined && change.kind !== 'rewritten') return cannot(`the database engines changed since the dump of ${from} (${engines})`);
  switch (change.kind) {
    case 'unchanged':
      return { mode: 'incremental', reason: `no migration changed since ${from}`, ancestor, added: [] };
    case 'additions-only':
      if (change.addedBefore.length > 0) {
        return cannot(
          `${names(change.addedBefore)} ${change.addedBefore.length > 1 ? 'were' : 'was'} added since ${from}, numbered at or before migrations that dump already has ` +
            '(run after them incrementally, in their place from scratch: the dumps could differ)',
        );
      }
      return {
        mode: 'incremental',
        reason: `${plural(change.added.length, 'migration')} added since ${from}: ${names(change.added)}`,
        ancestor,
        added: change.added,
      };
    case 'rewritten': {
      const parts = [
        change.edited.length > 0 ? `edited ${names(change.edited)}` : '',
        change.removed.length > 0 ? `removed ${names(change.removed)}` : '',
      ].filter(Boolean);
      return cannot(`migrations changed since ${from}: ${parts.join('; ')}`);
    }
  }
}

const describeEngine = (engine: EngineInfo | undefined) => (engine ? `${engine.flavor} ${engine.version}` : 'none');

/**
 * How the servers this run dumped from differ from the ones the ancestor's dump came from (flavour or
 * version), or undefined when they match or the ancestor recorded no engines. A dump loaded across
 * engines can come out different from a full run on the new engine, so such a change needs a full run.
 */
export function engineChange(before: Engines | undefined, after: Engines): string | undefined {
  if (before === undefined) return undefined;
  const changes: string[] = [];
  for (const kind of ['mysql', 'mongo'] as const) {
    const old = before[kind];
    const now = after[kind];
    if (old === undefined || now === undefined) continue;
    if (old.flavor !== now.flavor || old.version !== now.version) changes.push(`${kind} ${describeEngine(old)} -> ${describeEngine(now)}`);
  }
  return changes.length > 0 ? changes.join(', ') : undefined;
}

/** After an incremental dump: keep it, or redo the run in full because the database engines changed. */
export function recheckAfterDump(decision: ModeDecision, requested: Mode, dumped: Engines): ModeDecision {
  if (decision.mode !== 'incremental') return decision;
  const changed = engineChange(decision.ancestor.engines, dumped);
  if (changed === undefined) return decision;
  const why = `the database engines changed since the dump of ${short(decision.ancestor.commit)} (${changed})`;
  if (requested === 'incremental') throw new InputError('mode', `\`incremental\` is impossible: ${why}; use \`auto\` or \`full\``);
  return { mode: 'full', reason: why };
}

/** The databases of each engine: a dump set's (from its files) or a run's (from its inputs; absent engine: undefined). */
export interface DatabaseSets {
  mysql: readonly string[] | undefined;
  mongo: readonly string[] | undefined;
}

/** The databases a dump set holds, from its manifest's files. */
export function databasesOfFiles(files: ReadonlyArray<{ kind: 'mysql' | 'mongo'; database: string }>): DatabaseSets {
  const of = (kind: 'mysql' | 'mongo') => {
    const names = [...new Set(files.filter((file) => file.kind === kind).map((file) => file.database))].sort();
    return names.length > 0 ? names : undefined;
  };
  return { mysql: of('mysql'), mongo: of('mongo') };
}

/**
 * How this run's engines and databases differ from the ancestor's dump, or undefined when they are the same.
 * Loading a dump of other databases would migrate the wrong ones (or fail on a missing server).
 */
export function databasesChange(ancestor: DatabaseSets, run: DatabaseSets): string | undefined {
  const changes: string[] = [];
  for (const [kind, engine] of [['mysql', 'MySQL'], ['mongo', 'MongoDB']] as const) {
    const before = ancestor[kind] ?? [];
    const now = [...(run[kind] ?? [])].sort();
    if (before.join('\0') === now.join('\0')) continue;
    const list = (names: readonly string[]) => (names.length > 0 ? names.join(', ') : 'none');
    changes.push(`${engine} databases ${list(before)} -> ${list(now)}`);
  }
  return changes.length > 0 ? changes.join('; ') : undefined;
}

/** After pulling the ancestor: keep an incremental decision, or fall back to full when the databases changed. */
export function recheckDatabases(decision: ModeDecision, requested: Mode, ancestor: DatabaseSets, run: DatabaseSets): ModeDecision {
  if (decision.mode !== 'incremental') return decision;
  const changed = databasesChange(ancestor, run);
  if (changed === undefined) return decision;
  const why = `the databases changed since the dump of ${short(decision.ancestor.commit)} (${changed})`;
  if (requested === 'incremental') throw new InputError('mode', `\`incremental\` is impossible: ${why}; use \`auto\` or \`full\``);
  return { mode: 'full', reason: why };
}
