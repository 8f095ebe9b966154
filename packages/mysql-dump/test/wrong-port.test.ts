import { describe, expect, test } from 'vitest';
import { MysqlDumpError, parseMysqlUrl, ServerUnreachableError } from '../src/index.js';
import { describeServerError, isMysqlGreeting } from '../src/internal/connect.js';
import { NoMysqlGreetingError } from '../src/internal/errors.js';

/** MariaDB 10.11's greeting as it arrived on a fresh TCP connection (the scramble is random per connection). */
const MARIADB_GREETING = Buffer.from(
  '640000000a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275310080070000552f287b536f533200feff080200ff81150000000000001d0000003f2846675657313140306c54006d7973716c5f6e61746976655f70617373776f726400',
  'hex',
);

/** A MySQL protocol packet with sequence number 0. */
const packet = (payload: Buffer) => Buffer.concat([Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, payload.length >> 16, 0]), payload]);

describe('a server that accepted the TCP connection but sent no MySQL greeting', () => {
  test('the message names host:port, the timeout and what to check, never "start it"', () => {
    const error = new NoMysqlGreetingError('127.0.0.1:17017', 'ETIMEDOUT', { timeoutSeconds: 8 });
    expect(error).toBeInstanceOf(MysqlDumpError);
    expect(error).toBeInstanceOf(ServerUnreachableError);
    expect(error).toMatchObject({
      code: 'no-greeting',
      fatal: true,
      address: '127.0.0.1:17017',
      message:
        'server at 127.0.0.1:17017 accepted the TCP connection but sent no MySQL greeting within the 8 s connect timeout (ETIMEDOUT); ' +
        'is it another kind of server (HTTP, MongoDB...), a proxy whose server is down, or a MySQL server too busy to answer? Check host and port',
    });
    expect(error.message).not.toMatch(/start it|--|\bpass\b/);
  });

  test('what it sent instead, when it spoke', () => {
    const error = new NoMysqlGreetingError('10.0.0.5:22', 'ETIMEDOUT', { timeoutSeconds: 8, sent: 'SSH-2.0-OpenSSH_9.2p1' });
    expect(error.message).toBe(
      'server at 10.0.0.5:22 accepted the TCP connection but sent no MySQL greeting within the 8 s connect timeout (ETIMEDOUT), and it sends "SSH-2.0-OpenSSH_9.2p1" instead: it is not a MySQL server; check host and port',
    );
  });

  test('describeServerError stays synchronous: a timeout alone is still "unreachable" (the probe is made by the connect path)', () => {
    const timedOut = Object.assign(new Error('connect ETIMEDOUT'), { errorno: 'ETIMEDOUT', code: 'ETIMEDOUT', syscall: 'connect', fatal: true });
    const typed = describeServerError(timedOut, parseMysqlUrl('mysql://app:Sup3rSecret@10.0.0.5:3307'), { connecting: true });
    expect(typed).toBeInstanceOf(ServerUnreachableError);
    expect(typed).not.toBeInstanceOf(NoMysqlGreetingError);
  });
});

describe('what counts as a MySQL greeting', () => {
  test.each<[string, Buffer, boolean]>([
    ['a MariaDB handshake v10', MARIADB_GREETING, true],
    ['an error packet instead (host not allowed)', packet(Buffer.concat([Buffer.from([0xff, 0x6a, 0x04]), Buffer.from("Host '10.0.0.9' is not allowed to connect")])), true],
    ['an SSH banner', Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'), false],
    ['an HTTP response', Buffer.from('HTTP/1.1 400 Bad Request\r\n'), false],
    ['too short', Buffer.from([1, 0, 0]), false],
  ])('%s', (_case, bytes, greeting) => {
    expect(isMysqlGreeting(bytes)).toBe(greeting);
  });
});
