/**
 * Tokens of one SQL statement as the server's lexer reads them, for the load allowlist
 * (statement-allowlist.ts). It must never disagree with the server about where a string, quoted
 * identifier or comment ends, since a `;` the server sees outside them ends the statement there and starts
 * another one (the load runs on multi-statement connections). So it is stricter than the statement
 * splitter: whatever it cannot read exactly as the server would is refused.
 */

export type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'punct';

export interface Token {
  kind: TokenKind;
  /** word: upper case; ident: the name unquoted; string: the quoted text as written; punct: the character. */
  text: string;
  /** Where the token starts and ends in the statement (the word as written is `text.slice(at, to)`). */
  at: number;
  to: number;
}

/** How the server's session reads quotes: from the file's `SET SQL_MODE`, or unknown before the first. */
export interface LexMode {
  known: boolean;
  noBackslashEscapes: boolean;
  ansiQuotes: boolean;
}

/** A statement the allowlist refuses; `reason` completes "it contains ...". */
export class Refusal extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface Lexed {
  tokens: Token[];
  /** Whether the statement has comments (allowed only where the dumper can write them). */
  comments: boolean;
  /** Where reading stopped: the end of the text, or just after the `stopAfter` word. */
  end: number;
  /**
   * The text ends inside a `#` / `-- ` comment (a stored program whose body ends with one): safe only when
   * the statement is sent last in its query (StatementRunner does), else what follows is read as comment.
   */
  trailingLineComment: boolean;
}

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const isWordChar = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c >= 128;
const isHexDigit = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
/** Control characters other than tab, newline and carriage return (and NUL, which ends a `#` comment for the server). */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/**
 * Reads `text` into tokens under `mode` (up to and including the first word `stopAfter`, if given); throws
 * Refusal where the server could read it otherwise.
 */
export function lexStatement(text: string, mode: LexMode, stopAfter?: string): Lexed {
  const tokens: Token[] = [];
  let comments = false;
  let trailingLineComment = false;
  const n = text.length;
  let i = 0;
  const comment = (end: number) => {
    if (CONTROL.test(text.slice(i, end))) throw new Refusal('a control character in a comment');
    comments = true;
    i = end;
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c < 32 || c === 127) throw new Refusal('a control character outside quoted text');
    const next = text.charCodeAt(i + 1);
    if (c === 35 || (c === 45 && next === 45 && !(text.charCodeAt(i + 2) > 32 && text.charCodeAt(i + 2) !== 127))) {
      // `#` or `-- ` (the second dash followed by a space or control character, or the end) to the end of the line.
      const eol = text.indexOf('\n', i);
      if (eol < 0) trailingLineComment = true;
      comment(eol < 0 ? n : eol + 1);
      continue;
    }
    if (c === 47 && next === 42) {
      const kind = text[i + 2];
      if (kind === '!') throw new Refusal('an executable comment (`/*!`), which the server runs as SQL');
      if ((kind === 'M' || kind === 'm') && text[i + 3] === '!') throw new Refusal('an executable comment (`/*M!`), which MariaDB runs as SQL');
      const close = text.indexOf('*/', i + 2);
      if (close < 0) throw new Refusal('an unterminated comment');
      // MySQL reads optimizer hints with a lexer of its own, which skips `*/` inside quotes.
      if (kind === '+' && /['"`]/.test(text.slice(i, close))) throw new Refusal('an optimizer hint with quoted text');
      comment(close + 2);
      continue;
    }
    if (c === 39 || c === 34 || c === 96) {
      const ident = c === 96 || (c === 34 && mode.ansiQuotes);
      const escapes = !ident && !mode.noBackslashEscapes;
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new Refusal('unterminated quoted text');
        const d = text.charCodeAt(j);
        if (d === 92 && c !== 96 && !mode.known) {
          // Before the file sets sql_mode, the server's own decides whether \ escapes (and whether "" quotes a name).
          throw new Refusal('a backslash in quoted text before the file sets SQL_MODE');
        }
        if (d === 92 && escapes) {
          j += 2;
          continue;
        }
        if (d === c) {
          if (text.charCodeAt(j + 1) === c) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      if (ident) {
        const quoted = text.slice(i + 1, j);
        const quote = String.fromCharCode(c);
        tokens.push({ kind: 'ident', text: quoted.includes(quote) ? quoted.split(quote + quote).join(quote) : quoted, at: i, to: j + 1 });
      } else tokens.push({ kind: 'string', text: text.slice(i, j + 1), at: i, to: j + 1 });
      i = j + 1;
      continue;
    }
    if ((c >= 48 && c <= 57) || (c === 46 && next >= 48 && next <= 57)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text)!;
      const end = i + m[0].length;
      if (end >= n || !isWordChar(text.charCodeAt(end))) {
        tokens.push({ kind: 'number', text: m[0], at: i, to: end });
        i = end;
        continue;
      }
    }
    if (isWordChar(c)) {
      let j = i + 1;
      while (j < n && isWordChar(text.charCodeAt(j))) j++;
      const word = text.slice(i, j).toUpperCase();
      tokens.push({ kind: 'word', text: word, at: i, to: j });
      i = j;
      if (word === stopAfter) break;
      continue;
    }
    tokens.push({ kind: 'punct', text: text[i]!, at: i, to: i + 1 });
    i++;
  }
  return { tokens, comments, end: i, trailingLineComment };
}

/** Reads a quoted string starting at `i` (a quote) as the server does; returns the index after it. */
function skipString(text: string, i: number, mode: LexMode): number {
  const quote = text.charCodeAt(i);
  for (let j = i + 1; j < text.length; j++) {
    const d = text.charCodeAt(j);
    if (d === 92) {
      if (!mode.known) throw new Refusal('a backslash in quoted text before the file sets SQL_MODE');
      if (!mode.noBackslashEscapes) j++;
    } else if (d === quote) {
      if (text.charCodeAt(j + 1) !== quote) return j + 1;
      j++;
    }
  }
  throw new Refusal('unterminated quoted text');
}

/**
 * The rows of an INSERT from `i` (just after VALUES) to the end: `(literal, ...), ...` with only NULL,
 * numbers, '...' strings and X'..' literals, as InsertWriter writes them. A scan without tokens: data
 * files are large.
 */
export function checkInsertRows(text: string, i: number, mode: LexMode, what: string): void {
  const n = text.length;
  const blank = () => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };
  const value = () => {
    const c = text.charCodeAt(i);
    if (c === 39) i = skipString(text, i, mode);
    else if ((c === 88 || c === 120) && text.charCodeAt(i + 1) === 39) {
      let j = i + 2;
      while (j < n && isHexDigit(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) !== 39) throw new Refusal(what);
      i = j + 1;
    } else if (/^null$/i.test(text.slice(i, i + 4))) i += 4;
    else {
      if (c === 43 || c === 45) i++;
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) throw new Refusal(`${what}: a value that is not a literal`);
      i += m[0].length;
    }
    if (i < n && isWordChar(text.charCodeAt(i))) throw new Refusal(`${what}: a value that is not a literal`);
  };
  for (;;) {
    blank();
    if (text[i++] !== '(') throw new Refusal(what);
    for (;;) {
      blank();
      value();
      blank();
      const c = text[i++];
      if (c === ')') break;
      if (c !== ',') throw new Refusal(`${what}: a value that is not a literal`);
    }
    blank();
    if (i >= n) return;
    if (text[i++] !== ',') throw new Refusal(what);
  }
}
