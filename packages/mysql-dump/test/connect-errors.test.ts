import { describe, expect, test } from 'vitest';
import {
  AccessDeniedError,
  ConnectFailedError,
  HostNotAllowedError,
  MissingPrivilegeError,
  MysqlDumpError,
  MysqlServerError,
  ServerUnreachableError,
  TargetNotEmptyError,
  UnknownDatabaseError,
  parseMysqlUrl,
} from '../src/index.js';
import { describeServerError } from '../src/internal/connect.js';

const url = parseMysqlUrl('mysql://app:Sup3rSecret@10.0.0.5:3307');

/** A server error as mysql2 builds it from an error packet (packets/packet.js asError). */
function serverError(errno: number, code: string, sqlMessage: string, sqlState = 'HY000') {
  return Object.assign(new Error(sqlMessage), { code, errno, sqlState, sqlMessage, fatal: true });
}
/** A socket error as mysql2 passes it on from net (errno is Node's negative number, no sqlMessage). */
function socketError(code: string, errno: number) {
  return Object.assign(new Error(`connect ${code} 10.0.0.5:3307`), { code, errno, syscall: 'connect', fatal: true });
}

describe('connect-time errors are typed, name host:port and the server message, and never the password', () => {
  test.each([
    // Sent instead of the handshake (no SQL state), when no account matches the client's host.
    [
      'host not privileged (1130)',
      serverError(1130, 'ER_HOST_NOT_PRIVILEGED', "Host '127.0.0.1' is not allowed to connect to this MariaDB server", ''),
      HostNotAllowedError,
      'host-not-allowed',
      "MySQL server at 10.0.0.5:3307 does not accept connections from this host (Host '127.0.0.1' is not allowed to connect to this MariaDB server); grant the account access from this host, or connect as another user",
    ],
    [
      'a broken server missing mysql.proc',
      serverError(1146, 'ER_NO_SUCH_TABLE', "Table 'mysql.proc' doesn't exist", '42S02'),
      ConnectFailedError,
      'connect-failed',
      "cannot connect to MySQL server at 10.0.0.5:3307: Table 'mysql.proc' doesn't exist (ER_NO_SUCH_TABLE); check the server and its error log",
    ],
    [
      'too many connections',
      serverError(1040, 'ER_CON_COUNT_ERROR', 'Too many connections', '08004'),
      ConnectFailedError,
      'connect-failed',
      'cannot connect to MySQL server at 10.0.0.5:3307: Too many connections (ER_CON_COUNT_ERROR); check the server and its error log',
    ],
    [
      'a server message that echoes the password',
      serverError(1105, 'ER_UNKNOWN_ERROR', 'plugin said Sup3rSecret and mysql://app:Sup3rSecret@10.0.0.5 are bad'),
      ConnectFailedError,
      'connect-failed',
      'cannot connect to MySQL server at 10.0.0.5:3307: plugin said *** and mysql://app:***@10.0.0.5 are bad (ER_UNKNOWN_ERROR); check the server and its error log',
    ],
    [
      'a driver failure during the handshake',
      Object.assign(new Error('Received packet in the wrong sequence.'), { code: 'PROTOCOL_PACKETS_OUT_OF_ORDER', fatal: true }),
      ConnectFailedError,
      'connect-failed',
      'cannot connect to MySQL server at 10.0.0.5:3307: Received packet in the wrong sequence. (PROTOCOL_PACKETS_OUT_OF_ORDER); check the server and its error log',
    ],
    [
      'wrong password (1045)',
      serverError(1045, 'ER_ACCESS_DENIED_ERROR', "Access denied for user 'app'@'10.0.0.1' (using password: YES)", '28000'),
      AccessDeniedError,
      'access-denied',
      "MySQL server at 10.0.0.5:3307 rejected user 'app' (wrong user or password); check the credentials in the URL",
    ],
    [
      'no access to the database in the URL (1044)',
      serverError(1044, 'ER_DBACCESS_DENIED_ERROR', "Access denied for user 'app'@'%' to database 'shop'", '42000'),
      MissingPrivilegeError,
      'missing-privilege',
      "user 'app' lacks a privilege on 10.0.0.5:3307: Access denied for user 'app'@'%' to database 'shop' (ER_DBACCESS_DENIED_ERROR); grant it or use another user",
    ],
    [
      'refused port',
      socketError('ECONNREFUSED', -111),
      ServerUnreachableError,
      'server-unreachable',
      'cannot reach MySQL server at 10.0.0.5:3307 (ECONNREFUSED); start it, check host and port, or wait longer for it to start',
    ],
  ])('%s', (_case, error, type, code, message) => {
    const typed = describeServerError(error, url, { connecting: true });
    expect(typed).toBeInstanceOf(MysqlDumpError);
    expect(typed).toBeInstanceOf(type);
    expect(typed).toMatchObject({ code, fatal: true, message });
    expect(typed.message).not.toContain('Sup3rSecret');
  });

  test('an unknown database named in the URL', () => {
    const typed = describeServerError(serverError(1049, 'ER_BAD_DB_ERROR', "Unknown database 'shop'", '42000'), url, { database: 'shop', connecting: true });
    expect(typed).toBeInstanceOf(UnknownDatabaseError);
    expect(typed).toMatchObject({ code: 'unknown-database', database: 'shop' });
  });

  test('unreachable after waiting says how long it waited', () => {
    const typed = describeServerError(socketError('ECONNREFUSED', -111), url, { connecting: true, waitedSeconds: 30 });
    expect(typed).toMatchObject({
      waitedSeconds: 30,
      message: 'cannot reach MySQL server at 10.0.0.5:3307 (ECONNREFUSED after waiting 30 s); start it, check host and port, or wait longer for it to start',
    });
  });
});

