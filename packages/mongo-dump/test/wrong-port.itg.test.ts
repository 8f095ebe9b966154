import { execFile } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { rejectionOf } from '../../../test/support/rejection.js';
import { fakeServer, freePort } from '../../../test/support/loopback.js';
import { describeWithServices, serviceVar } from '../../../test/support/services.js';
import { MongoNoHandshakeError, MongoUnreachableError, MongoWrongProtocolError } from '../src/index.js';
import { connectMongo } from '../src/internal/connect.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const connectScript = fileURLToPath(new URL('wrong-port-connect.ts', import.meta.url));

/** host:port of an http:// or mysql:// URL of the harness. */
const hostPort = (url: string) => new URL(url).host;



describeWithServices(['mysql'], 'a MongoDB URL at the MySQL port', () => {
  const mongoUrlAtMysql = () => `mongodb://admin:hunter2@${hostPort(serviceVar('TEST_MYSQL_URL'))}/shop`;
  let childSucceeded = false;

  // The driver reads MySQL's greeting as a reply claiming millions of documents and fills the heap in one
  // synchronous loop: no test timeout can stop that, so the first check runs in a child with a small heap.
  test('ends in MongoWrongProtocolError, in a process with a 256 MB heap that it must not exhaust', async () => {
    const { NODE_EXTRA_CA_CERTS: _slowStart, ...env } = process.env;
    const outcome = await run(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', connectScript, mongoUrlAtMysql(), '30'], {
      cwd: repoRoot,
      env,
      timeout: 20_000,
    }).then(
      ({ stdout }) => JSON.parse(stdout.trim().split('\n').at(-1)!) as { outcome: string; name?: string; code?: string; message?: string },
      (error: { code?: unknown; signal?: unknown; stderr?: string }) => ({
        outcome: `the child process died (exit ${String(error.code)}, signal ${String(error.signal)}): ${error.stderr?.split('\n').find((line) => /FATAL|Error/.test(line)) ?? ''}`,
      }),
    );
    expect(outcome).toMatchObject({ outcome: 'failed', name: 'MongoWrongProtocolError', code: 'wrong-protocol' });
    childSucceeded = true;
  }, 20_000);

  test('the typed error names host:port and what the server sent, at once, not retried while waiting', async () => {
    // Only safe once the child above proved the driver is kept away from the greeting.
    expect(childSucceeded, 'the child process check failed; not repeated in this process').toBe(true);
    // A wait of 30 s: a wrong port is not a server that is starting, so the first attempt decides.
    const error = await rejectionOf(() => connectMongo(mongoUrlAtMysql(), { waitSeconds: 30 }));
    expect(error).toBeInstanceOf(MongoWrongProtocolError);
    expect(error).toMatchObject({ code: 'wrong-protocol', severity: 'fatal' });
    expect(error.message).toMatch(
      new RegExp(`^server at ${hostPort(serviceVar('TEST_MYSQL_URL')).replace(/\./g, '\\.')} is not a MongoDB server: it greeted like a MySQL server \\(version \\S+\\), and a MongoDB server never speaks first`),
    );
    expect(error.message).toContain('check host and port');
    expect(error.message).not.toContain('hunter2');
  }, 20_000);
});

