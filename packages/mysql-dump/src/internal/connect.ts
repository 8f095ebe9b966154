import { setTimeout as sleep } from 'node:timers/promises';
import { readFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import type { Pool as CallbackPool } from 'mysql2';
import type { Pool, PoolConnection } from 'mysql2/promise';
import {
  AccessDeniedError,
  ConnectFailedError,
  HostNotAllowedError,
  MissingPrivilegeError,
  MysqlDumpError,
  MysqlServerError,
  NoMysqlGreetingError,
  ServerUnreachableError,
  TlsError,
  UnknownDatabaseError,
} from './errors.js';
import { mysqlDriver } from './driver.js';
import { maskSecretsIn, parseMysqlUrl, type MysqlUrl } from './url.js';

export type Flavor = 'mysql' | 'mariadb';
export interface EngineInfo {
  flavor: Flavor;
  /** `major.minor.patch` without distribution suffixes. */
  version: string;
}

export interface ConnectOptions {
  url: string;
  database?: string;
  connections?: number;
  multipleStatements?: boolean;
  /** Seconds to keep retrying while the server is unreachable (a service that is still starting). */
  wait?: number;
  /** Aborting (Ctrl-C) ends that wait between attempts, rejecting with the signal's reason. */
  signal?: AbortSignal | undefined;
}

export interface Session {
  pool: Pool;
  /** The callback-style pool, for streaming queries. */
  raw: CallbackPool;
  url: MysqlUrl;
  engine: EngineInfo;
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 8_000;
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'PROTOCOL_CONNECTION_LOST',
]);

/** Parses a `VERSION()` string such as `10.11.6-MariaDB-1:10.11.6+maria~ubu2204` or `8.0.36`. */
export function parseServerVersion(version: string): EngineInfo {
  const numbers = /^(\d+\.\d+\.\d+)/.exec(version)?.[1] ?? version;
  return { flavor: /mariadb/i.test(version) ? 'mariadb' : 'mysql', version: numbers };
}

/**
 * Opens a small pool and checks it with one round trip, so an unreachable server fails here, within the
 * connect timeout, with host:port in the message. Each connection uses utf8mb4 and UTC so dumped text and
 * TIMESTAMP values do not depend on server or client settings.
 */
export async function openSession(options: ConnectOptions): Promise<Session> {
  const url = parseMysqlUrl(options.url);
  const deadline = Date.now() + (options.wait ?? 0) * 1000;
  const [{ createPool }, ssl] = await Promise.all([mysqlDriver(), sslOption(url)]);
  for (;;) {
    const raw = createPool({
      ...(ssl ? { ssl } : {}),
      host: url.host,
      port: url.port,
      user: url.user,
      password: url.password,
      database: options.database,
      connectionLimit: options.connections ?? 4,
      connectTimeout: CONNECT_TIMEOUT_MS,
      multipleStatements: options.multipleStatements ?? false,
      charset: 'UTF8MB4_GENERAL_CI',
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
    });
    raw.on('connection', (conn) => {
      // SHOW CREATE spells DDL after the session's sql_mode (ANSI_QUOTES quotes names with ", NO_TABLE_OPTIONS
      // drops ENGINE...): the server's default must not change what a dump writes. Loads set their own modes.
      conn.query("SET time_zone = '+00:00', sql_mode = ''");
    });
    const pool = raw.promise();
    try {
      const [rows] = await pool.query<any[]>('SELECT VERSION() AS v');
      const engine = parseServerVersion(String(rows[0].v));
      return { pool, raw, url, engine, close: () => pool.end() };
    } catch (error) {
      await pool.end().catch(() => undefined);
      const mapped = await describeConnectFailure(error, url, { database: options.database, waitedSeconds: options.wait });
      if (mapped instanceof ServerUnreachableError && !(mapped instanceof NoMysqlGreetingError) && Date.now() < deadline) {
        await sleep(500, undefined, options.signal ? { signal: options.signal } : {}).catch((error: unknown) => {
          throw options.signal?.aborted ? options.signal.reason : error;
        });
        continue;
      }
      throw mapped;
    }
  }
}

/** mysql2's `ssl` option for the URL's `ssl-mode` and `ssl-ca` (undefined: unencrypted). */
async function sslOption(url: MysqlUrl): Promise<{ ca?: string; rejectUnauthorized: boolean; verifyIdentity: boolean } | undefined> {
  if (!url.tls) return undefined;
  let ca: string | undefined;
  if (url.tls.caFile !== undefined) {
    try {
      ca = await readFile(url.tls.caFile, 'utf8');
    } catch (error) {
      throw new TlsError(url.address, `cannot read the ssl-ca file ${url.tls.caFile} (${(error as NodeJS.ErrnoException).code ?? String(error)}); give the path of a PEM file holding the CA certificate(s) to trust`);
    }
    // Node ignores a CA file without a PEM certificate, and the connection then fails as 'not trusted'.
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new TlsError(url.address, `the ssl-ca file ${url.tls.caFile} holds no PEM certificate (no -----BEGIN CERTIFICATE----- line); give the path of a PEM file holding the CA certificate(s) to trust`);
    }
  }
  return { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: url.tls.mode !== 'REQUIRED', verifyIdentity: url.tls.mode === 'VERIFY_IDENTITY' };
}

