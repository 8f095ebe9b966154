import { describe, expect, it } from 'vitest';
import { DumpFileError } from '../src/internal/errors.js';
import { statementFailure } from '../src/internal/load.js';

const serverError = (errno: number, message: string) => Object.assign(new Error(message), { errno, sqlMessage: message });

describe('statementFailure', () => {
  it.each([
    [[{ line: 12 }], 'the statement at line 12'],
    [[{ line: 3 }, { line: 9 }], 'a statement between lines 3 and 9'],
  ])('names where the failing statement is (%j)', (sent, where) => {
    const error = statementFailure(serverError(1064, 'You have an error in your SQL syntax'), sent, 'shop.sql', 'shop_copy');
    expect(error).toBeInstanceOf(DumpFileError);
    expect(error.message).toBe(`shop.sql: ${where} failed: You have an error in your SQL syntax; nothing of the load was kept in \`shop_copy\``);
  });

  it('says which server setting refuses a function that is not declared DETERMINISTIC (binary logging on, as in MySQL 8 images)', () => {
    const message =
      'This function has none of DETERMINISTIC, NO SQL, or READS SQL DATA in its declaration and binary logging is enabled (you *might* want to use the less safe log_bin_trust_function_creators variable)';
    const error = statementFailure(serverError(1418, message), [{ line: 40 }], 'shop.sql', 'shop');
    expect(error.message).toContain('SET GLOBAL log_bin_trust_function_creators = 1');
    expect(error.message).toContain('--log-bin-trust-function-creators=1');
    expect(error.message).toMatch(/^shop\.sql: the statement at line 40 failed: This function has none of/);
    expect(error.message).toMatch(/; nothing of the load was kept in `shop`$/);
  });
});
