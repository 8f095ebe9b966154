/**
 * Byte order of the UTF-8 strings: the same on every machine and locale (unlike localeCompare, whose first
 * call also loads ICU's collator, ~6 ms). Used for every ordering that ends up in stored documents or output.
 */
export const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

const RUNS = /[0-9]+|[^0-9]+/g;
const isDigits = (run: string) => run.charCodeAt(0) >= 0x30 && run.charCodeAt(0) <= 0x39;

/** Two runs of ASCII digits by value, however long (no number parsing, so no precision limit). */
export function numericOrder(a: string, b: string): number {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  return x.length - y.length || byteOrder(x, y);
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
