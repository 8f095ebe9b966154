import { expect, it } from 'vitest';
import { rejectionOf } from '../../../test/support/rejection.js';
import { fakeServer } from '../../../test/support/loopback.js';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { parseMysqlUrl, readSchema, ServerUnreachableError } from '../src/index.js';
import { describeConnectFailure, openSession } from '../src/internal/connect.js';
import { NoMysqlGreetingError } from '../src/internal/errors.js';

/** host:port of a harness URL (mongodb:// or http://). */
const hostPort = (url: string) => new URL(url.replace(/^mongodb:/, 'http:')).host;


/** What mysql2 rejects with when the connect timeout runs out (connection.js _handleTimeoutError). */
const connectTimedOut = () => Object.assign(new Error('connect ETIMEDOUT'), { errorno: 'ETIMEDOUT', code: 'ETIMEDOUT', syscall: 'connect', fatal: true });

/** The error of one attempt: each waits out mysql2's 8 s connect timeout, then names what listens there. */
function expectNoGreeting(error: Error, address: string) {
  expect(error).toBeInstanceOf(NoMysqlGreetingError);
  // Still a kind of ServerUnreachableError for callers that catch that, with a code of its own.
  expect(error).toBeInstanceOf(ServerUnreachableError);
  expect(error).toMatchObject({ code: 'no-greeting', fatal: true, address });
  expect(error.message).toContain(`server at ${address} accepted the TCP connection but sent no MySQL greeting within the 8 s connect timeout (ETIMEDOUT)`);
  expect(error.message).not.toContain('start it');
  expect(error.message).not.toContain('hunter2');
}

// Concurrent: each of the first three waits out mysql2's connect timeout once.
describeWithServices(['mysql', 'mongo', 's3'], 'a MySQL URL at a port where another kind of server listens, or none', () => {
  it.concurrent('the Mongo port: names a server that accepts but does not greet, without retrying it as unreachable while waiting', async () => {
    const address = hostPort(serviceVar('TEST_MONGO_URL'));
    // A wait of 30 s, longer than this test may take: the first attempt decides.
    const error = await rejectionOf(() => readSchema(`mysql://root:hunter2@${address}`, 'shop', { wait: 30 }));
    expectNoGreeting(error, address);
    expect(error.message).toContain('is it another kind of server (HTTP, MongoDB...), a proxy whose server is down, or a MySQL server too busy to answer? Check host and port');
  }, 20_000);

  it.concurrent('the S3 (MinIO, HTTP) port: names a server that accepts but does not greet, without retrying it as unreachable while waiting', async () => {
    const address = hostPort(serviceVar('TEST_S3_ENDPOINT'));
    const error = await rejectionOf(() => openSession({ url: `mysql://root:hunter2@${address}`, wait: 30 }));
    expectNoGreeting(error, address);
  }, 20_000);

  it.concurrent('a server that speaks first, but not MySQL: says what it sends', async () => {
    const ssh = await fakeServer((socket) => socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'));
    try {
      const address = `127.0.0.1:${ssh.port}`;
      const error = await rejectionOf(() => openSession({ url: `mysql://root:hunter2@${address}` }));
      expectNoGreeting(error, address);
      expect(error.message).toContain('and it sends "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3" instead: it is not a MySQL server; check host and port');
    } finally {
      await ssh.close();
    }
  }, 20_000);

  it('a timeout where nothing accepts the connection stays "unreachable" (and is retried while waiting)', async () => {
    const closed = await fakeServer(() => undefined);
    const url = parseMysqlUrl(`mysql://root:hunter2@127.0.0.1:${closed.port}`);
    await closed.close();
    const error = await describeConnectFailure(connectTimedOut(), url, { waitedSeconds: 5 });
    expect(error).toBeInstanceOf(ServerUnreachableError);
    expect(error).not.toBeInstanceOf(NoMysqlGreetingError);
    expect(error).toMatchObject({ code: 'server-unreachable', waitedSeconds: 5 });
  });

  it('a timeout while the real MySQL server greets at once (TLS or a busy moment) stays "unreachable"', async () => {
    const url = parseMysqlUrl(serviceVar('TEST_MYSQL_URL'));
    const error = await describeConnectFailure(connectTimedOut(), url);
    expect(error).toMatchObject({ code: 'server-unreachable' });
  });
});