describeWithServices(['mongo'], 'a MongoDB URL at a port where nothing or something else listens', () => {
  test('a closed port is refused at once, not after the driver\'s server selection timeout', async () => {
    const port = await freePort();
    // A selection timeout longer than the test's: only the raw TCP probe can end this attempt in time.
    const error = await rejectionOf(() => connectMongo(`mongodb://admin:hunter2@127.0.0.1:${port}`, { serverSelectionTimeoutMS: 60_000 }));
    expect(error).toBeInstanceOf(MongoUnreachableError);
    expect(error).not.toBeInstanceOf(MongoNoHandshakeError);
    expect(error.message).toBe(
      `MongoDB server at 127.0.0.1:${port} is unreachable (connect ECONNREFUSED 127.0.0.1:${port}); start it, check host and port, or wait longer for it to start`,
    );
  }, 20_000);

  test('a refused port is retried while the wait lasts: a server that starts listening a moment later is connected to', async () => {
    const port = await freePort();
    const target = new URL(serviceVar('TEST_MONGO_URL').replace(/^mongodb:/, 'http:'));
    const sockets: Socket[] = [];
    let forwarder: Server | undefined;
    // A TCP forwarder to the real server that starts listening after 1.5 s: the first attempts are refused.
    const timer = setTimeout(() => {
      forwarder = createServer((socket) => {
        const upstream = connect(Number(target.port), target.hostname);
        sockets.push(socket, upstream);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
        socket.pipe(upstream).pipe(socket);
      }).listen(port, '127.0.0.1');
    }, 1500);
    try {
      const client = await connectMongo(`mongodb://127.0.0.1:${port}`, { waitSeconds: 15 });
      await client.close();
    } finally {
      clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => (forwarder ? forwarder.close(resolve) : resolve(undefined)));
    }
  }, 20_000);

  test('a server that speaks first (an SSH banner) is named as not MongoDB, not waited for', async () => {
    const ssh = await fakeServer((socket) => socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'));
    try {
      const error = await rejectionOf(() => connectMongo(`mongodb://127.0.0.1:${ssh.port}`, { waitSeconds: 30, serverSelectionTimeoutMS: 60_000 }));
      expect(error).toBeInstanceOf(MongoWrongProtocolError);
      expect(error.message).toBe(
        `server at 127.0.0.1:${ssh.port} is not a MongoDB server: it sent an SSH banner (SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3), and a MongoDB server never speaks first; check host and port in the URL`,
      );
    } finally {
      await ssh.close();
    }
  }, 20_000);

  test('a port forward whose server is not running (accepts, then closes): not "start it" as if nothing listened', async () => {
    const forward = await fakeServer((socket) => socket.end());
    try {
      const error = await rejectionOf(() => connectMongo(`mongodb://127.0.0.1:${forward.port}`));
      expect(error).toBeInstanceOf(MongoNoHandshakeError);
      expect(error.message).toMatch(/^server at 127\.0\.0\.1:\d+ accepted TCP connections but completed no MongoDB handshake \(.+\); it closes connections without a word: a port forward or proxy whose server is not running/);
    } finally {
      await forward.close();
    }
  }, 20_000);
});

describeWithServices(['mongo', 'mongoTls'], 'a MongoDB URL asking for TLS at the plain port', () => {
  test('tls=true at the plain port: the server runs but completed no handshake, does it offer TLS there?', async () => {
    // The CA of the TLS listener, so only the port is wrong.
    const caFile = /[?&]tlsCAFile=([^&]*)/.exec(serviceVar('TEST_MONGO_TLS_URL'))![1];
    const plain = hostPort(serviceVar('TEST_MONGO_URL').replace(/^mongodb:/, 'http:')).replace('127.0.0.1', 'localhost');
    const error = await rejectionOf(() => connectMongo(`mongodb://admin:hunter2@${plain}/?tls=true&tlsCAFile=${caFile}`));
    expect(error).toBeInstanceOf(MongoNoHandshakeError);
    expect(error).toMatchObject({ code: 'no-handshake', hosts: plain });
    expect(error.message).toMatch(new RegExp(`^server at ${plain} accepted TCP connections but completed no MongoDB handshake \\(.+\\); the URL asks for TLS \\(tls=true\\): does the server offer TLS on this port\\?`));
    expect(error.message).not.toContain('start it');
    expect(error.message).not.toContain('hunter2');
  }, 20_000);
});

describeWithServices(['s3'], 'a MongoDB URL at an HTTP port', () => {
  test('MinIO\'s port: the probe\'s hello gets an HTTP answer, named at once as not MongoDB', async () => {
    const http = hostPort(serviceVar('TEST_S3_ENDPOINT'));
    // A selection timeout longer than the test's: only the probe can end this attempt in time.
    const error = await rejectionOf(() => connectMongo(`mongodb://${http}`, { waitSeconds: 30, serverSelectionTimeoutMS: 60_000 }));
    expect(error).toBeInstanceOf(MongoWrongProtocolError);
    expect(error.message).toMatch(new RegExp(`^server at ${http.replace(/\./g, '\\.')} is not a MongoDB server: it answered like an HTTP server \\(HTTP/1\\.1 400 Bad Request\\); check host and port in the URL$`));
  }, 20_000);
});
