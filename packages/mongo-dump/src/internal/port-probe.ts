import { randomInt } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { serialize } from 'bson';
import { mongoHosts } from './url.js';

/** What one raw TCP connection to a single host:port learned, for the messages of a failed attempt. */
export interface PortProbeReport {
  /** The server accepted the TCP connection. */
  accepted: boolean;
  /** ...and closed it again without sending anything (a port forward whose server is not running...). */
  closedSilently: boolean;
  /** ...and answered the probe's hello with a MongoDB reply: a MongoDB server (or FerretDB) runs there. */
  answered: boolean;
}

/**
 * What the probe concludes on its own: nothing listens there, the server closed the connection on the
 * probe's hello without answering (a port forward whose server is not up, a TLS-only port), or it is not a
 * MongoDB server.
 */
export type ProbeConclusion = { kind: 'refused'; error: Error } | { kind: 'closed'; error: Error } | { kind: 'spoke'; data: Buffer };
/**
 * When the driver may start: `mongo` (a MongoDB reply to the probe's hello), `silent` (accepted, no
 * conclusive answer in time) or `pending` (no TCP answer yet), or a conclusion that ends the attempt.
 */
export type ProbeGate = ProbeConclusion | { kind: 'mongo' } | { kind: 'silent' } | { kind: 'pending' };

export interface PortProbe {
  /** Resolves once the driver may talk to the server, or with a conclusion that ends the attempt first. */
  gate: Promise<ProbeGate>;
  /** Resolves if and when the probe concludes, also after the gate opened; never otherwise. */
  conclusion: Promise<ProbeConclusion>;
  report: PortProbeReport;
  close(): void;
}

/** Errors of connecting that mean no server can be reached at that address now. */
const REFUSED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);
/** How long the driver is held back while the probe's TCP connect has no answer (a far host, dropped SYNs). */
const PROBE_CONNECT_HOLD_MS = 1000;
/**
 * After the probe connects, how long to wait for a conclusive answer before the driver starts anyway: a
 * greeting or a reply arrives about one round trip after the connect (the TCP connect itself took one),
 * plus the server's own time (MariaDB on loopback: under 2 ms). Bytes arriving later (a MySQL server slow
 * to resolve the client's name) are still caught while the driver runs, but only best effort: the driver
 * may read its own copy first.
 */
const answerWaitMs = (connectMs: number) => Math.min(300, 15 + 3 * connectMs);
/** OP_MSG, the opcode of every request and reply since MongoDB 3.6; OP_REPLY, the legacy reply. */
const OP_MSG = 2013;
const OP_REPLY = 1;
const HEADER_BYTES = 16;

