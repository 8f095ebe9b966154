import { Refusal, type Token } from './sql-lexer.js';

/**
 * Where a stored program's body ends for the server. A body that is one simple statement ends at the first
 * `;`; a compound body (BEGIN ... END, IF ... END IF, a loop...) holds `;`s and ends at its closing END.
 * Anything after that end is a statement of its own on a multi-statement connection
 * (`CREATE PROCEDURE p() SELECT 1; DROP DATABASE x`), so a body must end exactly where the text ends.
 *
 * This follows only the block structure of SQL/PSM (which keywords open and close blocks, at the start of
 * a statement), not what the statements inside do. On text the server accepts, its blocks are the server's;
 * where the text does not match (an END the server would read as a name, say) it refuses, never guesses.
 */
type Block = 'begin' | 'if' | 'case' | 'loop' | 'while' | 'repeat' | 'until' | 'for' | 'case-expression' | 'paren';

/** A block; `header` while reading the condition before its statements (IF ... THEN, WHILE ... DO, WHEN ... THEN). */
interface Open {
  block: Block;
  header: boolean;
}

/** Blocks that hold statements (and so `;`), with the keyword after their END. */
const STATEMENT_BLOCKS: Partial<Record<Block, string>> = { begin: '', if: 'IF', case: 'CASE', loop: 'LOOP', while: 'WHILE', repeat: 'REPEAT', for: 'FOR' };
const OPENERS = new Set(['BEGIN', 'LOOP', 'REPEAT', 'IF', 'CASE', 'WHILE', 'FOR']);
const LABELLED_OPENERS = new Set(['BEGIN', 'LOOP', 'WHILE', 'REPEAT', 'FOR']);
const HANDLER_ACTIONS = new Set(['CONTINUE', 'EXIT', 'UNDO']);

const isWord = (t: Token | undefined, ...words: string[]) => t?.kind === 'word' && words.includes(t.text);
const isPunct = (t: Token | undefined, p: string) => t?.kind === 'punct' && t.text === p;
const isName = (t: Token | undefined) => t?.kind === 'word' || t?.kind === 'ident';

const EARLY_END = 'a `;` that ends the stored program early (what follows would run as statements of their own)';

