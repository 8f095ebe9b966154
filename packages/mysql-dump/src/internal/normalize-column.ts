import type { EngineInfo } from './connect.js';

/*
 * How information_schema's column values are put in one spelling for every flavour and version (charset and
 * collation names, column types, defaults, generation expressions), for the semantic schema. Pure.
 */

export function normalizeCharset(charset: string | null): string | null {
  if (charset === null) return null;
  const lower = charset.toLowerCase();
  return lower === 'utf8' ? 'utf8mb3' : lower;
}

export function normalizeCollation(collation: string | null): string | null {
  if (collation === null) return null;
  return collation.toLowerCase().replace(/^utf8_/, 'utf8mb3_');
}

/**
 * `int(11)` -> `int`, `year(4)` -> `year`; `tinyint(1)` stays (MySQL 8 keeps it as the boolean spelling).
 * Only the type keyword and attributes are lower-cased: enum/set values keep their case.
 */
export function normalizeColumnType(columnType: string): string {
  const text = columnType.trim();
  const values = /^(enum|set)\s*(\(.*\))$/is.exec(text);
  if (values) return `${values[1]!.toLowerCase()}${values[2]}`;
  return text
    .toLowerCase()
    .replace(/^(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)/, (whole, name: string) =>
      whole === 'tinyint(1)' ? whole : name === 'integer' ? 'int' : name,
    )
    .replace(/^year\(4\)/, 'year');
}

const TIMESTAMP_FUNCTION = /^(?:current_timestamp|now|localtimestamp|localtime)(?:\((\d*)\))?$/i;

export function normalizeExpression(text: string): string {
  const ts = TIMESTAMP_FUNCTION.exec(text.trim());
  if (ts) return ts[1] && ts[1] !== '0' ? `CURRENT_TIMESTAMP(${ts[1]})` : 'CURRENT_TIMESTAMP';
  return text.trim();
}

/** MariaDB 10.2.7+ reports COLUMN_DEFAULT as SQL (`'text'`, `NULL`, `current_timestamp()`); MySQL as raw text. */
export function defaultsAreSqlLiterals(engine: EngineInfo): boolean {
  if (engine.flavor !== 'mariadb') return false;
  const [major = 0, minor = 0, patch = 0] = engine.version.split('.').map(Number);
  return major > 10 || (major === 10 && (minor > 2 || (minor === 2 && patch >= 7)));
}

/**
 * `sqlLiterals`: defaultsAreSqlLiterals(engine), decided once per schema rather than per column. Literal
 * defaults keep their text; expression defaults (MySQL 8.0.13+ `DEFAULT (expr)`, EXTRA DEFAULT_GENERATED;
 * MariaDB's unquoted COLUMN_DEFAULT) are spelled by `normalizeExpressionDefault`.
 */
export function normalizeDefault(raw: string | null, extra: string, sqlLiterals: boolean, engine: EngineInfo): string | null {
  if (raw === null) return null;
  if (sqlLiterals) {
    if (raw === 'NULL') return null;
    const quoted = /^'((?:[^']|'')*)'$/s.exec(raw);
    if (quoted) return quoted[1]!.replace(/''/g, "'").replace(/\\\\/g, '\\');
    return normalizeExpressionDefault(raw, engine);
  }
  if (/DEFAULT_GENERATED/i.test(extra)) return normalizeExpressionDefault(raw, engine);
  if (TIMESTAMP_FUNCTION.test(raw)) return normalizeExpression(raw);
  return raw;
}

/** A number or bit/hex literal as information_schema spells a literal default (MariaDB leaves them unquoted). */
const PLAIN_LITERAL = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?|[bx]'[0-9a-f]*'|0x[0-9a-f]+|0b[01]+)$/i;

/**
 * Whether a default is an expression (`DEFAULT uuid()`) rather than a literal (`DEFAULT 'uuid()'`), which
 * `normalizeDefault` spells alike. Not for the current time (CURRENT_TIMESTAMP is no string default's text
 * in practice, and flagging it would change most schemas' files) nor for an expression that is one literal
 * (`DEFAULT ('x')`, `DEFAULT (7)`: MariaDB reports those as literals, so MySQL's must read the same).
 */
export function isExpressionDefault(raw: string | null, extra: string, sqlLiterals: boolean, engine: EngineInfo): boolean {
  if (raw === null) return false;
  const expression = sqlLiterals ? raw !== 'NULL' && !/^'((?:[^']|'')*)'$/s.test(raw) : /DEFAULT_GENERATED/i.test(extra);
  if (!expression || TIMESTAMP_FUNCTION.test(raw.trim())) return false;
  const spelled = normalizeGenerationExpression(raw, engine);
  return !/^'((?:[^']|'')*)'$/s.test(spelled) && !PLAIN_LITERAL.test(spelled);
}

/**
 * An expression default in one spelling for every flavour: the current time as CURRENT_TIMESTAMP[(n)],
 * anything else as `normalizeGenerationExpression` spells it. An expression that is one string literal is
 * its text, as a literal default is: MariaDB reports `DEFAULT ('x')` as `'x'` (or `'it\'s'`), MySQL 8 as
 * `_utf8mb4\'x\'` with DEFAULT_GENERATED. Numbers and the like need nothing: `7`, `-1` read the same.
 */
export function normalizeExpressionDefault(raw: string, engine: EngineInfo): string {
  if (TIMESTAMP_FUNCTION.test(raw.trim())) return normalizeExpression(raw);
  const expression = normalizeGenerationExpression(raw, engine);
  const text = /^'((?:[^']|'')*)'$/s.exec(expression);
  return text ? text[1]!.replace(/''/g, "'") : expression;
}

