import { MongoAPIError, MongoParseError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { deserialize } from 'bson';
import { describe, expect, test } from 'vitest';
import { MongoDumpError, MongoNoHandshakeError, MongoNotSelectableError, MongoUnreachableError, MongoWrongProtocolError } from '../src/index.js';
import { connectFailure } from '../src/internal/connect.js';
import { describeNonMongoBytes, helloMessage, isReplyTo, probeRequestId, probeTarget } from '../src/internal/port-probe.js';

const driver = { MongoServerError, MongoAPIError, MongoParseError };
const selectionFailed = (message: string) => new MongoServerSelectionError(message, {} as ConstructorParameters<typeof MongoServerSelectionError>[1]);

/** MariaDB 10.11's greeting as it arrived on a fresh TCP connection (the scramble is random per connection). */
const MARIADB_GREETING = Buffer.from(
  '640000000a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275310080070000552f287b536f533200feff080200ff81150000000000001d0000003f2846675657313140306c54006d7973716c5f6e61746976655f70617373776f726400',
  'hex',
);

/** A MySQL error packet sent instead of the greeting (1130, no SQL state before the handshake). */
function mysqlErrorPacket(errno: number, message: string): Buffer {
  const payload = Buffer.concat([Buffer.from([0xff, errno & 0xff, errno >> 8]), Buffer.from(message, 'latin1')]);
  return Buffer.concat([Buffer.from([payload.length & 0xff, (payload.length >> 8) & 0xff, payload.length >> 16, 0]), payload]);
}

describe('what a server that is not MongoDB sent, in words', () => {
  test.each([
    ['a MariaDB greeting', MARIADB_GREETING, 'it greeted like a MySQL server (version 5.5.5-10.11.19-MariaDB-0+deb12u1), and a MongoDB server never speaks first'],
    [
      'a MySQL error instead of the greeting',
      mysqlErrorPacket(1130, "Host '10.0.0.9' is not allowed to connect to this MariaDB server"),
      "it sent a MySQL error (Host '10.0.0.9' is not allowed to connect to this MariaDB server), and a MongoDB server never speaks first",
    ],
    ['an SSH banner', Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'), 'it sent an SSH banner (SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3), and a MongoDB server never speaks first'],
    ['an HTTP answer to the hello', Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\n'), 'it answered like an HTTP server (HTTP/1.1 400 Bad Request)'],
    ['a TLS alert (a TLS-only port)', Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]), 'it answered with a TLS alert: it expects TLS on this port (add tls=true to the URL)'],
    ['an SMTP greeting', Buffer.from('220 mail.example.com ESMTP Postfix\r\n'), 'it sent "220 mail.example.com ESMTP Postfix", which is no MongoDB reply (a MySQL, SSH or SMTP server speaks first; an HTTP server answers in text)'],
    ['binary bytes only', Buffer.from([0, 1, 2, 3]), 'it sent bytes, which is no MongoDB reply (a MySQL, SSH or SMTP server speaks first; an HTTP server answers in text)'],
  ])('%s', (_case, bytes, words) => {
    expect(describeNonMongoBytes(bytes)).toBe(words);
  });

  test('the error names host:port and what to check', () => {
    const error = new MongoWrongProtocolError('127.0.0.1:3306', describeNonMongoBytes(MARIADB_GREETING));
    expect(error).toBeInstanceOf(MongoDumpError);
    expect(error).toMatchObject({ code: 'wrong-protocol', severity: 'fatal', hosts: '127.0.0.1:3306' });
    expect(error.message).toBe(
      'server at 127.0.0.1:3306 is not a MongoDB server: it greeted like a MySQL server (version 5.5.5-10.11.19-MariaDB-0+deb12u1), and a MongoDB server never speaks first; check host and port in the URL',
    );
  });
});

describe('a server that accepted the TCP connection is not called unreachable', () => {
  const timedOut = selectionFailed('Server selection timed out after 5000 ms');
  const accepted = { accepted: true, closedSilently: false, answered: false };

  test.each([
    [
      'tls=true at a port without TLS',
      'mongodb://app:Sup3rSecret@localhost:27017/?tls=true&tlsCAFile=/ca.pem',
      accepted,
      'server at localhost:27017 accepted TCP connections but completed no MongoDB handshake (Server selection timed out after 5000 ms); the URL asks for TLS (tls=true): does the server offer TLS on this port? Give the port of its TLS listener, or leave tls out if it has none',
    ],
    [
      'a server of another kind that waits for its client',
      'mongodb://app:Sup3rSecret@10.0.0.5:9000',
      accepted,
      'server at 10.0.0.5:9000 accepted TCP connections but completed no MongoDB handshake (Server selection timed out after 5000 ms); is it another kind of server (HTTP...), a server that requires TLS (add tls=true), or a proxy whose server is down? Check host and port',
    ],
    [
      'a port forward that closes each connection',
      'mongodb://app:Sup3rSecret@10.0.0.5:27017',
      { accepted: true, closedSilently: true, answered: false },
      'server at 10.0.0.5:27017 accepted TCP connections but completed no MongoDB handshake (Server selection timed out after 5000 ms); it closes connections without a word: a port forward or proxy whose server is not running, a server that requires TLS (add tls=true), or one refusing connections; check the server behind that port',
    ],
  ])('%s', (_case, url, probe, message) => {
    const typed = connectFailure(timedOut, url, { driver, waitSeconds: 0, retryLeft: false, probe });
    expect(typed).toBeInstanceOf(MongoNoHandshakeError);
    // Still a kind of MongoUnreachableError for callers that catch that, with a code of its own.
    expect(typed).toBeInstanceOf(MongoUnreachableError);
    expect(typed).toMatchObject({ code: 'no-handshake', severity: 'fatal', message });
    expect(typed?.message).not.toContain('Sup3rSecret');
    expect(typed?.message).not.toContain('start it');
  });

  test.each([
    [
      'a replicaSet the server is no member of',
      'mongodb://app:Sup3rSecret@127.0.0.1:17017/?replicaSet=rs0',
      'MongoDB at 127.0.0.1:17017 answered, but it is not a member of replica set "rs0" that the URL\'s replicaSet names (a standalone server, or one in another set; the driver said: Server selection timed out after 5000 ms); drop replicaSet from the URL for a standalone server, or give the name of the server\'s replica set',
    ],
    [
      'another reason the driver would not select it',
      'mongodb://127.0.0.1:17017/?readPreference=secondary',
      "MongoDB at 127.0.0.1:17017 answered, but the driver did not select it (Server selection timed out after 5000 ms); check the URL's options (directConnection, readPreference, loadBalanced)",
    ],
  ])('a server that answered the probe\'s hello is not said to lack a handshake: %s', (_case, url, message) => {
    const typed = connectFailure(timedOut, url, { driver, waitSeconds: 0, retryLeft: false, probe: { accepted: true, closedSilently: false, answered: true } });
    expect(typed).toBeInstanceOf(MongoNotSelectableError);
    // Callers branch on the code of a server that answers with a failure.
    expect(typed).toMatchObject({ code: 'connect-failed', severity: 'fatal', message });
    expect(typed?.message).not.toContain('Sup3rSecret');
  });

  test('after a wait, it says how long', () => {
    const typed = connectFailure(timedOut, 'mongodb://10.0.0.5:9000', { driver, waitSeconds: 30, retryLeft: false, probe: accepted });
    expect(typed?.message).toContain('completed no MongoDB handshake after waiting 30 s (Server selection timed out after 5000 ms)');
  });

  test('it is still retried while the wait lasts (a server behind a proxy may be starting)', () => {
    expect(connectFailure(timedOut, 'mongodb://10.0.0.5:9000', { driver, waitSeconds: 30, retryLeft: true, probe: accepted })).toBeUndefined();
  });

  test('a refusal the driver saw later wins over the probe\'s accepted connection (the server stopped meanwhile)', () => {
    const typed = connectFailure(selectionFailed('connect ECONNREFUSED 10.0.0.5:27017'), 'mongodb://10.0.0.5:27017', { driver, waitSeconds: 0, retryLeft: false, probe: accepted });
    expect(typed).not.toBeInstanceOf(MongoNoHandshakeError);
    expect(typed).toMatchObject({ code: 'server-unreachable' });
  });

  test('without a probe (several hosts, SRV) a timeout stays "unreachable"', () => {
    const typed = connectFailure(timedOut, 'mongodb://a:1,b:2', { driver, waitSeconds: 0, retryLeft: false });
    expect(typed).not.toBeInstanceOf(MongoNoHandshakeError);
    expect(typed).toBeInstanceOf(MongoUnreachableError);
  });
});

describe('which URLs get a raw TCP probe', () => {
  test.each<[string, string, { host: string; port: number } | undefined]>([
    ['one host and port', 'mongodb://u:p@127.0.0.1:17017/shop?authSource=admin', { host: '127.0.0.1', port: 17017 }],
    ['the default port', 'mongodb://db.internal/shop', { host: 'db.internal', port: 27017 }],
    ['an IPv6 literal', 'mongodb://[::1]:27018/', { host: '::1', port: 27018 }],
    ['a password with @ and :', 'mongodb://u:p%40ss:w@rd@localhost:27017', { host: 'localhost', port: 27017 }],
    ['not SRV (the driver looks the hosts up)', 'mongodb+srv://cluster0.example.net/shop', undefined],
    ['not several hosts (a replica set seed list)', 'mongodb://a:27017,b:27017/?replicaSet=rs0', undefined],
    ['not through a SOCKS5 proxy', 'mongodb://10.0.0.5:27017/?proxyHost=jump.example.net&proxyPort=1080', undefined],
    ['not a Unix domain socket', 'mongodb://%2Ftmp%2Fmongodb-27017.sock', undefined],
    ['not an unparsable URL', 'http://10.0.0.5:27017', undefined],
  ])('%s', (_case, url, target) => {
    expect(probeTarget(url)).toEqual(target);
  });
});

describe('the probe\'s hello and what counts as a MongoDB reply', () => {
  test('the hello is one OP_MSG: its length, the request id, no responseTo, opcode 2013, a body section with {hello: 1, $db: "admin"}', () => {
    const message = helloMessage(4242);
    expect(message.readInt32LE(0)).toBe(message.length);
    expect([message.readInt32LE(4), message.readInt32LE(8), message.readInt32LE(12), message.readUInt32LE(16), message[20]]).toEqual([4242, 0, 2013, 0, 0]);
    expect(deserialize(message.subarray(21))).toEqual({ hello: 1, $db: 'admin' });
  });

  test('every probe id is positive and puts a line end into the hello, so line-based servers answer it', () => {
    for (let i = 0; i < 200; i++) {
      const id = probeRequestId();
      expect(id).toBeGreaterThan(0);
      expect(helloMessage(id).subarray(4, 6).toString('latin1')).toBe('\r\n');
    }
  });

  const header = (length: number, responseTo: number, opCode: number) => {
    const bytes = Buffer.alloc(16);
    bytes.writeInt32LE(length, 0);
    bytes.writeInt32LE(99, 4);
    bytes.writeInt32LE(responseTo, 8);
    bytes.writeInt32LE(opCode, 12);
    return bytes;
  };
  test.each([
    ['an OP_MSG reply to the request', header(300, 4242, 2013), true],
    ['a legacy OP_REPLY to the request', header(300, 4242, 1), true],
    ['a reply to another request', header(300, 4243, 2013), false],
    ['another opcode', header(300, 4242, 2004), false],
    ['a length shorter than a header', header(12, 4242, 2013), false],
    ['a length over 48 MiB', header(64 * 1024 * 1024, 4242, 2013), false],
    ['a MariaDB greeting', MARIADB_GREETING, false],
    ['an HTTP answer', Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), false],
    ['fewer than 16 bytes', header(300, 4242, 2013).subarray(0, 15), false],
  ])('%s: %s', (_case, bytes, expected) => {
    expect(isReplyTo(bytes, 4242)).toBe(expected);
  });
});