/** OpenSSL's verdicts for a certificate chain that does not lead to a trusted CA. */
const UNTRUSTED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** Node's code for the messages of its certificate checks (OpenSSL's X509 verify strings and Node's own). */
function tlsCodeOfMessage(message: string): string | undefined {
  if (/does not match certificate's altnames|Hostname\/IP does not match/i.test(message)) return 'ERR_TLS_CERT_ALTNAME_INVALID';
  if (/self[- ]signed certificate in certificate chain/i.test(message)) return 'SELF_SIGNED_CERT_IN_CHAIN';
  if (/self[- ]signed certificate/i.test(message)) return 'DEPTH_ZERO_SELF_SIGNED_CERT';
  if (/unable to verify the first certificate/i.test(message)) return 'UNABLE_TO_VERIFY_LEAF_SIGNATURE';
  if (/unable to get (local )?issuer certificate/i.test(message)) return 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY';
  if (/certificate has expired/i.test(message)) return 'CERT_HAS_EXPIRED';
  return undefined;
}

/** What went wrong setting up the TLS the URL asks for, and what to change; undefined for other failures. */
export function tlsFailure(error: { code?: string; message?: string }, url: MysqlUrl): TlsError | undefined {
  const mode = url.tls?.mode;
  // mysql2 reports every failed TLS negotiation as HANDSHAKE_SSL_ERROR, keeping only OpenSSL's or Node's message.
  const code = error.code === 'HANDSHAKE_SSL_ERROR' ? (tlsCodeOfMessage(error.message ?? '') ?? error.code) : (error.code ?? '');
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') {
    return new TlsError(url.address, `the server offers no TLS, but the URL asks for ssl-mode=${mode ?? 'REQUIRED'}; enable TLS on the server (ssl_cert, ssl_key), or leave ssl-mode out to connect unencrypted`, { cause: error });
  }
  if (UNTRUSTED_CERTIFICATE.has(code)) {
    // Without ssl-ca, Node's built-in CA list decides (not the operating system's store).
    const by = url.tls?.caFile ? ` by the CA certificate(s) in ${url.tls.caFile}` : " by Node's built-in CA list";
    return new TlsError(url.address, `its certificate is not trusted${by} (${code}); give the CA that signed it with ssl-ca=/path/to/ca.pem, or use ssl-mode=REQUIRED to encrypt without checking the certificate`, { cause: error });
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new TlsError(url.address, `its certificate is not issued for ${url.host} (${error.message ?? code}); connect with a host name the certificate names, or use ssl-mode=VERIFY_CA to check only who signed it`, { cause: error });
  }
  if (url.tls && (/^(ERR_SSL_|ERR_TLS_|CERT_|HANDSHAKE_SSL_ERROR$)/.test(code) || code === 'EPROTO')) {
    return new TlsError(url.address, `the handshake failed (${code}: ${error.message ?? ''})`, { cause: error });
  }
  return undefined;
}

/** Server error numbers that mean "you lack a privilege", by errno. */
// 1044 database, 1142 table/command, 1143 column, 1227 global (e.g. PROCESS), 1370 routine, 1410 grant, 1419 SUPER.
const PRIVILEGE_ERRNOS = new Set([1044, 1142, 1143, 1227, 1370, 1410, 1419]);

export function isPrivilegeError(error: unknown): boolean {
  const errno = (error as { errno?: number }).errno;
  return errno !== undefined && PRIVILEGE_ERRNOS.has(errno);
}

/** What mysql2 puts on an error: the server's number and message for server errors, a code for all. */
interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
  sqlMessage?: string;
}

/** The server sent this error (as opposed to a network or driver failure): mysql2 then sets `sqlMessage`. */
function isServerReported(error: DriverError): boolean {
  return typeof error.errno === 'number' && typeof error.sqlMessage === 'string';
}

/** The server's message with the driver's error name, e.g. `Table 'mysql.proc' doesn't exist (ER_NO_SUCH_TABLE)`. */
function serverMessageOf(error: DriverError, url: MysqlUrl, withCode = true): string {
  const text = error.sqlMessage ?? error.message ?? String(error);
  return maskSecretsIn(withCode && error.code && !text.includes(error.code) ? `${text} (${error.code})` : text, url);
}

/**
 * Turns a driver error into one of our typed errors with a clear message, password masked. While
 * `connecting`, every failure becomes a typed error (the caller cannot have caused anything else yet);
 * afterwards server errors do, and anything else (a file system error, a bug) passes through.
 */
