import { checkProgramBody } from './program-body.js';
import { Refusal, checkInsertRows, lexStatement, type LexMode, type Token } from './sql-lexer.js';
import { classifyStatement, type StatementKind } from './statement-runner.js';

/**
 * The statements a dump file may contain: exactly the shapes `dumpMysql` writes (ddl-reader.ts render*,
 * table-data.ts InsertWriter, the SHOW CREATE output normalize-ddl.ts leaves). Everything else is refused
 * before anything of the file runs, so a dump set written by someone else cannot run arbitrary SQL on the
 * server it is loaded into. Statements are read with the server's own tokenization (sql-lexer.ts):
 *
 * - `SET NAMES utf8mb4`; `SET [SESSION] v = x, ...` of the session settings a dump writes: TIME_ZONE (a
 *   zone name string), FOREIGN_KEY_CHECKS / UNIQUE_CHECKS (0 or 1), SQL_MODE (a string of known modes),
 *   character_set_client (a known ASCII-compatible character set) and collation_connection;
 * - `ALTER DATABASE CHARACTER SET cs COLLATE coll [COMMENT 'text']` (the database being loaded: no name);
 * - `CREATE TABLE name (...) options` (name unqualified; no `AS SELECT`/`LIKE`, no DATA/INDEX DIRECTORY,
 *   CONNECTION, a MERGE table's UNION only of unqualified names, an ordinary storage engine);
 * - `INSERT INTO name (columns) VALUES (literals), ...` (literals only: numbers, strings, X'..', NULL);
 * - `CREATE [ALGORITHM=..] [SQL SECURITY ..] VIEW name [(columns)] AS ...`;
 * - `CREATE PROCEDURE|[AGGREGATE] FUNCTION name (...) [RETURNS type] characteristics body`,
 *   `CREATE [OR REPLACE] TRIGGER [IF NOT EXISTS] name {BEFORE|AFTER} event ON table FOR EACH ROW
 *   [{FOLLOWS|PRECEDES} name] body` and `CREATE EVENT name ON SCHEDULE {AT|EVERY} ... DO body`.
 *
 * Never: `/*!` or `/*M!` comments (the server runs them), database-qualified names, SONAME, OUTFILE,
 * DUMPFILE, `;` ending a statement early (the rest would run as statements of their own). The SQL inside
 * a view or a stored program's body is not inspected beyond that: it is loaded as written.
 */

export interface AllowedStatement {
  kind: StatementKind;
}

