/** One SQL statement of a script, without its delimiter, and the line it starts on (1-based). */
export interface ScriptStatement {
  text: string;
  line: number;
}

const enum State {
  Code,
  SingleQuote,
  DoubleQuote,
  Backtick,
  LineComment,
  BlockComment,
}

const NEWLINE = 10;
const BACKSLASH = 92;

/**
 * Splits a SQL script the way the stock `mysql` client does: on the current delimiter outside strings,
 * quoted identifiers and comments, honouring `DELIMITER x` lines (needed for trigger and routine bodies).
 * Incremental: feed chunks with `push`, then call `end`. A chunk boundary may fall anywhere; the scanner
 * waits for enough text before deciding at a boundary.
 */
export class StatementSplitter {
  private buffer = '';
  private pos = 0;
  private state = State.Code;
  private delimiter = ';';
  /** Index in `buffer` of the statement's first code character, or -1 while only blanks/comments were seen. */
  private start = -1;
  private line = 1;
  private startLine = 1;
  /**
   * Whether the session's sql_mode (as the script's SET statements leave it) has NO_BACKSLASH_ESCAPES: then
   * `\` is an ordinary character in strings ('C:\'), as the server (and the stock client) read it.
   */
  private noBackslashEscapes = false;
  /** User variables holding a saved sql_mode (`SET @saved = @@sql_mode`): their NO_BACKSLASH_ESCAPES. */
  private readonly savedModes = new Map<string, boolean>();

  push(chunk: string): ScriptStatement[] {
    this.buffer += chunk;
    return this.scan(false);
  }

  end(): ScriptStatement[] {
    const out = this.scan(true);
    if (this.state === State.SingleQuote || this.state === State.DoubleQuote || this.state === State.Backtick) {
      throw new SyntaxError(`unterminated quoted text starting in the statement at line ${this.startLine}`);
    }
    if (this.start >= 0) {
      const text = this.buffer.slice(this.start).trim();
      if (text) this.emit(out, text);
    }
    this.buffer = '';
    this.pos = 0;
    this.start = -1;
    return out;
  }

  private scan(final: boolean): ScriptStatement[] {
    const out: ScriptStatement[] = [];
    const buf = this.buffer;
    const n = buf.length;
    let i = this.pos;
    while (i < n) {
      const c = buf.charCodeAt(i);
      switch (this.state) {
        case State.Code: {
          // Lookahead needed to decide here: the delimiter, `-- `, `/*!`, `/*M!`.
          if (!final && i + Math.max(this.delimiter.length, 4) > n) break;
          if (this.start < 0) {
            if (c === NEWLINE) {
              this.line++;
              i++;
              continue;
            }
            if (c === 32 || c === 9 || c === 13) {
              i++;
              continue;
            }
            // The DELIMITER client command is only recognised at the start of a statement.
            if ((c === 68 || c === 100) && /^delimiter[ \t]/i.test(buf.slice(i, i + 10))) {
              const eol = buf.indexOf('\n', i);
              if (eol < 0 && !final) break;
              const lineText = buf.slice(i, eol < 0 ? n : eol);
              const value = lineText.slice(10).trim().split(/\s+/)[0];
              if (!value) throw new SyntaxError(`DELIMITER without a value at line ${this.line}`);
              this.delimiter = value;
              i = eol < 0 ? n : eol;
              continue;
            }
          }
          if (c === 39 || c === 34 || c === 96) {
            this.markStart(i);
            this.state = c === 39 ? State.SingleQuote : c === 34 ? State.DoubleQuote : State.Backtick;
            i++;
            continue;
          }
          if (c === 35 || (c === 45 && buf.charCodeAt(i + 1) === 45 && /[\s]/.test(buf[i + 2] ?? '\n'))) {
            this.state = State.LineComment;
            i++;
            continue;
          }
          if (c === 47 && buf.charCodeAt(i + 1) === 42) {
            // `/*!` version comments (and MariaDB's `/*M!`) are code to the server; keep them in the statement text.
            if (buf.charCodeAt(i + 2) === 33 || (buf.charCodeAt(i + 2) === 77 && buf.charCodeAt(i + 3) === 33)) this.markStart(i);
            this.state = State.BlockComment;
            i += 2;
            continue;
          }
          if (c === this.delimiter.charCodeAt(0) && buf.startsWith(this.delimiter, i)) {
            if (this.start >= 0) {
              const text = buf.slice(this.start, i).trim();
              if (text) this.emit(out, text);
            }
            this.start = -1;
            i += this.delimiter.length;
            continue;
          }
          if (c === NEWLINE) this.line++;
          else this.markStart(i);
          i++;
          continue;
        }
        case State.SingleQuote:
        case State.DoubleQuote:
        case State.Backtick: {
          const quote = this.state === State.SingleQuote ? 39 : this.state === State.DoubleQuote ? 34 : 96;
          if (c === BACKSLASH && quote !== 96 && !this.noBackslashEscapes) {
            if (i + 1 >= n && !final) break;
            if (buf.charCodeAt(i + 1) === NEWLINE) this.line++;
            i += 2;
            continue;
          }
          if (c === quote) this.state = State.Code;
          else if (c === NEWLINE) this.line++;
          i++;
          continue;
        }
        case State.LineComment: {
          if (c === NEWLINE) {
            this.state = State.Code;
            this.line++;
          }
          i++;
          continue;
        }
        case State.BlockComment: {
          if (c === 42 && buf.charCodeAt(i + 1) === 47) {
            this.state = State.Code;
            i += 2;
            continue;
          }
          if (c === 42 && i + 1 >= n && !final) break;
          if (c === NEWLINE) this.line++;
          i++;
          continue;
        }
      }
      break; // waiting for more input
    }
    // Drop what was consumed; keep the unfinished statement (from its start) and the unscanned rest.
    const keepFrom = this.start >= 0 ? this.start : i;
    this.buffer = buf.slice(keepFrom);
    if (this.start >= 0) this.start -= keepFrom;
    this.pos = i - keepFrom;
    return out;
  }