/** The single `host:port` of a URL the probe can reach directly, or undefined (SRV, several hosts, proxy, socket). */
export function probeTarget(url: string): { host: string; port: number } | undefined {
  if (!/^mongodb:\/\//i.test(url) || /[?&]proxyHost=/i.test(url)) return undefined;
  const hosts = mongoHosts(url);
  const match = /^(?:\[([0-9a-f:.]+)\]|([^\s:/%,[\]@]+)):(\d{1,5})$/i.exec(hosts);
  if (!match) return undefined;
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (port < 1 || port > 65535 || host.endsWith('.sock')) return undefined;
  return { host, port };
}

/**
 * The probe's request id: random, positive, and with the bytes `\r\n` first (little-endian), so the hello
 * always holds a line end. A line-based server that waits for its client (HTTP, Redis, SMTP after its
 * banner) then answers it at once, and is named, instead of waiting for a line that never comes (which
 * left the driver to time out, or not, depending on a random id).
 */
export function probeRequestId(): number {
  return 0x0a0d + randomInt(0x100, 0x7fff) * 0x10000;
}

/** A `hello` command as one OP_MSG (header, no flags, one body section), with its request id. */
export function helloMessage(requestId: number): Buffer {
  const body = Buffer.from(serialize({ hello: 1, $db: 'admin' }));
  const message = Buffer.alloc(HEADER_BYTES + 4 + 1 + body.length);
  message.writeInt32LE(message.length, 0);
  message.writeInt32LE(requestId, 4);
  message.writeInt32LE(0, 8);
  message.writeInt32LE(OP_MSG, 12);
  message.writeUInt32LE(0, 16);
  message.writeUInt8(0, 20);
  body.copy(message, 21);
  return message;
}

/** The start of a MongoDB reply to request `requestId`: a plausible length, `responseTo` and a reply opcode. */
export function isReplyTo(header: Buffer, requestId: number): boolean {
  if (header.length < HEADER_BYTES) return false;
  const length = header.readInt32LE(0);
  const opCode = header.readInt32LE(12);
  return length > HEADER_BYTES && length <= 48 * 1024 * 1024 && header.readInt32LE(8) === requestId && (opCode === OP_MSG || opCode === OP_REPLY);
}

/**
 * One raw TCP connection to host:port. A refused connect, or bytes that are no MongoDB reply, settle the
 * attempt; a MongoDB reply opens the gate for the driver at once; silence opens it after a short wait.
 * With `hello` (plain-text URLs) the probe sends a MongoDB `hello` as soon as it is connected, so a MongoDB
 * server answers within a round trip; without it (TLS URLs: the server waits for a TLS handshake) it only
 * listens. Closed by the caller.
 */
export function openPortProbe(target: { host: string; port: number }, options: { hello: boolean }): PortProbe {
  const report: PortProbeReport = { accepted: false, closedSilently: false, answered: false };
  const started = performance.now();
  const requestId = probeRequestId();
  const socket = tcpConnect({ host: target.host, port: target.port, autoSelectFamily: true });
  let openGate!: (gate: ProbeGate) => void;
  let conclude!: (conclusion: ProbeConclusion) => void;
  const gate = new Promise<ProbeGate>((resolve) => (openGate = resolve));
  const conclusion = new Promise<ProbeConclusion>((resolve) => (conclude = resolve));
  const timers: NodeJS.Timeout[] = [setTimeout(() => openGate({ kind: 'pending' }), PROBE_CONNECT_HOLD_MS)];
  const close = () => {
    for (const timer of timers) clearTimeout(timer);
    socket.destroy();
  };
  const settle = (found: ProbeConclusion) => {
    openGate(found);
    conclude(found);
    close();
  };
  let received = Buffer.alloc(0);
  socket.once('connect', () => {
    report.accepted = true;
    if (options.hello) socket.write(helloMessage(requestId));
    timers.push(setTimeout(() => openGate({ kind: 'silent' }), answerWaitMs(performance.now() - started)));
  });
  socket.on('data', (data: Buffer) => {
    received = Buffer.concat([received, data]);
    // A reply's header may in theory arrive in pieces: wait for all of it before judging.
    if (options.hello && received.length < HEADER_BYTES) return;
    if (options.hello && isReplyTo(received, requestId)) {
      report.answered = true;
      openGate({ kind: 'mongo' });
      close();
      return;
    }
    settle({ kind: 'spoke', data: received });
  });
  socket.once('end', () => {
    if (received.length > 0) {
      settle({ kind: 'spoke', data: received });
      return;
    }
    report.closedSilently = true;
    // Closing on a hello is an answer: the driver's own hello would only be closed on too (for 5 s).
    if (options.hello) settle({ kind: 'closed', error: new Error('the server closed the connection on a MongoDB hello without answering') });
    else openGate({ kind: 'silent' });
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    const code = error.code ?? (error as { errors?: NodeJS.ErrnoException[] }).errors?.[0]?.code;
    if (!report.accepted && code !== undefined && REFUSED_CODES.has(code)) {
      settle({ kind: 'refused', error: error instanceof AggregateError && error.errors[0] instanceof Error ? error.errors[0] : error });
      return;
    }
    if (report.accepted && code === 'ECONNRESET') {
      report.closedSilently = true;
      if (options.hello && received.length === 0) {
        settle({ kind: 'closed', error: new Error('the server reset the connection on a MongoDB hello without answering') });
        return;
      }
    }
    // Anything else (a timeout, a reset): the driver finds out for itself.
    openGate({ kind: report.accepted ? 'silent' : 'pending' });
    close();
  });
  return { gate, conclusion, report, close };
}

/**
 * What a server sent that is no MongoDB reply, in words: a MySQL greeting (with its version) or error
 * packet, an SSH banner, an HTTP response, a TLS alert, or the printable start of anything else.
 */
export function describeNonMongoBytes(data: Buffer): string {
  // A MySQL packet: 3-byte length, sequence 0, then protocol version 10 and a NUL-terminated version...
  const length = data.length >= 5 ? data.readUIntLE(0, 3) : -1;
  if (length > 0 && data[3] === 0 && data[4] === 10) {
    const end = data.indexOf(0, 5);
    const version = printable(data.subarray(5, end > 5 ? end : Math.min(data.length, 5 + 60)));
    return `it greeted like a MySQL server${version ? ` (version ${version})` : ''}, and a MongoDB server never speaks first`;
  }
  // ...or an error packet instead of the greeting (0xff, error number, message), e.g. host not allowed.
  if (length > 0 && data[3] === 0 && data[4] === 0xff && data.length >= 7) {
    const message = printable(data.subarray(data[7] === 0x23 ? 13 : 7, 4 + length));
    return `it sent a MySQL error (${message}), and a MongoDB server never speaks first`;
  }
  // A TLS record of type alert (21), protocol version 3.x: the server wanted a TLS handshake.
  if (data.length >= 3 && data[0] === 21 && data[1] === 3 && data[2]! <= 4) {
    return 'it answered with a TLS alert: it expects TLS on this port (add tls=true to the URL)';
  }
  const text = printable(data.subarray(0, 80));
  if (text.startsWith('SSH-')) return `it sent an SSH banner (${text}), and a MongoDB server never speaks first`;
  if (/^HTTP\/\d/.test(text)) return `it answered like an HTTP server (${printable(data.subarray(0, data.indexOf('\r\n') > 0 ? data.indexOf('\r\n') : 80))})`;
  return `it sent${text ? ` "${text}"` : ' bytes'}, which is no MongoDB reply (a MySQL, SSH or SMTP server speaks first; an HTTP server answers in text)`;
}

/** Printable ASCII of some bytes, every other run of bytes as one space, trimmed. */
function printable(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[^\x20-\x7e]+/g, ' ').trim();
}