/** Character sets whose bytes below 0x80 are ASCII to the server's lexer (with ASCII-only statements). */
const CLIENT_CHARSETS = new Set(
  ('ascii latin1 latin2 latin5 latin7 cp1250 cp1251 cp1256 cp1257 cp850 cp852 cp866 koi8r koi8u greek hebrew armscii8 geostd8 ' +
    'keybcs2 macce macroman dec8 hp8 tis620 gbk gb2312 gb18030 big5 sjis cp932 ujis eucjpms euckr binary').split(' '),
);
const UTF8 = new Set(['UTF8', 'UTF8MB3', 'UTF8MB4']);
/** sql_mode names of MySQL 5.7-8.4 and MariaDB, except MariaDB's ORACLE and MSSQL, which change the grammar. */
const SQL_MODES = new Set(
  ('ALLOW_INVALID_DATES ANSI ANSI_QUOTES DB2 EMPTY_STRING_IS_NULL ERROR_FOR_DIVISION_BY_ZERO HIGH_NOT_PRECEDENCE IGNORE_BAD_TABLE_OPTIONS ' +
    'IGNORE_SPACE MAXDB MYSQL323 MYSQL40 NO_AUTO_CREATE_USER NO_AUTO_VALUE_ON_ZERO NO_BACKSLASH_ESCAPES NO_DIR_IN_CREATE ' +
    'NO_ENGINE_SUBSTITUTION NO_FIELD_OPTIONS NO_KEY_OPTIONS NO_TABLE_OPTIONS NO_UNSIGNED_SUBTRACTION NO_ZERO_DATE NO_ZERO_IN_DATE ' +
    'ONLY_FULL_GROUP_BY PAD_CHAR_TO_FULL_LENGTH PIPES_AS_CONCAT POSTGRESQL REAL_AS_FLOAT SIMULTANEOUS_ASSIGNMENT STRICT_ALL_TABLES ' +
    'STRICT_TRANS_TABLES TIME_ROUND_FRACTIONAL TIME_TRUNCATE_FRACTIONAL TRADITIONAL').split(' '),
);
/** Modes that turn ANSI_QUOTES on. */
const ANSI_QUOTES_MODES = new Set(['ANSI_QUOTES', 'ANSI', 'DB2', 'MAXDB', 'POSTGRESQL']);
const ENGINES = new Set(['INNODB', 'MYISAM', 'ARIA', 'MEMORY', 'HEAP', 'ARCHIVE', 'CSV', 'BLACKHOLE', 'ROCKSDB', 'TOKUDB', 'MRG_MYISAM', 'MERGE', 'NDBCLUSTER', 'NDB']);
/** Words refused anywhere in a statement outside quotes: files on the server, shared libraries. */
const NEVER = new Map([
  ['SONAME', 'SONAME (a shared library loaded into the server)'],
  ['OUTFILE', 'INTO OUTFILE (a file written on the server)'],
  ['DUMPFILE', 'INTO DUMPFILE (a file written on the server)'],
]);
/** In CREATE TABLE: a copy of other data, files outside the data directory, other servers' or databases' tables. */
const NEVER_IN_TABLE = new Map([
  ['SELECT', 'CREATE TABLE ... SELECT'],
  ['DIRECTORY', 'DATA/INDEX DIRECTORY (files outside the data directory)'],
  ['CONNECTION', 'a CONNECTION table option (a table on another server)'],
  ['UNION', 'a UNION table option naming tables of another database (tables of a MERGE table)'],
]);

const isWord = (t: Token | undefined, ...words: string[]) => t?.kind === 'word' && words.includes(t.text);
const isPunct = (t: Token | undefined, p: string) => t?.kind === 'punct' && t.text === p;
const stringValue = (t: Token | undefined) => (t?.kind === 'string' && t.text.startsWith("'") ? t.text.slice(1, -1) : undefined);

/** Reads one statement's tokens left to right; each `expect` refuses with `what` when the text differs. */
class Reader {
  i = 0;
  constructor(readonly tokens: Token[]) {}
  peek(k = 0) {
    return this.tokens[this.i + k];
  }
  next() {
    return this.tokens[this.i++];
  }
  take(...words: string[]): boolean {
    if (!isWord(this.peek(), ...words)) return false;
    this.i++;
    return true;
  }
  expect(words: string[], what: string): string {
    const t = this.next();
    if (!isWord(t, ...words)) throw new Refusal(what);
    return t!.text;
  }
  punct(p: string, what: string): void {
    if (!isPunct(this.next(), p)) throw new Refusal(what);
  }
  /** A plain name: a character set, a collation, a type, an interval unit. */
  word(what: string): string {
    const t = this.next();
    if (t?.kind !== 'word' || !/^\w+$/.test(t.text)) throw new Refusal(what);
    return t.text;
  }
  /** An object name in the loaded database: unqualified. */
  name(what: string): void {
    const t = this.next();
    if (t?.kind !== 'word' && t?.kind !== 'ident') throw new Refusal(`${what} without a name`);
    if (isPunct(this.peek(), '.')) throw new Refusal(`a database-qualified name (\`${t.text}.…\`) in ${what}`);
  }
  /** Skips a parenthesised group starting at the current `(`. */
  group(what: string): void {
    this.punct('(', what);
    for (let depth = 1; depth > 0; ) {
      const t = this.next();
      if (!t) throw new Refusal(`${what}: unbalanced parentheses`);
      if (isPunct(t, ';')) throw new Refusal('a `;` inside a statement (what follows would run as a statement of its own)');
      if (isPunct(t, '(')) depth++;
      else if (isPunct(t, ')')) depth--;
    }
  }
  done(what: string): void {
    if (this.i < this.tokens.length) throw new Refusal(what);
  }
}