  private emit(out: ScriptStatement[], text: string): void {
    out.push({ text, line: this.startLine });
    if (/^(?:\/\*!\d*\s*)?SET\s/i.test(text)) this.followSet(text);
  }

  /** Follows the sql_mode assignments of a SET statement (mysqldump's save/set/restore forms included). */
  private followSet(text: string): void {
    const body = text.replace(/^\/\*!\d*\s*/, '').replace(/\s*\*\/$/, '').replace(/^SET\s+/i, '');
    for (const assignment of splitTopLevel(body)) {
      const mode = /^(?:(?:SESSION|LOCAL)\s+|@@(?:SESSION\.|LOCAL\.)?)?sql_mode\s*:?=\s*([\s\S]+)$/i.exec(assignment);
      if (mode) {
        const value = mode[1]!.trim();
        if (/^['"]/.test(value)) this.noBackslashEscapes = /NO_BACKSLASH_ESCAPES/i.test(value);
        else if (/^@[^@]/.test(value)) this.noBackslashEscapes = this.savedModes.get(value.slice(1).toLowerCase().replace(/`/g, '')) ?? this.noBackslashEscapes;
        else if (/^DEFAULT$/i.test(value)) this.noBackslashEscapes = false;
        continue;
      }
      const saved = /^@([^@=\s]+)\s*:?=\s*@@(?:SESSION\.|LOCAL\.)?sql_mode$/i.exec(assignment);
      if (saved) this.savedModes.set(saved[1]!.toLowerCase().replace(/`/g, ''), this.noBackslashEscapes);
    }
  }

  private markStart(i: number): void {
    if (this.start < 0) {
      this.start = i;
      this.startLine = this.line;
    }
  }
}

/** The comma-separated parts of a SET list, outside quotes and parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(from, i).trim());
      from = i + 1;
    }
  }
  parts.push(text.slice(from).trim());
  return parts;
}

/** Splits a whole script (convenience for tests and small inputs). */
export function splitStatements(script: string): ScriptStatement[] {
  const splitter = new StatementSplitter();
  return [...splitter.push(script), ...splitter.end()];
}
