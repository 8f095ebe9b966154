import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatementSplitter, splitStatements } from '../src/internal/statement-splitter.js';

const texts = (script: string) => splitStatements(script).map((s) => s.text);

describe('splitStatements', () => {
  it.each([
    ['plain', 'SELECT 1; SELECT 2;', ['SELECT 1', 'SELECT 2']],
    ['delimiter in single quotes', "INSERT INTO t VALUES ('a;b'),('c');", ["INSERT INTO t VALUES ('a;b'),('c')"]],
    ['escaped quote', "SELECT 'it\\'s; fine'; SELECT 2", ["SELECT 'it\\'s; fine'", 'SELECT 2']],
    ['doubled quote', "SELECT 'it''s; fine';", ["SELECT 'it''s; fine'"]],
    ['backtick identifier', 'SELECT `a;b` FROM t;', ['SELECT `a;b` FROM t']],
    ['double-quoted string', 'SELECT "x;y";', ['SELECT "x;y"']],
    ['line comments', '-- a; comment\nSELECT 1; # another; one\nSELECT 2;', ['SELECT 1', 'SELECT 2']],
    ['-- without space is not a comment', 'SELECT 1--1;', ['SELECT 1--1']],
    ['block comment', '/* a; b */ SELECT 1;', ['SELECT 1']],
    ['version comment kept', '/*!40101 SET NAMES utf8 */;', ['/*!40101 SET NAMES utf8 */']],
    ["MariaDB's executable comment kept", '/*M!999999\\- enable the sandbox mode */\nSELECT 1;', ['/*M!999999\\- enable the sandbox mode */\nSELECT 1']],
    ['comment-only input', '-- nothing\n/* here */\n', []],
    ['no final delimiter', 'SELECT 1', ['SELECT 1']],
    [
      'DELIMITER for a trigger body',
      'DELIMITER ;;\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 2; END;;\nDELIMITER ;\nSELECT 1;',
      ['CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 2; END', 'SELECT 1'],
    ],
    ['delimiter $$ with ; and ;; inside strings', "DELIMITER $$\nSELECT ';;' $$\ndelimiter ;\nSELECT 2;", ["SELECT ';;'", 'SELECT 2']],
  ])('%s', (_name, script, expected) => expect(texts(script)).toEqual(expected));

  it('reports the line each statement starts on', () => {
    expect(splitStatements('-- header\n\nSELECT 1;\nSELECT\n2;\nSELECT 3;').map((s) => s.line)).toEqual([3, 4, 6]);
  });

  it("keeps MariaDB's `/*M!` comment when a chunk ends inside its opening", () => {
    const splitter = new StatementSplitter();
    const out = [...splitter.push('SELECT 1;\n/*M'), ...splitter.push('!100000 DROP DATABASE x */;'), ...splitter.end()];
    expect(out.map((s) => s.text)).toEqual(['SELECT 1', '/*M!100000 DROP DATABASE x */']);
  });

  it('throws on an unterminated string', () => {
    expect(() => splitStatements("SELECT 'oops;")).toThrow(/unterminated/);
  });
});

const atom = fc.oneof(
  // No lone '-', '/' or '*': two of them side by side would open a comment the generator did not mean.
  fc.constantFrom('SELECT', 'x', '1', ',', ' ', '\n', ' - 2 ', ' / 3 ', '(', ')', '\\', '"a;b"'),
  fc.string({ maxLength: 8 }).map((s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`),
  fc.string({ maxLength: 8 }).map((s) => `\`${s.replace(/`/g, '``')}\``),
  fc.string({ maxLength: 8 }).map((s) => `/* ${s.replace(/\*\//g, '')} */`),
  fc.string({ maxLength: 8 }).map((s) => `-- ${s.replace(/\n/g, ' ')}\n`),
);
// A statement starts and ends with code, so none is blank, a DELIMITER command, or ends inside a comment.
const statement = fc.array(atom, { maxLength: 12 }).map((parts) => `SELECT ${parts.join('')} 1`);

describe('StatementSplitter properties', () => {
  it('recovers the statements of a script whatever the chunk boundaries', () => {
    fc.assert(
      fc.property(fc.array(statement, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (statements, cuts) => {
        const script = statements.map((s) => `${s};\n`).join('');
        const whole = texts(script);
        const splitter = new StatementSplitter();
        const points = [...new Set(cuts.map((c) => c % (script.length + 1)))].sort((a, b) => a - b);
        const chunked: string[] = [];
        let from = 0;
        for (const point of [...points, script.length]) {
          chunked.push(...splitter.push(script.slice(from, point)).map((s) => s.text));
          from = point;
        }
        chunked.push(...splitter.end().map((s) => s.text));
        expect(chunked).toEqual(whole);
        expect(whole).toEqual(statements.map((st) => st.trim()));
      }),
      { numRuns: 300 },
    );
  });
});