/**
 * Checks a dump file's statements in file order; `check` throws Refusal for one not in the allowlist.
 * It follows the file's SQL_MODE (how quotes read) and client character set (non-UTF-8: ASCII-only text).
 */
export class StatementAllowlist {
  private readonly mode: LexMode = { known: false, noBackslashEscapes: false, ansiQuotes: false };
  private asciiOnly = false;

  check(text: string): AllowedStatement {
    if (this.asciiOnly && /[^\x00-\x7f]/.test(text)) throw new Refusal('non-ASCII text under a non-UTF-8 client character set');
    // An INSERT is read as tokens up to VALUES only; its rows (most of a data file) are scanned as literals.
    const insert = /^INSERT\s/i.test(text);
    const { tokens, comments, end, trailingLineComment } = lexStatement(text, this.mode, insert ? 'VALUES' : undefined);
    for (const t of tokens) {
      const never = t.kind === 'word' ? NEVER.get(t.text) : undefined;
      if (never) throw new Refusal(never);
    }
    const r = new Reader(tokens);
    const first = r.next();
    let kind: StatementKind = 'ordered';
    let object: 'view' | 'program' | undefined;
    if (isWord(first, 'SET')) kind = this.checkSet(r);
    else if (isWord(first, 'INSERT') && insert) {
      kind = checkInsert(r);
      checkInsertRows(text, end, this.mode, INSERT_SHAPE);
    } else if (isWord(first, 'ALTER')) checkAlterDatabase(r);
    else if (isWord(first, 'CREATE')) {
      if (r.take('TABLE')) kind = checkCreateTable(r);
      else {
        // The server's sql_mode until then could be MariaDB's ORACLE, another grammar for stored programs.
        if (!this.mode.known) throw new Refusal('a view or stored program before the file sets SQL_MODE');
        object = checkCreateObject(r);
      }
    } else throw new Refusal(`a statement of a kind devstack-dumps never writes (${first ? first.text : 'empty'})`);
    const program = object === 'program';
    // Only a stored program's body can end in a line comment (the dump puts its delimiter on the next line).
    if (trailingLineComment && !program) throw new Refusal('a comment at its end (the next statement would be read as part of it)');
    // Comments can be part of a stored program's text, a view's optimizer hints or (MariaDB's
    // `/* mariadb-5.3 */`) SHOW CREATE TABLE output; never of what the dump writes itself.
    if (comments && object === undefined && kind !== 'create-table') throw new Refusal('a comment inside a statement');
    if (!program && tokens.some((t) => isPunct(t, ';'))) throw new Refusal('a `;` inside a statement (what follows would run as a statement of its own)');
    // The runner schedules by the text's first words: it must see the statement kind checked here.
    if (classifyStatement(text) !== kind) throw new Refusal('a statement spelled unlike a dump writes it');
    return { kind };
  }