describe('errors after connecting', () => {
  test('an unrecognised server error is typed and names the operation', () => {
    const typed = describeServerError(serverError(1146, 'ER_NO_SUCH_TABLE', "Table 'mysql.proc' doesn't exist", '42S02'), url, { operation: 'dumping database `shop`' });
    expect(typed).toBeInstanceOf(MysqlServerError);
    expect(typed).toMatchObject({
      code: 'server-error',
      message: "MySQL server at 10.0.0.5:3307 failed while dumping database `shop`: Table 'mysql.proc' doesn't exist (ER_NO_SUCH_TABLE)",
    });
  });

  test('a failure that is not the server\'s (a full disk) keeps its own kind', () => {
    const disk = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
    const typed = describeServerError(disk, url, { operation: 'dumping database `shop`' });
    expect(typed).not.toBeInstanceOf(MysqlDumpError);
    expect(typed.message).toBe('ENOSPC: no space left on device, write (on 10.0.0.5:3307 while dumping database `shop`)');
  });
});

describe('messages name no CLI flag or action input', () => {
  test.each([
    [new ServerUnreachableError('h:1', 'ECONNREFUSED'), 'cannot reach MySQL server at h:1 (ECONNREFUSED); start it, check host and port, or wait longer for it to start'],
    [new TargetNotEmptyError('shop', 12), 'MySQL database `shop` is not empty (12 objects); load into an empty database or replace it'],
    [new TargetNotEmptyError('shop', 1), 'MySQL database `shop` is not empty (1 object); load into an empty database or replace it'],
  ])('%s', (error, message) => {
    expect(error.message).toBe(message);
    expect(error.message).not.toMatch(/--|\bpass\b|wait time/);
  });

  test('the structured fields stay for callers to name their own options', () => {
    expect(new TargetNotEmptyError('shop', 12)).toMatchObject({ code: 'target-not-empty', database: 'shop', objectCount: 12 });
    expect(new ServerUnreachableError('h:1', 'ETIMEDOUT', { waitedSeconds: 5 })).toMatchObject({ code: 'server-unreachable', address: 'h:1', waitedSeconds: 5 });
  });
});
