import { compareNames } from './normalize-ddl.js';
import { sortRows, type DataTable, type RawRow } from './table-data.js';

/** A table whose surrogate id only records creation order, renumbered 1..n by its natural key. */
export interface RenumberRule {
  table: string;
  id: string;
  naturalKey: string[];
}

/** Django's creation-order tables: incrementally migrated and from-scratch databases then dump alike. */
export const DJANGO_RENUMBER_RULES: readonly RenumberRule[] = [
  { table: 'django_content_type', id: 'id', naturalKey: ['app_label', 'model'] },
  { table: 'auth_permission', id: 'id', naturalKey: ['content_type_id', 'codename'] },
  { table: 'django_migrations', id: 'id', naturalKey: ['app', 'name'] },
];

export interface ForeignKeyColumn {
  table: string;
  column: string;
  referencedTable: string;
  referencedColumn: string;
}

/**
 * The rules that apply (their table is dumped and has the columns), ordered so a table is renumbered after
 * the renumbered tables its natural key points at (auth_permission after django_content_type).
 */
export function applicableRules(rules: readonly RenumberRule[], tables: ReadonlyMap<string, DataTable>, fks: ForeignKeyColumn[]): RenumberRule[] {
  const usable = rules.filter((rule) => {
    const table = tables.get(rule.table);
    if (!table) return false;
    const names = new Set(table.columns.map((c) => c.name));
    return [rule.id, ...rule.naturalKey].every((c) => names.has(c)) && table.primaryKey.join() === rule.id;
  });
  const ordered: RenumberRule[] = [];
  const pending = [...usable].sort((a, b) => compareNames(a.table, b.table));
  while (pending.length > 0) {
    const index = pending.findIndex((rule) =>
      fks.every(
        (fk) =>
          fk.table !== rule.table ||
          !rule.naturalKey.includes(fk.column) ||
          !pending.some((other) => other !== rule && other.table === fk.referencedTable),
      ),
    );
    // A cycle between natural keys cannot be ordered; take the first by name (still deterministic).
    ordered.push(...pending.splice(index < 0 ? 0 : index, 1));
  }
  return ordered;
}

/**
 * Sorts rows by natural key (rows already carry remapped foreign keys), gives them ids 1..n and returns the
 * old -> new id map. Ties on the natural key fall back to the whole row so the order never depends on ids.
 */
export function renumberRows(table: DataTable, rows: RawRow[], rule: RenumberRule): Map<string, string> {
  const idIndex = table.columns.findIndex((c) => c.name === rule.id);
  sortRows(table, rows, [...rule.naturalKey, ...table.columns.map((c) => c.name).filter((name) => name !== rule.id)]);
  const mapping = new Map<string, string>();
  rows.forEach((row, i) => {
    const newId = String(i + 1);
    const old = row[idIndex];
    if (old) mapping.set(old.toString('latin1'), newId);
    row[idIndex] = Buffer.from(newId, 'latin1');
  });
  return mapping;
}
