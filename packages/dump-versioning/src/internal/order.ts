/**
 * Byte order of the UTF-8 strings: the same on every machine and locale (unlike localeCompare, whose first
 * call also loads ICU's collator, ~6 ms). Used for every ordering that ends up in stored documents or output.
 */
export const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

const RUNS = /[0-9]+|[^0-9]+/g;
const isDigits = (run: string) => run.charCodeAt(0) >= 0x30 && run.charCodeAt(0) <= 0x39;

/** Two runs of ASCII digits by value, however long (no number parsing, so no precision limit). */
function numericOrder(a: string, b: string): number {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  return x.length - y.length || byteOrder(x, y);
}

/**
 * The version a migration's name starts with, as its numbers (Django `0002_add_b` -> [2], Knex
 * `20260102120000_x` -> [20260102120000], Laravel `2024_01_01_000000_x` -> [2024, 1, 1, 0], Flyway
 * `V2_5__x` -> [2, 5]), or undefined for a name that has none: Alembic's hex revision ids, Flyway's
 * repeatable `R__x`. Digit runs stay strings (compared by value by compareVersions: no precision limit).
 */
export function migrationVersion(name: string): string[] | undefined {
  const match = /^V?(\d+(?:[._]\d+)*)(?=[_\-.]|$)/.exec(name);
  if (!match) return undefined;
  // `V` is Flyway's only: a Django name starting with `V` is not one of its numbered migrations.
  if (name.startsWith('V') && !/^V[\d._]+__/.test(name)) return undefined;
  return match[1]!.split(/[._]/);
}

/** Two versions from migrationVersion, number by number; a prefix comes first ([2] before [2, 5]). */
export function compareVersions(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = numericOrder(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/**
 * Numeric-aware order for people: runs of digits compare by value, everything else in byte order, so
 * Flyway's `V4__y` comes before `V10__x`. Names equal but for leading zeros (`V01`, `V1`) fall back to byte
 * order, so the order is total and the same on every machine and locale. For display only: fingerprints,
 * versions and stored documents keep byteOrder.
 */
export function naturalOrder(a: string, b: string): number {
  const left = a.match(RUNS) ?? [];
  const right = b.match(RUNS) ?? [];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i]!;
    const y = right[i]!;
    const order = isDigits(x) && isDigits(y) ? numericOrder(x, y) : byteOrder(x, y);
    if (order !== 0) return order;
  }
  return left.length - right.length || byteOrder(a, b);
}