  private checkSet(r: Reader): StatementKind {
    const what = 'a SET of something other than the session settings a dump writes';
    if (r.take('NAMES')) {
      r.expect(['UTF8MB4'], what);
      r.done(what);
      this.asciiOnly = false;
      return 'setting';
    }
    r.take('SESSION');
    const effects: (() => void)[] = [];
    do {
      const variable = r.expect(['TIME_ZONE', 'FOREIGN_KEY_CHECKS', 'UNIQUE_CHECKS', 'SQL_MODE', 'CHARACTER_SET_CLIENT', 'COLLATION_CONNECTION'], what);
      r.punct('=', what);
      const value = r.next();
      if (variable === 'FOREIGN_KEY_CHECKS' || variable === 'UNIQUE_CHECKS') {
        if (value?.kind !== 'number' || !/^[01]$/.test(value.text)) throw new Refusal(`${variable} set to something other than 0 or 1`);
      } else if (variable === 'TIME_ZONE') {
        if (!/^[\w+\-:/]*$/.test(stringValue(value) ?? '\\')) throw new Refusal('TIME_ZONE set to something other than a time zone name');
      } else if (variable === 'SQL_MODE') {
        const modes = stringValue(value);
        const names = modes ? modes.toUpperCase().split(',') : [];
        if (modes === undefined || names.some((m) => !SQL_MODES.has(m))) throw new Refusal('SQL_MODE set to something other than a list of known modes');
        effects.push(() => {
          this.mode.known = true;
          this.mode.noBackslashEscapes = names.includes('NO_BACKSLASH_ESCAPES');
          this.mode.ansiQuotes = names.some((m) => ANSI_QUOTES_MODES.has(m));
        });
      } else if (variable === 'CHARACTER_SET_CLIENT') {
        const charset = value?.kind === 'word' ? value.text : '';
        if (!UTF8.has(charset) && !CLIENT_CHARSETS.has(charset.toLowerCase())) throw new Refusal('character_set_client set to an unknown character set');
        effects.push(() => (this.asciiOnly = !UTF8.has(charset)));
      } else if (value?.kind !== 'word' || !/^\w+$/.test(value.text)) {
        throw new Refusal('collation_connection set to something other than a collation name');
      }
    } while (isPunct(r.peek(), ',') && r.next());
    r.done(what);
    for (const apply of effects) apply();
    return 'setting';
  }
}

function checkAlterDatabase(r: Reader): void {
  const what = 'an ALTER other than the loaded database’s `ALTER DATABASE CHARACTER SET .. COLLATE ..`';
  r.expect(['DATABASE'], what);
  r.expect(['CHARACTER'], what);
  r.expect(['SET'], what);
  r.word(what);
  r.expect(['COLLATE'], what);
  r.word(what);
  if (r.take('COMMENT') && stringValue(r.next()) === undefined) throw new Refusal('a database COMMENT that is not a string');
  r.done(what);
}

const INSERT_SHAPE = 'an INSERT other than `INSERT INTO table (columns) VALUES (literals), ...`';

/** `INSERT INTO name (columns) VALUES` (the rows are checked by checkInsertRows). */
function checkInsert(r: Reader): StatementKind {
  const what = INSERT_SHAPE;
  r.expect(['INTO'], what);
  r.name('INSERT INTO');
  r.punct('(', what);
  do r.name('an INSERT column list');
  while (isPunct(r.peek(), ',') && r.next());
  r.punct(')', what);
  r.expect(['VALUES'], what);
  r.done(what);
  return 'insert';
}

const REFUSED_TABLE_OPTIONS = new Set(['TABLE', 'LIKE', 'AS', 'IGNORE', 'REPLACE']);

/** Every word the checks of a CREATE TABLE can refuse it for (see createTableMayBeRefused). */
const TABLE_REFUSAL_WORDS = new RegExp(`\\b(?:${[...NEVER.keys(), ...NEVER_IN_TABLE.keys(), ...REFUSED_TABLE_OPTIONS, 'VALUES', 'WITH'].join('|')})\\b`, 'gi');

/**
 * False when the full check could not refuse `ddl`, a `CREATE TABLE` as SHOW CREATE TABLE writes it: none of
 * the words, comment markers, `;`, quote-sensitive characters, non-ASCII text or storage engines that check
 * refuses occurs anywhere in it, quoted or not (so this can only say "check it" too often, never too
 * rarely). The dump's self-check runs the full check only then: lexing every table of a schema cost a
 * 162-table dump ~20% of its time.
 */