/**
 * Names MariaDB prints for what MySQL prints otherwise (UPPER is `ucase`, CURRENT_TIMESTAMP inside an
 * expression `current_timestamp()` where MySQL says `now()`; TRUE is `1`), and the MySQL spelling of each.
 */
const MYSQL_SPELLING: Record<string, string> = {
  ucase: 'upper', lcase: 'lower', current_timestamp: 'now', localtimestamp: 'now', localtime: 'now',
  current_date: 'curdate', current_time: 'curtime', true: '1', false: '0',
};
const SYNONYM = /(?<![\w$.])(?:(?:ucase|lcase|current_timestamp|localtimestamp|localtime|current_date|current_time)(?=\()|(?:true|false)(?![\w$(]))/g;

/**
 * A generation expression (or expression default) in one spelling for every flavour, for comparison (not
 * for execution): MySQL 8 backslash-escapes quotes and wraps the whole expression in parentheses, MariaDB
 * spaces operators differently and prints some functions under other names; both may add charset
 * introducers (`_utf8mb4'x'`). Outside quoted strings and identifiers, whitespace and introducers are
 * dropped, text is lower-cased and synonyms get MySQL's names; strings are re-quoted with `''`.
 */
export function normalizeGenerationExpression(raw: string, engine: EngineInfo): string {
  let text = raw.trim();
  // MySQL 8 reports `_utf8mb4\'a\'`: the quotes of string literals escaped once more.
  if (engine.flavor === 'mysql' && /\\'/.test(text)) text = text.replace(/\\(['\\])/g, '$1');
  let out = '';
  // Unquoted text since the last string or identifier, renamed as a whole so a name is matched entire.
  let plain = '';
  const flush = () => {
    out += plain.replace(SYNONYM, (name) => MYSQL_SPELLING[name]!);
    plain = '';
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '`') {
      flush();
      const end = text.indexOf('`', i + 1);
      const stop = end < 0 ? text.length : end + 1;
      out += text.slice(i, stop);
      i = stop;
    } else if (ch === "'" || ch === '"') {
      let value = '';
      let j = i + 1;
      while (j < text.length) {
        const c = text[j]!;
        if (c === '\\' && j + 1 < text.length) {
          value += text[j + 1];
          j += 2;
        } else if (c === ch && text[j + 1] === ch) {
          value += ch;
          j += 2;
        } else if (c === ch) {
          j += 1;
          break;
        } else {
          value += c;
          j += 1;
        }
      }
      plain = plain.replace(/_[a-z0-9]+$/, '');
      flush();
      out += `'${value.replace(/'/g, "''")}'`;
      i = j;
    } else {
      if (!/\s/.test(ch)) plain += ch.toLowerCase();
      i += 1;
    }
  }
  flush();
  return stripOuterParentheses(out);
}

function stripOuterParentheses(text: string): string {
  while (text.startsWith('(') && text.endsWith(')')) {
    let depth = 0;
    let quote: string | null = null;
    let wraps = true;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (quote) {
        if (ch === quote) quote = null;
      } else if (ch === "'" || ch === '`') quote = ch;
      else if (ch === '(') depth += 1;
      else if (ch === ')' && --depth === 0 && i < text.length - 1) {
        wraps = false;
        break;
      }
    }
    if (!wraps) break;
    text = text.slice(1, -1);
  }
  return text;
}

/**
 * A CHECK clause spelled flavour-independently: as normalizeGenerationExpression, and without the
 * parentheses MySQL 8 prints around every condition (`((\`a\` >= 0) and (\`b\` >= 0))`; MariaDB keeps
 * the text as written: `` `a` >= 0 and `b` >= 0 ``) where they hold no and/or/xor: a group of several
 * conditions keeps its parentheses, as do a function call's and an IN list's. Done on the clause as the
 * server spells it, where words are still apart.
 */
export function normalizeCheckClause(raw: string, engine: EngineInfo): string {
  let text = raw.trim();
  if (engine.flavor === 'mysql' && /\\'/.test(text)) text = text.replace(/\\(['\\])/g, '$1');
  for (let changed = true; changed; ) {
    changed = false;
    const stack: number[] = [];
    let quote: string | null = null;
    for (let i = 0; i < text.length && !changed; i++) {
      const ch = text[i]!;
      if (quote) {
        if (ch === '\\' && quote === "'") i++;
        else if (ch === quote) quote = null;
      } else if (ch === "'" || ch === '`') quote = ch;
      else if (ch === '(') stack.push(i);
      else if (ch === ')') {
        const open = stack.pop();
        if (open === undefined) continue;
        // A function call's (`floor(`) or IN list's (`in (`) parenthesis belongs to the word before it.
        const word = /([A-Za-z0-9_$]+)\s*$/.exec(text.slice(0, open))?.[1];
        if (word !== undefined && !/^(and|or|xor|not)$/i.test(word)) continue;
        if (/`\s*$/.test(text.slice(0, open))) continue;
        // Only a group that is a whole operand of and/or/xor/not (or the whole clause): `(a + 1) * 2` and
        // `a - (b - c)` keep theirs.
        const before = text.slice(0, open).trimEnd();
        const after = text.slice(i + 1).trimStart();
        if (!(before === '' || before.endsWith('(') || /\b(and|or|xor|not)$/i.test(before))) continue;
        if (!(after === '' || after.startsWith(')') || /^(and|or|xor)\b/i.test(after))) continue;
        const inner = text.slice(open + 1, i);
        if (/\b(and|or|xor)\b|&&|\|\|/i.test(inner.replace(/'(?:[^'\\]|\\.|'')*'|`[^`]*`/g, "''"))) continue;
        text = `${text.slice(0, open)} ${inner} ${text.slice(i + 1)}`;
        changed = true;
      }
    }
  }
  return normalizeGenerationExpression(text, engine);
}
