/**
 * Pure normalisation of `SHOW CREATE ...` output, so the same schema gives the same bytes on every run:
 * no AUTO_INCREMENT counters, no version comments, no DEFINER, no creation-time STARTS of events, indexes
 * and constraints in name order, no database qualifier in trigger headers. Quoted text is never rewritten.
 * Anything else is kept as the server spelled it (the .sql file must reload on the same flavour).
 */

import { lexStatement, type LexMode, type Token } from './sql-lexer.js';

/** A user or host of a DEFINER clause: quoted (`..`, '..', ".." under ANSI_QUOTES) or bare. */
const ACCOUNT_PART = '(?:`(?:[^`]|``)*`|\'(?:[^\'\\\\]|\\\\.|\'\')*\'|"(?:[^"\\\\]|\\\\.|"")*"|[^\\s@`\'"]+)';
/** `DEFINER = user[@host]` and the blanks after it, at a given position (MariaDB prints a role without a host). */
const DEFINER = new RegExp(`DEFINER\\s*=\\s*${ACCOUNT_PART}(?:@${ACCOUNT_PART})?\\s+`, 'iy');

/**
 * Removes the `DEFINER=user@host` clause between `CREATE` and the object keyword. The head is read word by
 * word, skipping quoted text, so a quoted user or host that spells a keyword (`view.example.com`, `function`)
 * is never taken for the object keyword.
 */
export function removeDefiner(ddl: string, objectKeyword: 'VIEW' | 'TRIGGER' | 'PROCEDURE' | 'FUNCTION' | 'EVENT'): string {
  let i = 0;
  while (i < ddl.length) {
    const c = ddl[i]!;
    if (c === '`' || c === "'" || c === '"') {
      let j = i + 1;
      while (j < ddl.length && !(ddl[j] === c && ddl[j + 1] !== c)) j += ddl[j] === c || (ddl[j] === '\\' && c !== '`') ? 2 : 1;
      i = j + 1;
      continue;
    }
    const word = /[A-Za-z_]+/y;
    word.lastIndex = i;
    const w = /[A-Za-z0-9_$]/.test(c) ? word.exec(ddl) : null;
    if (!w) {
      i++;
      continue;
    }
    const upper = w[0].toUpperCase();
    if (upper === objectKeyword) return ddl;
    if (upper === 'DEFINER') {
      DEFINER.lastIndex = i;
      const clause = DEFINER.exec(ddl);
      if (clause) return ddl.slice(0, i) + ddl.slice(i + clause[0].length);
    }
    i += w[0].length || 1;
  }
  return ddl;
}

/**
 * Splits SQL text into code and quoted parts ('...', "...", `...`), so rewrites never touch a string or an
 * identifier (a COMMENT may contain `/*!50100 x *\/` or `AUTO_INCREMENT=5`). Backslash escapes as the server
 * prints them; `''` simply closes and reopens the quote.
 */
export function splitQuoted(text: string): { code: boolean; text: string }[] {
  const parts: { code: boolean; text: string }[] = [];
  let from = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== "'" && c !== '"' && c !== '`') {
      i++;
      continue;
    }
    if (i > from) parts.push({ code: true, text: text.slice(from, i) });
    let j = i + 1;
    while (j < text.length && text[j] !== c) j += text[j] === '\\' && c !== '`' ? 2 : 1;
    parts.push({ code: false, text: text.slice(i, j + 1) });
    from = i = j + 1;
  }
  if (from < text.length) parts.push({ code: true, text: text.slice(from) });
  return parts;
}

/** Applies `rewrite` to the code parts of `text` only (see splitQuoted). */
export function rewriteCode(text: string, rewrite: (code: string) => string): string {
  return splitQuoted(text)
    .map((p) => (p.code ? rewrite(p.text) : p.text))
    .join('');
}

