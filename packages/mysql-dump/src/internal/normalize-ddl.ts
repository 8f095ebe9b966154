/**
 * Pure normalisation of `SHOW CREATE ...` output, so the same schema gives the same bytes on every run:
 * no AUTO_INCREMENT counters, no version comments, no DEFINER, no creation-time STARTS of events.
 * Anything else is kept as the server spelled it (the .sql file must reload on the same flavour).
 */

const DEFINER = /DEFINER\s*=\s*(?:`(?:[^`]|``)*`|'(?:[^'\\]|\\.|'')*'|[^\s@]+)@(?:`(?:[^`]|``)*`|'(?:[^'\\]|\\.|'')*'|[^\s]+)\s+/;

/** Removes the `DEFINER=user@host` clause between `CREATE` and the object keyword. */
export function removeDefiner(ddl: string, objectKeyword: 'VIEW' | 'TRIGGER' | 'PROCEDURE' | 'FUNCTION' | 'EVENT'): string {
  const keywordAt = new RegExp(`\\b${objectKeyword}\\b`, 'i').exec(ddl);
  if (!keywordAt) return ddl;
  const head = ddl.slice(0, keywordAt.index);
  return head.replace(DEFINER, '') + ddl.slice(keywordAt.index);
}

/** `/*!50100 PARTITION BY ... *\/` -> `PARTITION BY ...` (the dump targets the flavour that wrote it). */
export function unwrapVersionComments(ddl: string): string {
  return ddl.replace(/\/\*!\d{5,6} ?([\s\S]*?) ?\*\//g, '$1');
}

/** Normalises `SHOW CREATE TABLE` text (column 2 of its result). */
export function normalizeCreateTable(ddl: string): string {
  const text = unwrapVersionComments(ddl.replace(/\r\n/g, '\n')).trimEnd();
  // Table options follow the closing parenthesis of the column list: the last line starting with ')'.
  const optionsAt = text.lastIndexOf('\n)');
  if (optionsAt < 0) return text.replace(/ AUTO_INCREMENT=\d+/, '');
  const lineEnd = text.indexOf('\n', optionsAt + 1);
  const end = lineEnd < 0 ? text.length : lineEnd;
  const options = text.slice(optionsAt, end).replace(/ AUTO_INCREMENT=\d+/, '');
  return text.slice(0, optionsAt) + options + text.slice(end);
}

/** Normalises `SHOW CREATE VIEW` text. */
export function normalizeCreateView(ddl: string): string {
  return unwrapVersionComments(removeDefiner(ddl.trim(), 'VIEW'));
}

/** Normalises the `SQL Original Statement` of `SHOW CREATE TRIGGER`. */
export function normalizeCreateTrigger(ddl: string): string {
  return removeDefiner(ddl.trim(), 'TRIGGER');
}

/** Normalises `SHOW CREATE PROCEDURE` / `SHOW CREATE FUNCTION` text. */
export function normalizeCreateRoutine(ddl: string, kind: 'PROCEDURE' | 'FUNCTION'): string {
  return removeDefiner(ddl.trim(), kind);
}

/**
 * Normalises `SHOW CREATE EVENT` text. A recurring event created without STARTS gets the creation time as
 * its start, which would change the bytes on every migration run, so the STARTS of the schedule is dropped
 * (the reloaded event starts when it is loaded). `AT '...'` and `ENDS '...'` are kept: they are explicit.
 */
export function normalizeCreateEvent(ddl: string): string {
  const text = removeDefiner(ddl.trim(), 'EVENT');
  const scheduleEnd = /\s(ON\s+COMPLETION|ENABLE|DISABLE|COMMENT|DO)\s/i.exec(text);
  const cut = scheduleEnd ? scheduleEnd.index : text.length;
  const schedule = text.slice(0, cut).replace(/\s+STARTS\s+'[^']*'/i, '');
  return schedule + text.slice(cut);
}

/** A statement delimiter (for the `DELIMITER` client command) that does not occur in `body`. */
export function chooseDelimiter(body: string): string {
  for (const candidate of [';;', '$$', '//', ';;;', '$$$', '///']) {
    if (!body.includes(candidate)) return candidate;
  }
  let delimiter = ';;;;';
  while (body.includes(delimiter)) delimiter += ';';
  return delimiter;
}

/**
 * Orders views so each comes after the views it selects from (ties by name). References are found as
 * backquoted identifiers in the normalised definitions, which SHOW CREATE VIEW always quotes; a false edge
 * (a column alias named like a view) can only add an ordering constraint; a (false) cycle is broken where the
 * depth-first walk in name order meets it, which gives one fixed order whatever order the views came in.
 */
export function orderViews(views: ReadonlyMap<string, string>): string[] {
  const names = [...views.keys()].sort(compareNames);
  const dependsOn = new Map<string, Set<string>>();
  for (const name of names) {
    const definition = views.get(name) ?? '';
    const body = definition.slice(definition.search(/\bAS\b/i) + 2);
    const refs = new Set<string>();
    for (const match of body.matchAll(/`((?:[^`]|``)+)`/g)) {
      const ref = match[1]!.replace(/``/g, '`');
      if (ref !== name && views.has(ref)) refs.add(ref);
    }
    dependsOn.set(name, refs);
  }
  const ordered: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (name: string): void => {
    if (done.has(name) || visiting.has(name)) return;
    visiting.add(name);
    for (const ref of [...(dependsOn.get(name) ?? [])].sort(compareNames)) visit(ref);
    visiting.delete(name);
    done.add(name);
    ordered.push(name);
  };
  for (const name of names) visit(name);
  return ordered;
}

/** Code-unit order: the same on every machine and locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