/** Refuses unless `tokens` from `from` on form one body that ends with the last token. */
export function checkProgramBody(tokens: Token[], from: number): void {
  if (!tokens.slice(from).some((t) => isPunct(t, ';'))) return; // One statement however it reads.
  const label = isName(tokens[from]) && isPunct(tokens[from + 1], ':') ? 2 : 0;
  if (!isWord(tokens[from + label], ...OPENERS)) throw new Refusal(EARLY_END);
  const stack: Open[] = [];
  let atStart = true;
  const top = () => stack[stack.length - 1];
  const open = (block: Block, header: boolean) => stack.push({ block, header });
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i]!;
    const current = top();
    if (i > from + label && current === undefined) throw new Refusal(EARLY_END);
    if (isPunct(t, ';')) {
      if (current === undefined || current.header || STATEMENT_BLOCKS[current.block] === undefined) throw new Refusal(EARLY_END);
      atStart = true;
      continue;
    }
    // After `.` every word is a name (`NEW.end`), for the server too.
    const keyword = t.kind === 'word' && !isPunct(tokens[i - 1], '.') ? t.text : '';
    if (atStart) {
      if (isName(t) && isPunct(tokens[i + 1], ':') && isWord(tokens[i + 2], ...LABELLED_OPENERS)) {
        i++; // a label
        continue;
      }
      const body = current !== undefined && !current.header;
      switch (keyword) {
        case 'BEGIN':
          open('begin', false);
          if (isWord(tokens[i + 1], 'NOT') && isWord(tokens[i + 2], 'ATOMIC')) i += 2;
          continue;
        case 'LOOP':
        case 'REPEAT':
          open(keyword === 'LOOP' ? 'loop' : 'repeat', false);
          continue;
        case 'IF':
        case 'CASE':
        case 'WHILE':
        case 'FOR':
          open(keyword.toLowerCase() as Block, true);
          atStart = false;
          continue;
        case 'END':
          i = closeBlock(tokens, i, stack);
          atStart = false;
          continue;
        case 'ELSE':
          if (body && (current.block === 'if' || current.block === 'case')) continue;
          break;
        case 'ELSEIF':
        case 'WHEN':
          if (body && current.block === (keyword === 'ELSEIF' ? 'if' : 'case')) {
            current.header = true;
            atStart = false;
            continue;
          }
          break;
        case 'UNTIL':
          if (body && current.block === 'repeat') {
            stack[stack.length - 1] = { block: 'until', header: true };
            atStart = false;
            continue;
          }
          break;
        case 'DECLARE': {
          const handlerStatement = afterHandlerConditions(tokens, i);
          if (handlerStatement !== undefined) {
            i = handlerStatement - 1;
            continue;
          }
          break;
        }
      }
      atStart = false;
    }
    // Inside a statement.
    if (isPunct(t, '(')) open('paren', false);
    else if (isPunct(t, ')')) {
      if (current?.block !== 'paren') throw new Refusal('an unbalanced `)` in a stored program');
      stack.pop();
    } else if (keyword === 'CASE') open('case-expression', false);
    else if (keyword === 'END') {
      // Inside a statement END closes a CASE expression or REPEAT ... UNTIL (as END REPEAT); anywhere else it
      // is a name (`SET end = NOW()`): a block's END can only follow a `;` or a block opener, where a
      // statement starts, because the server's grammar ends every statement in a block with `;`.
      if (current?.block === 'case-expression') stack.pop();
      else if (current?.block === 'until' && isWord(tokens[i + 1], 'REPEAT')) i = closeBlock(tokens, i, stack);
    } else if (current?.header && ((keyword === 'THEN' && (current.block === 'if' || current.block === 'case')) || (keyword === 'DO' && (current.block === 'while' || current.block === 'for')))) {
      current.header = false;
      atStart = true;
    }
  }
  if (stack.length > 0) throw new Refusal('a stored program whose blocks do not close');
}

/** Closes the innermost block at the END at `i`; returns the index of the last token of `END [kind] [label]`. */
function closeBlock(tokens: Token[], i: number, stack: Open[]): number {
  const open = stack.pop();
  const block = open?.block;
  const kind = block === 'until' ? 'REPEAT' : block === undefined || block === 'repeat' ? undefined : STATEMENT_BLOCKS[block];
  if (kind === undefined || (open!.header && block !== 'until')) throw new Refusal('an END that closes no block of a stored program');
  if (kind) {
    if (!isWord(tokens[i + 1], kind)) throw new Refusal(`an END without ${kind} closing a ${kind} block`);
    i++;
  }
  if (isName(tokens[i + 1])) i++; // END label
  const after = tokens[i + 1];
  if (stack.length === 0 ? after !== undefined : !isPunct(after, ';')) throw new Refusal(EARLY_END);
  return i;
}
/**
 * `DECLARE {CONTINUE|EXIT|UNDO} HANDLER FOR condition [, condition]... statement` at `i`: the index of the
 * handler's statement (a statement start), or undefined for any other DECLARE.
 */
function afterHandlerConditions(tokens: Token[], i: number): number | undefined {
  if (!isWord(tokens[i + 1], ...HANDLER_ACTIONS) || !isWord(tokens[i + 2], 'HANDLER') || !isWord(tokens[i + 3], 'FOR')) return undefined;
  let j = i + 4;
  for (;;) {
    const t = tokens[j];
    if (isWord(t, 'SQLSTATE')) {
      j += isWord(tokens[j + 1], 'VALUE') ? 2 : 1;
      if (tokens[j]?.kind !== 'string') throw new Refusal('a handler condition that is not a SQLSTATE string');
    } else if (isWord(t, 'NOT')) {
      if (!isWord(tokens[j + 1], 'FOUND')) throw new Refusal('an unreadable handler condition');
      j++;
    } else if (!t || !(t.kind === 'word' || t.kind === 'ident' || t.kind === 'number')) {
      throw new Refusal('an unreadable handler condition');
    }
    j++;
    if (!isPunct(tokens[j], ',')) return j;
    j++;
  }
}
