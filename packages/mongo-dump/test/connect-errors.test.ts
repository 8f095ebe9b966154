import { MongoAPIError, MongoParseError, MongoServerError, MongoServerSelectionError, MongoMissingCredentialsError } from 'mongodb';
import { describe, expect, test } from 'vitest';
import {
  MongoAuthFailedError,
  MongoConnectFailedError,
  MongoDumpError,
  MongoTargetNotEmptyError,
  MongoUnreachableError,
  MongoUrlError,
} from '../src/index.js';
import { connectFailure } from '../src/internal/connect.js';

const url = 'mongodb://app:Sup3rSecret@10.0.0.5:27018/shop';
const driver = { MongoServerError, MongoAPIError, MongoParseError };

/** What connect() throws when no server answered within the selection timeout (the topology is not read). */
const selectionFailed = (message: string) => new MongoServerSelectionError(message, {} as ConstructorParameters<typeof MongoServerSelectionError>[1]);
/** A server's error reply, as the driver wraps it. */
const reply = (code: number, codeName: string, errmsg: string) => new MongoServerError({ ok: 0, code, codeName, errmsg });

describe('connect failures', () => {
  test.each([
    ['wrong credentials', reply(18, 'AuthenticationFailed', 'Authentication failed.'), true, MongoAuthFailedError, 'auth-failed', 'MongoDB at 10.0.0.5:27018 rejected the credentials of user "app" (looked up in database "shop", the URL\'s path: add ?authSource=admin if the user was created in admin); check the user and password in the URL'],
    // A server that answers is not "unreachable": name its error at once, without retrying.
    ['an unrecognised server error', reply(2, 'BadValue', 'unsupported auth mechanism for Sup3rSecret'), true, MongoConnectFailedError, 'connect-failed', 'cannot connect to MongoDB at 10.0.0.5:27018: unsupported auth mechanism for *** (BadValue); check the server and its log'],
    ['not authorized to ping', reply(13, 'Unauthorized', 'command ping requires authentication'), true, MongoConnectFailedError, 'connect-failed', 'cannot connect to MongoDB at 10.0.0.5:27018: command ping requires authentication (Unauthorized); check the server and its log'],
    ['still starting once the wait ran out', reply(94, 'NotYetInitialized', 'not yet initialized'), false, MongoConnectFailedError, 'connect-failed', 'cannot connect to MongoDB at 10.0.0.5:27018: not yet initialized (NotYetInitialized); check the server and its log'],
    ['no server answered', selectionFailed('connect ECONNREFUSED 10.0.0.5:27018'), false, MongoUnreachableError, 'server-unreachable', 'MongoDB server at 10.0.0.5:27018 is unreachable after waiting 30 s (connect ECONNREFUSED 10.0.0.5:27018); start it, check host and port, or wait longer for it to start'],
    ['credentials the driver cannot use', new MongoMissingCredentialsError('Username required for mechanism \'SCRAM-SHA-256\''), true, MongoUrlError, 'invalid-url', "invalid MongoDB URL mongodb://app:***@10.0.0.5:27018/shop: Username required for mechanism 'SCRAM-SHA-256'; expected mongodb://[user:password@]host:port"],
  ])('%s', (_case, error, retryLeft, type, code, message) => {
    const typed = connectFailure(error, url, { driver, waitSeconds: 30, retryLeft });
    expect(typed).toBeInstanceOf(MongoDumpError);
    expect(typed).toBeInstanceOf(type);
    expect(typed).toMatchObject({ code, severity: 'fatal', message });
    expect(typed?.message).not.toContain('Sup3rSecret');
  });

  test.each([
    ['a server that is starting', reply(94, 'NotYetInitialized', 'not yet initialized')],
    ['a server shutting down', reply(91, 'ShutdownInProgress', 'shutdown in progress')],
    ['no server answered yet', new Error('connect ECONNREFUSED 10.0.0.5:27018')],
  ])('%s is retried while the wait lasts', (_case, error) => {
    expect(connectFailure(error, url, { driver, waitSeconds: 30, retryLeft: true })).toBeUndefined();
  });
});

describe('messages name no CLI flag or action input', () => {
  test.each([
    [new MongoUnreachableError('h:1', 0, 'ECONNREFUSED'), 'MongoDB server at h:1 is unreachable (ECONNREFUSED); start it, check host and port, or wait longer for it to start'],
    [new MongoTargetNotEmptyError('x', ['a', 'b', 'c']), 'MongoDB database "x" is not empty (3 collections: a, b, c); load into an empty database or replace it'],
    [new MongoTargetNotEmptyError('x', ['a']), 'MongoDB database "x" is not empty (1 collection: a); load into an empty database or replace it'],
    [new MongoTargetNotEmptyError('x', ['a', 'b', 'c', 'd', 'e', 'f']), 'MongoDB database "x" is not empty (6 collections: a, b, c, d, e, ...); load into an empty database or replace it'],
  ])('%s', (error, message) => {
    expect(error.message).toBe(message);
    expect(error.message).not.toMatch(/--|\bpass\b|wait time/);
  });

  test('the structured fields stay for callers to name their own options', () => {
    expect(new MongoTargetNotEmptyError('x', ['a'])).toMatchObject({ code: 'target-not-empty', database: 'x', collections: ['a'] });
    expect(new MongoUnreachableError('h:1', 5, 'timeout')).toMatchObject({ code: 'server-unreachable', hosts: 'h:1', waitedSeconds: 5 });
  });
});

describe('which database a rejected user was looked up in', () => {
  test.each<[string, string, string]>([
    ['the path database, when authSource is not given', 'mongodb://root:pw@127.0.0.1:27017/lms', ' (looked up in database "lms", the URL\'s path: add ?authSource=admin'],
    ['nothing to add with an explicit authSource', 'mongodb://root:pw@127.0.0.1:27017/lms?retryWrites=false&authSource=admin', 'rejected the credentials of user "root"; check'],
    ['nothing to add without a path database (admin is the default)', 'mongodb://root:pw@127.0.0.1:27017/?retryWrites=false', 'rejected the credentials of user "root"; check'],
  ])('%s', (_case, withPath, expected) => {
    const typed = connectFailure(reply(18, 'AuthenticationFailed', 'Authentication failed.'), withPath, { driver, waitSeconds: 0, retryLeft: true });
    expect(typed).toBeInstanceOf(MongoAuthFailedError);
    expect(typed?.message).toContain(expected);
    expect(typed?.message).not.toContain('pw@');
  });
});
