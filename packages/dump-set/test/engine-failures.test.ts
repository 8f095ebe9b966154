import { describe, expect, test } from 'vitest';
import { MongoUnreachableError } from '@org/mongo-dump';
import { ServerUnreachableError } from '@org/mysql-dump';
import { ServersFailedError } from '../src/index.js';
import { throwEngineFailures } from '../src/internal/errors.js';

describe('two engines failing at once', () => {
  const unreachable = new ServerUnreachableError('127.0.0.1:1', 'connect ECONNREFUSED');
  const mongoDown = new MongoUnreachableError('127.0.0.1:2', 0, 'connect ECONNREFUSED');
  const statement = new Error('disk full');
  test.each([
    ['both connection failures: one ServersFailedError', { mysql: { reason: unreachable }, mongo: { reason: mongoDown } }, ServersFailedError],
    ['only MySQL failed', { mysql: { reason: unreachable } }, ServerUnreachableError],
    ['only MongoDB failed', { mongo: { reason: mongoDown } }, MongoUnreachableError],
    ['a connection failure and another failure: the MySQL one', { mysql: { reason: statement }, mongo: { reason: mongoDown } }, Error],
  ])('%s', (_case, failed, type) => {
    const thrown = (() => {
      try {
        throwEngineFailures(failed);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(type);
    if (type === Error) expect(thrown).toBe(statement);
  });

  test('the combined message keeps both messages, MySQL first', () => {
    expect(new ServersFailedError({ mysql: unreachable, mongo: mongoDown }).message).toBe(`neither server could be used. MySQL: ${unreachable.message.replace(/\.$/, '')}. MongoDB: ${mongoDown.message.replace(/\.$/, '')}`);
  });

  test('nothing failed: nothing thrown', () => {
    expect(() => throwEngineFailures({})).not.toThrow();
  });
});