export function createTableMayBeRefused(ddl: string): boolean {
  // Also `"` and `\`, whose reading depends on the file's sql_mode (ANSI_QUOTES, NO_BACKSLASH_ESCAPES).
  if (!/^CREATE TABLE [^(]*\(/.test(ddl) || /\/\*|--|#|;|"|\\|[^\x00-\x7f]/.test(ddl)) return true;
  // `TABLE` is refused as a table option, and every statement starts with one.
  const words = [...ddl.matchAll(TABLE_REFUSAL_WORDS)];
  if (words.length !== 1 || words[0]!.index !== 7) return true;
  for (const [, engine] of ddl.matchAll(/\bENGINE\s*=?\s*(\w*)/gi)) if (!ENGINES.has(engine!.toUpperCase())) return true;
  return false;
}

function checkCreateTable(r: Reader): StatementKind {
  const what = 'a CREATE TABLE other than `CREATE TABLE name (definitions) options`';
  r.name('CREATE TABLE');
  if (!isPunct(r.peek(), '(') || isWord(r.peek(1), 'LIKE', 'SELECT', 'WITH', 'TABLE', 'VALUES') || isPunct(r.peek(1), '(')) throw new Refusal(what);
  const bodyStart = r.i;
  r.group(what);
  // Every table's every token passes here: words only, and Set lookups (no argument arrays) keep it cheap.
  for (let i = bodyStart; i < r.tokens.length; i++) {
    const t = r.tokens[i]!;
    if (t.kind !== 'word') continue;
    // A MERGE table's `UNION=(t1,t2)` option: only tables of the loaded database, as SHOW CREATE writes them.
    if (t.text === 'UNION' && i >= r.i) {
      i = mergeUnionEnd(r.tokens, i);
      continue;
    }
    const never = NEVER_IN_TABLE.get(t.text);
    if (never) throw new Refusal(never);
    if (i < r.i) continue;
    // Table options (and partitions) after the definitions.
    if (REFUSED_TABLE_OPTIONS.has(t.text) || (t.text === 'VALUES' && !isWord(r.tokens[i + 1], 'LESS', 'IN'))) throw new Refusal(what);
    if (t.text === 'ENGINE') {
      const engine = r.tokens[i + (isPunct(r.tokens[i + 1], '=') ? 2 : 1)];
      if (engine?.kind !== 'word' || !ENGINES.has(engine.text)) throw new Refusal(`a table of the storage engine ${engine?.text ?? '(none)'}`);
    }
  }
  return 'create-table';
}

/** The index of the `)` closing `UNION [=] (name, ...)` at `i`, whose names must be unqualified; refuses otherwise. */
function mergeUnionEnd(tokens: Token[], i: number): number {
  let j = i + 1;
  if (isPunct(tokens[j], '=')) j++;
  if (!isPunct(tokens[j], '(')) throw new Refusal(NEVER_IN_TABLE.get('UNION')!);
  for (;;) {
    const t = tokens[++j];
    if ((t?.kind !== 'word' && t?.kind !== 'ident') || isPunct(tokens[j + 1], '.')) throw new Refusal(NEVER_IN_TABLE.get('UNION')!);
    j++;
    if (isPunct(tokens[j], ')')) return j;
    if (!isPunct(tokens[j], ',')) throw new Refusal(NEVER_IN_TABLE.get('UNION')!);
  }
}

/** A view or a stored program (whose body may hold `;`). */
function checkCreateObject(r: Reader): 'view' | 'program' {
  const what = 'a CREATE of something other than a table, view, routine, trigger or event';
  if (isWord(r.peek(), 'ALGORITHM', 'SQL', 'VIEW')) {
    if (r.take('ALGORITHM')) {
      r.punct('=', what);
      r.expect(['UNDEFINED', 'MERGE', 'TEMPTABLE'], what);
    }
    if (r.take('SQL')) {
      r.expect(['SECURITY'], what);
      r.expect(['DEFINER', 'INVOKER'], what);
    }
    r.expect(['VIEW'], what);
    r.name('CREATE VIEW');
    if (isPunct(r.peek(), '(')) r.group(what);
    r.expect(['AS'], what);
    return 'view';
  }
  if (r.take('OR')) {
    r.expect(['REPLACE'], what);
    if (!isWord(r.peek(), 'TRIGGER')) throw new Refusal(what);
  }
  const object = r.expect(['PROCEDURE', 'FUNCTION', 'AGGREGATE', 'TRIGGER', 'EVENT'], what);
  if (object === 'AGGREGATE') r.expect(['FUNCTION'], what);
  if (object === 'TRIGGER' && r.take('IF')) {
    r.expect(['NOT'], what);
    r.expect(['EXISTS'], what);
  }
  r.name(`CREATE ${object}`);
  if (object === 'TRIGGER') {
    r.expect(['BEFORE', 'AFTER'], what);
    r.expect(['INSERT', 'UPDATE', 'DELETE'], what);
    r.expect(['ON'], what);
    r.name('a trigger’s table');
    r.expect(['FOR'], what);
    r.expect(['EACH'], what);
    r.expect(['ROW'], what);
    if (r.take('FOLLOWS', 'PRECEDES')) r.name('FOLLOWS/PRECEDES');
  } else if (object === 'EVENT') {
    readEventHeader(r, what);
  } else {
    // Routines: parameters, RETURNS type (functions), characteristics.
    r.group(what);
    if (object !== 'PROCEDURE') readReturnType(r, what);
    readCharacteristics(r);
  }
  checkProgramBody(r.tokens, r.i);
  return 'program';
}

function readReturnType(r: Reader, what: string): void {
  r.expect(['RETURNS'], what);
  r.word(what);
  if (isPunct(r.peek(), '(')) r.group(what);
  for (;;) {
    if (r.take('UNSIGNED', 'SIGNED', 'ZEROFILL', 'BINARY', 'ASCII', 'UNICODE', 'PRECISION', 'VARYING', 'BYTE')) continue;
    if (r.take('CHARSET', 'COLLATE') || (r.take('CHARACTER') && r.expect(['SET'], what))) {
      r.word(what);
      continue;
    }
    return;
  }
}

function readCharacteristics(r: Reader): void {
  for (;;) {
    if (r.take('COMMENT')) {
      if (stringValue(r.next()) === undefined) throw new Refusal('a routine COMMENT that is not a string');
    } else if (r.take('LANGUAGE')) r.expect(['SQL'], 'LANGUAGE other than SQL');
    else if (r.take('DETERMINISTIC')) continue;
    else if (isWord(r.peek(), 'NOT') && isWord(r.peek(1), 'DETERMINISTIC')) r.i += 2;
    else if (isWord(r.peek(), 'CONTAINS', 'NO') && isWord(r.peek(1), 'SQL')) r.i += 2;
    else if (isWord(r.peek(), 'READS', 'MODIFIES') && isWord(r.peek(1), 'SQL') && isWord(r.peek(2), 'DATA')) r.i += 3;
    else if (isWord(r.peek(), 'SQL') && isWord(r.peek(1), 'SECURITY') && isWord(r.peek(2), 'DEFINER', 'INVOKER')) r.i += 3;
    else return;
  }
}

function readEventHeader(r: Reader, what: string): void {
  r.expect(['ON'], what);
  r.expect(['SCHEDULE'], what);
  const literal = (t: Token | undefined) => t?.kind === 'number' || stringValue(t) !== undefined;
  if (r.take('AT')) {
    if (stringValue(r.next()) === undefined) throw new Refusal('an event schedule that is not a timestamp');
  } else {
    r.expect(['EVERY'], what);
    if (!literal(r.next())) throw new Refusal('an event interval that is not a literal');
    r.word(what);
    for (const bound of ['STARTS', 'ENDS']) {
      if (r.take(bound) && stringValue(r.next()) === undefined) throw new Refusal('an event schedule that is not a timestamp');
    }
  }
  for (;;) {
    if (r.take('ON')) {
      r.expect(['COMPLETION'], what);
      r.take('NOT');
      r.expect(['PRESERVE'], what);
    } else if (r.take('ENABLE')) continue;
    else if (r.take('DISABLE')) {
      if (r.take('ON')) r.expect(['SLAVE', 'REPLICA'], what);
    } else if (r.take('COMMENT')) {
      if (stringValue(r.next()) === undefined) throw new Refusal('an event COMMENT that is not a string');
    } else break;
  }
  r.expect(['DO'], what);
}
