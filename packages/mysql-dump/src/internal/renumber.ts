import { compareNames } from './normalize-ddl.js';
import { remapRow, sortRows, type DataTable, type RawRow } from './table-data.js';

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

/**
 * Renumbers the rule tables' rows (`rowsPerRule[i]` read for `rules[i]`, in applicableRules order) and sets,
 * on every dumped table with a foreign key to a renumbered id, the old -> new map its rows are written with
 * (`table.remap`). A rule table's rows are remapped by the renumbering of the tables before it, before its own
 * sort; a foreign key outside its natural key may point at a table renumbered after it (nothing orders those),
 * so such columns are remapped once all tables are renumbered. Returns the rule tables' rows, ready to write.
 */
export function renumberTables(rules: readonly RenumberRule[], tables: ReadonlyMap<string, DataTable>, fks: readonly ForeignKeyColumn[], rowsPerRule: RawRow[][]): Map<string, RawRow[]> {
  const held = new Map<string, { rows: RawRow[]; remapped: Set<string> }>();
  rules.forEach((rule, i) => {
    const table = tables.get(rule.table)!;
    const remapped = new Set(table.remap.keys());
    const rows = rowsPerRule[i]!.map((row) => remapRow(table, row));
    const mapping = renumberRows(table, rows, rule);
    held.set(rule.table, { rows, remapped });
    for (const fk of fks) {
      if (fk.referencedTable === rule.table && fk.referencedColumn === rule.id) tables.get(fk.table)?.remap.set(fk.column, mapping);
    }
  });
  const ready = new Map<string, RawRow[]>();
  for (const [name, { rows, remapped }] of held) {
    const table = tables.get(name)!;
    // Only the maps set after this table's rows were remapped: a value must never be mapped twice.
    const late = new Map([...table.remap].filter(([column]) => !remapped.has(column)));
    if (late.size > 0) for (const row of rows) remapRow({ ...table, remap: late }, row);
    ready.set(name, rows);
  }
  return ready;
}