export function describeServerError(
  error: unknown,
  url: MysqlUrl,
  context: { database?: string | undefined; operation?: string; waitedSeconds?: number | undefined; connecting?: boolean } = {},
): Error {
  if (error instanceof MysqlDumpError) return error;
  const e = (error ?? {}) as DriverError;
  const during = context.operation ? ` while ${context.operation}` : '';
  const tls = context.connecting ? tlsFailure(e, url) : undefined;
  if (tls) return tls;
  if (e.code && UNREACHABLE_CODES.has(e.code)) {
    return new ServerUnreachableError(url.address, e.code, { cause: error, ...(context.waitedSeconds ? { waitedSeconds: context.waitedSeconds } : {}) });
  }
  if (e.errno === 1045) {
    return new AccessDeniedError(
      `MySQL server at ${url.address} rejected user '${url.user}' (wrong user or password); check the credentials in the URL`,
      { cause: error },
    );
  }
  // ER_HOST_NOT_PRIVILEGED: no account matches the client's host, so no password could help.
  if (e.errno === 1130) return new HostNotAllowedError(url.address, serverMessageOf(e, url, false), { cause: error });
  if (e.errno === 1049 && context.database) return new UnknownDatabaseError(context.database, url.address);
  if (isPrivilegeError(error)) {
    return new MissingPrivilegeError(
      `user '${url.user}' lacks a privilege on ${url.address}${during}: ${serverMessageOf(e, url)}; grant it or use another user`,
      { cause: error },
    );
  }
  if (context.connecting) return new ConnectFailedError(url.address, serverMessageOf(e, url), { cause: error });
  if (isServerReported(e)) return new MysqlServerError(url.address, serverMessageOf(e, url), context.operation, { cause: error });
  if (e.message && context.operation) {
    return new Error(`${maskSecretsIn(e.message, url)} (on ${url.address}${during})`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * describeServerError for a failed connect, plus the one check it cannot make synchronously: mysql2 reports
 * both a host that does not answer and a server that accepts the connection but never greets as ETIMEDOUT
 * after the connect timeout, so a quick raw TCP connect tells them apart. A server that accepts it but does
 * not greet like MySQL is another kind of server (or a proxy whose server is down): NoMysqlGreetingError,
 * not "unreachable", and not retried while waiting.
 */
export async function describeConnectFailure(
  error: unknown,
  url: MysqlUrl,
  context: { database?: string | undefined; waitedSeconds?: number | undefined } = {},
): Promise<Error> {
  const mapped = describeServerError(error, url, { ...context, connecting: true });
  if (!(mapped instanceof ServerUnreachableError) || (error as DriverError | undefined)?.code !== 'ETIMEDOUT') return mapped;
  const seen = await probeGreeting(url.host, url.port);
  // Nothing accepts the connection, or a MySQL server greets now (the time ran out later: TLS, a busy server).
  if (!seen.accepted || seen.mysql) return mapped;
  return new NoMysqlGreetingError(url.address, 'ETIMEDOUT', {
    cause: error,
    timeoutSeconds: CONNECT_TIMEOUT_MS / 1000,
    sent: seen.sent === undefined ? undefined : maskSecretsIn(seen.sent, url),
  });
}

const PROBE_CONNECT_TIMEOUT_MS = 1_000;
/** A server that speaks first does so at once; MySQL's greeting follows the accept within milliseconds. */
const PROBE_LISTEN_MS = 300;

/**
 * One raw TCP connection to host:port that sends nothing: whether it is accepted, and whether what the
 * server sends unprompted (within a moment) is a MySQL greeting or error packet, or else its printable start.
 */
export function probeGreeting(host: string, port: number): Promise<{ accepted: boolean; mysql: boolean; sent?: string }> {
  return new Promise((resolve) => {
    let accepted = false;
    const socket = tcpConnect({ host, port, autoSelectFamily: true });
    const done = (result: { accepted: boolean; mysql: boolean; sent?: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    let timer = setTimeout(() => done({ accepted, mysql: false }), PROBE_CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      accepted = true;
      clearTimeout(timer);
      timer = setTimeout(() => done({ accepted, mysql: false }), PROBE_LISTEN_MS);
    });
    socket.once('data', (data: Buffer) => {
      if (isMysqlGreeting(data)) done({ accepted, mysql: true });
      else done({ accepted, mysql: false, sent: data.subarray(0, 80).toString('latin1').replace(/[^\x20-\x7e]+/g, ' ').trim() });
    });
    socket.once('end', () => done({ accepted, mysql: false }));
    socket.on('error', () => done({ accepted, mysql: false }));
  });
}

/** A MySQL protocol packet with sequence number 0 holding a v10 handshake (0x0a) or an error (0xff). */
export function isMysqlGreeting(data: Buffer): boolean {
  return data.length >= 5 && data.readUIntLE(0, 3) > 0 && data[3] === 0 && (data[4] === 0x0a || data[4] === 0xff);
}

/** Runs `body` with one connection of the pool, releasing it afterwards. */
export async function withConnection<T>(pool: Pool, body: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection();
  try {
    return await body(conn);
  } finally {
    conn.release();
  }
}