/** `/*!50100 PARTITION BY ... *\/` -> `PARTITION BY ...` (the dump targets the flavour that wrote it); quoted text is left alone. */
export function unwrapVersionComments(ddl: string): string {
  let open = 0;
  return rewriteCode(ddl, (code) =>
    code.replace(/\/\*!\d{5,6} ?| ?\*\//g, (token) => {
      if (token.startsWith('/')) {
        open++;
        return '';
      }
      if (open === 0) return token; // a plain comment's end
      open--;
      return '';
    }),
  );
}

/** The lines of a CREATE TABLE body that define indexes (`  PRIMARY KEY`, `  UNIQUE KEY`, `  KEY`, ...). */
const INDEX_LINE = /^ {2}(?:PRIMARY|UNIQUE|FULLTEXT|SPATIAL|VECTOR)? ?(?:KEY|INDEX) /;
const CONSTRAINT_LINE = /^ {2}CONSTRAINT /;

/** Sort key of a definition line: its first quoted identifier (the index or constraint name). */
const definitionName = (line: string) => /`((?:[^`]|``)*)`/.exec(line)?.[1] ?? '';

/**
 * Puts index and constraint definitions in a fixed order: the server lists them in creation order (within
 * its own key categories), so a database migrated step by step and one created from scratch would differ
 * in bytes while their schema is equal. PRIMARY KEY first, other indexes by name, then constraints (foreign
 * keys, checks) by name; the server re-sorts on reload, and the next dump sorts the same way again.
 */
function sortDefinitions(body: string[]): string[] {
  // Every line but the last ends with the separating comma (the last may end with a quoted ',').
  const lines = body.map((l, i) => (i < body.length - 1 ? l.replace(/,$/, '') : l));
  const columns = lines.filter((l) => !INDEX_LINE.test(l) && !CONSTRAINT_LINE.test(l));
  // Anything unrecognised after the first index line (future syntax): keep the server's order.
  const firstDefinition = lines.findIndex((l) => INDEX_LINE.test(l) || CONSTRAINT_LINE.test(l));
  if (firstDefinition < 0 || columns.some((l) => lines.indexOf(l) > firstDefinition)) return body;
  const byName = (a: string, b: string) => compareNames(definitionName(a), definitionName(b)) || compareNames(a, b);
  const indexes = lines.filter((l) => INDEX_LINE.test(l));
  const primary = indexes.filter((l) => l.startsWith('  PRIMARY KEY'));
  const others = indexes.filter((l) => !l.startsWith('  PRIMARY KEY')).sort(byName);
  const constraints = lines.filter((l) => CONSTRAINT_LINE.test(l)).sort(byName);
  const all = [...columns, ...primary, ...others, ...constraints];
  return all.map((l, i) => (i < all.length - 1 ? `${l},` : l));
}

/** Normalises `SHOW CREATE TABLE` text (column 2 of its result). */
export function normalizeCreateTable(ddl: string): string {
  const text = unwrapVersionComments(ddl.replace(/\r\n/g, '\n')).trimEnd();
  // Table options follow the closing parenthesis of the column list: the last line starting with ')'.
  const optionsAt = text.lastIndexOf('\n)');
  const dropCounter = (s: string) => rewriteCode(s, (code) => code.replace(/ AUTO_INCREMENT=\d+/, ''));
  if (optionsAt < 0) return dropCounter(text);
  const lineEnd = text.indexOf('\n', optionsAt + 1);
  const end = lineEnd < 0 ? text.length : lineEnd;
  const options = dropCounter(text.slice(optionsAt, end));
  const bodyAt = text.indexOf('(\n');
  if (bodyAt < 0 || bodyAt > optionsAt) return text.slice(0, optionsAt) + options + text.slice(end);
  const body = sortDefinitions(text.slice(bodyAt + 2, optionsAt).split('\n'));
  return text.slice(0, bodyAt + 2) + body.join('\n') + options + text.slice(end);
}

/** Normalises `SHOW CREATE VIEW` text. */
export function normalizeCreateView(ddl: string): string {
  return unwrapVersionComments(removeDefiner(ddl.trim(), 'VIEW'));
}

/** One identifier: backquoted (with `` inside) or bare. */
const IDENT = '(?:`(?:[^`]|``)+`|[A-Za-z0-9_$\\u0080-\\uffff]+)';
const unquote = (ident: string) => (ident.startsWith('`') ? ident.slice(1, -1).replace(/``/g, '`') : ident);

/**
 * Normalises the `SQL Original Statement` of `SHOW CREATE TRIGGER`. It is the creator's text: a trigger created
 * as `CREATE TRIGGER db.trg ... ON db.t` keeps `db`, which would recreate it in that database (or fail) when
 * the dump is loaded under another name. Both qualifiers can only name the trigger's own database: drop them.
 */
export function normalizeCreateTrigger(ddl: string): string {
  const text = removeDefiner(ddl.trim(), 'TRIGGER');
  const header = new RegExp(
    `^(CREATE\\s+(?:OR\\s+REPLACE\\s+)?TRIGGER\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?)(?:${IDENT}\\s*\\.\\s*)?(${IDENT})` +
      `(\\s+(?:BEFORE|AFTER)\\s+[A-Z\\s]*?\\bON\\s+)(?:${IDENT}\\s*\\.\\s*)?(${IDENT})(?=\\s)`,
    'i',
  );
  return text.replace(header, '$1$2$3$4');
}

/** Normalises `SHOW CREATE PROCEDURE` / `SHOW CREATE FUNCTION` text. */
export function normalizeCreateRoutine(ddl: string, kind: 'PROCEDURE' | 'FUNCTION'): string {
  return removeDefiner(ddl.trim(), kind);
}

/**
 * A stored program's text without the `;` MySQL 8+ can keep at its end. A routine, trigger or event created
 * in a multi-statement query, with more statements after it, comes back from SHOW CREATE with the `;` that
 * ended it (`RETURN 1;`, `SELECT 1 -- note\n  ;`); created alone, or on MariaDB, it has none. The `;` is no
 * part of the body, only of how the migration sent it: dropped (with the spaces before it), so the dump is
 * the same however the program was created, and the load's check does not read it as a second statement.
 * Only a last `;` with nothing but spaces after it goes.
 */
export function dropFinalSemicolon(ddl: string, sqlMode = ''): string {
  const { tokens } = lexStatement(ddl, lexModeOf(sqlMode));
  const last = tokens[tokens.length - 1];
  if (tokens.length < 2 || last?.kind !== 'punct' || last.text !== ';' || ddl.slice(last.to).trim() !== '') return ddl;
  return ddl.slice(0, last.at).trimEnd();
}

/** How the server reads quotes under a program's recorded sql_mode. */
export function lexModeOf(sqlMode: string): LexMode {
  const modes = sqlMode.toUpperCase().split(',');
  return {
    known: true,
    noBackslashEscapes: modes.includes('NO_BACKSLASH_ESCAPES'),
    ansiQuotes: modes.some((m) => ['ANSI_QUOTES', 'ANSI', 'DB2', 'MAXDB', 'POSTGRESQL', 'ORACLE', 'MSSQL'].includes(m)),
  };
}

/**
 * The first `database.x` reference in the code of a stored program (strings and comments skipped), or
 * undefined. A two-part `database.x` is ambiguous when a table (or alias) has the database's name: then only
 * three-part references count. Such a reference cannot be rewritten safely (a table alias may share the name),
 * so the dump refuses the object instead. Read with the load's lexer (sql-lexer.ts, under the program's
 * sql_mode), so a quote inside a comment (`-- don't`) cannot shift what counts as a string; it throws
 * Refusal for text the load would refuse.
 */
export function findDatabaseReference(ddl: string, database: string, ambiguousTwoPart = false, sqlMode = ''): string | undefined {
  const { tokens } = lexStatement(ddl, lexModeOf(sqlMode));
  const isName = (t: Token | undefined) => t?.kind === 'word' || t?.kind === 'ident';
  const isDot = (t: Token | undefined) => t?.kind === 'punct' && t.text === '.';
  for (let k = 0; k < tokens.length; k++) {
    const first = tokens[k]!;
    if (!isName(first) || isDot(tokens[k - 1])) continue;
    let last = k;
    while (isDot(tokens[last + 1]) && isName(tokens[last + 2])) last += 2;
    if (last === k) continue;
    const name = first.kind === 'ident' ? first.text : ddl.slice(first.at, first.to);
    const parts = (last - k) / 2 + 1;
    if (name === database && !/^\d+$/.test(name) && (parts >= 3 || !ambiguousTwoPart)) return ddl.slice(first.at, tokens[last]!.to);
    k = last;
  }
  return undefined;
}

/**
 * Normalises `SHOW CREATE EVENT` text. A recurring event created without STARTS gets the creation time as
 * its start, which would change the bytes on every migration run, so that STARTS is dropped (the reloaded
 * event starts when it is loaded); `implicitStarts: false` (the STARTS is not the creation time: it was given)
 * keeps it. With an ENDS the implicit STARTS becomes the fixed `STARTS '2000-01-01 00:00:00'`: dropped, a load
 * after the ENDS has passed would fail (ENDS before a STARTS of load time), and kept, the bytes would record
 * when migrations ran; a reloaded event keeps that STARTS (it is no creation time), so the bytes stay the
 * same. `AT '...'` and `ENDS '...'` are always kept. The schedule is
 * found after the event's name (which may contain ` DO `) and before `ON COMPLETION`, which SHOW CREATE
 * EVENT always prints.
 */
/** The STARTS an event with an ENDS and an implicit (creation-time) STARTS is dumped with. */
export const FIXED_STARTS = '2000-01-01 00:00:00';

export function normalizeCreateEvent(ddl: string, implicitStarts = true): string {
  const text = removeDefiner(ddl.trim(), 'EVENT');
  if (!implicitStarts) return text;
  const name = new RegExp(`^CREATE\\s+(?:OR\\s+REPLACE\\s+)?EVENT\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?(?:${IDENT}\\s*\\.\\s*)?${IDENT}`, 'i').exec(text);
  const from = name ? name[0].length : 0;
  const completion = /\sON\s+COMPLETION\s/i.exec(text.slice(from));
  const cut = completion ? from + completion.index : text.length;
  const schedule = text.slice(from, cut);
  const fixed = /\sENDS\s+'/i.test(schedule) ? ` STARTS '${FIXED_STARTS}'` : '';
  return text.slice(0, from) + schedule.replace(/\s+STARTS\s+'[^']*'/i, fixed) + text.slice(cut);
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
 * Orders views so each comes after the views it selects from (ties by name). `definitions` are the views'
 * fully qualified texts (information_schema.VIEWS.VIEW_DEFINITION), where a table reference is always
 * `database`.`name` and a column `database`.`table`.`column` or `alias`.`column`: only a two-part chain that
 * starts with the database and is not followed by a third part is a reference, so column aliases (`AS
 * \`balance\``), table aliases and string literals never make false edges. A genuine cycle (possible
 * through ALTER VIEW; such views cannot be queried) is broken where the depth-first walk in name order
 * meets it: one fixed order whatever order the views came in.
 */
export function orderViews(definitions: ReadonlyMap<string, string>, database: string): string[] {
  const names = [...definitions.keys()].sort(compareNames);
  const chain = new RegExp(`(?<![\\w$\\u0080-\\uffff.\`])${IDENT}(?:\\s*\\.\\s*${IDENT})+`, 'g');
  const dependsOn = new Map<string, Set<string>>();
  for (const name of names) {
    const refs = new Set<string>();
    const code = splitQuoted(definitions.get(name) ?? '')
      .map((p) => (p.code || p.text.startsWith('`') ? p.text : "''"))
      .join('');
    for (const match of code.matchAll(chain)) {
      const parts = match[0].match(new RegExp(IDENT, 'g'))!.map(unquote);
      if (parts.length !== 2 || parts[0] !== database) continue;
      const ref = parts[1]!;
      if (ref !== name && definitions.has(ref)) refs.add(ref);
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
