import { setTimeout as sleep } from 'node:timers/promises';
import type * as MongoModule from 'mongodb';
import type { Document, MongoClient } from 'mongodb';
import { mongoDriver } from './driver.js';
import {
  MongoAuthFailedError,
  MongoConnectFailedError,
  MongoDumpError,
  MongoNoHandshakeError,
  MongoNotSelectableError,
  MongoPrivilegeError,
  MongoTlsError,
  MongoUnreachableError,
  MongoUrlError,
  MongoWrongProtocolError,
} from './errors.js';
import { describeNonMongoBytes, openPortProbe, probeTarget, type PortProbe, type PortProbeReport, type ProbeConclusion } from './port-probe.js';
import { implicitAuthDatabase, maskMongoUrl, maskSecretsIn, mongoHosts, mongoUser } from './url.js';

export interface MongoEngine {
  flavor: 'mongodb' | 'ferretdb';
  /** The engine's own version: MongoDB's, or FerretDB's (e.g. "1.24.2"). */
  version: string;
  /** The MongoDB version the server claims to be compatible with (FerretDB reports one too). */
  mongoCompatibleVersion: string;
}

export interface ConnectOptions {
  /** Keep retrying for up to this many seconds while the server starts (capped at 600). Default 0. */
  waitSeconds?: number;
  /** Per attempt; keeps an unreachable server's error well under 10 s. Default 5000. */
  serverSelectionTimeoutMS?: number;
  /** Aborting (Ctrl-C) ends the wait between attempts, rejecting with the signal's reason. */
  signal?: AbortSignal | undefined;
}

export const MAX_WAIT_SECONDS = 600;
const RETRY_INTERVAL_MS = 1000;
const AUTH_FAILED = 18;
const UNAUTHORIZED = 13;
// HostUnreachable, HostNotFound, NetworkTimeout, ShutdownInProgress, NotYetInitialized, PrimarySteppedDown,
// SocketException, NotWritablePrimary, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary,
// InterruptedAtShutdown, InterruptedDueToReplStateChange.
const STARTING_CODES = new Set([6, 7, 89, 91, 94, 189, 9001, 10107, 13435, 13436, 11600, 11602]);

/**
 * A connected client, after a `ping` proved the server answers and accepts the credentials.
 *
 * For a single `host:port` (not SRV, no proxy) each attempt first opens one raw TCP connection of its own
 * (see openPortProbe), while the driver loads: a refused port fails the attempt at once instead of after
 * the driver's server selection timeout, and a server that is not MongoDB (MySQL, SSH and SMTP speak
 * first; HTTP answers in text) is named before the driver ever reads from it: the driver reads a MySQL
 * greeting as a reply whose document count is garbage and fills the heap synchronously, so it must not
 * see one (closing the client once the probe saw the greeting does not stop a connection already reading
 * it). A plain-text URL's probe sends a `hello` and the driver starts on its reply (one round trip); a TLS
 * URL's probe only listens, and the driver starts 15 ms plus three TCP connect times (at most 300 ms)
 * after the probe connected.
 */
export async function connectMongo(url: string, options: ConnectOptions = {}): Promise<MongoClient> {
  const waitSeconds = Math.min(Math.max(options.waitSeconds ?? 0, 0), MAX_WAIT_SECONDS);
  const deadline = Date.now() + waitSeconds * 1000;
  const target = probeTarget(url);
  // The first attempt's probe runs while the driver loads (~50 ms on first use).
  let probe = target && openPortProbe(target, { hello: !asksForTls(url) });
  let driver: typeof MongoModule;
  try {
    driver = await mongoDriver();
  } catch (error) {
    probe?.close();
    throw error;
  }
  const { MongoClient } = driver;
  for (;;) {
    probe ??= target && openPortProbe(target, { hello: !asksForTls(url) });
    let client: MongoClient;
    try {
      client = new MongoClient(url, {
        serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000,
        connectTimeoutMS: 5000,
        appName: 'devstack-dumps',
      });
    } catch (error) {
      probe?.close();
      throw new MongoUrlError(maskMongoUrl(url), maskSecretsIn(messageOf(error), url));
    }
    // The driver keeps retrying a certificate it cannot accept until server selection times out, and then
    // reports only a timeout-like failure: the first such heartbeat ends the attempt with what is wrong.
    let tlsFailure: MongoTlsError | undefined;
    client.on('serverHeartbeatFailed', (event) => {
      tlsFailure ??= tlsProblem(event.failure, url);
      if (tlsFailure) void client.close().catch(() => undefined);
    });
    try {
      const early = probe && (await probe.gate);
      // Refused, closed on the hello, or not MongoDB: the driver is not started (see above), the probe decides this attempt.
      const verdict = early?.kind === 'refused' || early?.kind === 'closed' || early?.kind === 'spoke' ? early : await connectAndPing(client, probe);
      if (verdict.kind === 'connected') return client;
      if (verdict.kind === 'spoke') throw new MongoWrongProtocolError(mongoHosts(url), maskSecretsIn(describeNonMongoBytes(verdict.data), url));
      throw verdict.error;
    } catch (error) {
      await client.close().catch(() => undefined);
      if (error instanceof MongoWrongProtocolError) throw error;
      if (tlsFailure) throw tlsFailure;
      const failure = connectFailure(error, url, {
        driver,
        waitSeconds,
        retryLeft: Date.now() + RETRY_INTERVAL_MS < deadline,
        ...(probe ? { probe: probe.report } : {}),
      });
      if (failure) throw failure;
    } finally {
      probe?.close();
      probe = undefined;
    }
    options.signal?.throwIfAborted();
    await sleep(RETRY_INTERVAL_MS, undefined, options.signal ? { signal: options.signal } : {}).catch((error: unknown) => {
      throw options.signal?.aborted ? options.signal.reason : error;
    });
  }
}

/**
 * The driver's connect and ping, ended early when the probe learns, while they run, that the port is
 * refused or that the server is not MongoDB: `connected`, or the probe's conclusion.
 */
async function connectAndPing(client: MongoClient, probe: PortProbe | undefined): Promise<{ kind: 'connected' } | ProbeConclusion> {
  const connected = (async () => {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return { kind: 'connected' as const };
  })();
  if (!probe) return connected;
  // When the probe wins, closing the client ends the driver's attempt; its rejection is not needed then.
  connected.catch(() => undefined);
  return Promise.race([connected, probe.conclusion]);
}

/**
 * The typed error for a failed connect-and-ping, or undefined to try again. Only a server that does not
 * answer (yet), or answers as one that is starting, shutting down or electing a primary, is retried; a
 * server that answers with another error is named with that error rather than called unreachable. When
 * the attempt's raw TCP probe was accepted (`probe.accepted`), a server that never answered is not called
 * unreachable either: something listens there, but completed no MongoDB handshake.
 */
export function connectFailure(
  error: unknown,
  url: string,
  context: {
    driver: Pick<typeof MongoModule, 'MongoServerError' | 'MongoAPIError' | 'MongoParseError'>;
    waitSeconds: number;
    retryLeft: boolean;
    probe?: PortProbeReport;
  },
): MongoDumpError | undefined {
  const { MongoServerError, MongoAPIError, MongoParseError } = context.driver;
  const hosts = mongoHosts(url);
  const tls = tlsProblem(error, url);
  if (tls) return tls;
  // Options or credentials the driver cannot use: retrying cannot help.
  if (error instanceof MongoParseError || error instanceof MongoAPIError) {
    return new MongoUrlError(maskMongoUrl(url), maskSecretsIn(messageOf(error), url));
  }
  if (error instanceof MongoServerError) {
    if (error.code === AUTH_FAILED) return new MongoAuthFailedError(hosts, mongoUser(url), implicitAuthDatabase(url));
    if (STARTING_CODES.has(Number(error.code)) && context.retryLeft) return undefined;
    const code = error.codeName ?? error.code;
    return new MongoConnectFailedError(hosts, maskSecretsIn(`${error.message}${code === undefined ? '' : ` (${code})`}`, url));
  }
  if (context.retryLeft) return undefined;
  const reason = maskSecretsIn(messageOf(error), url);
  // The probe got a MongoDB reply: the server runs and speaks MongoDB, but the driver would not use it.
  if (context.probe?.answered && !NOTHING_LISTENS.test(reason)) return notSelectable(hosts, url, reason);
  // The driver saying nothing listens wins over an earlier accepted probe (the server stopped meanwhile).
  if (context.probe?.accepted && !NOTHING_LISTENS.test(reason)) {
    return new MongoNoHandshakeError(hosts, context.waitSeconds, reason, { tls: asksForTls(url), closedSilently: context.probe.closedSilently });
  }
  return new MongoUnreachableError(hosts, context.waitSeconds, reason);
}

/** What to say of a server that answered a hello but that server selection did not pick. */
function notSelectable(hosts: string, url: string, reason: string): MongoNotSelectableError {
  const setName = /[?&]replicaSet=([^&#]*)/i.exec(url)?.[1];
  if (setName !== undefined) {
    const name = safeDecode(setName);
    return new MongoNotSelectableError(
      hosts,
      `it is not a member of replica set "${name}" that the URL's replicaSet names (a standalone server, or one in another set; the driver said: ${reason})`,
      `drop replicaSet from the URL for a standalone server, or give the name of the server's replica set`,
    );
  }
  return new MongoNotSelectableError(hosts, `the driver did not select it (${reason})`, "check the URL's options (directConnection, readPreference, loadBalanced)");
}

const NOTHING_LISTENS = /\b(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH)\b/;

/** The URL asks for TLS (`tls=true` or its older name `ssl=true`). */
function asksForTls(url: string): boolean {
  return /[?&](tls|ssl)=true(&|#|$)/i.test(url);
}

/** Node's and OpenSSL's codes for a certificate chain that does not lead to a trusted CA. */
const UNTRUSTED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
/** URL options naming files the driver reads before connecting. */
const TLS_FILE_OPTIONS = /[?&](tlsCAFile|tlsCertificateKeyFile|tlsCRLFile|sslCA|sslPEMKeyFile)=([^&]*)/gi;

/**
 * The TLS problem behind a failed connection (a heartbeat's failure, a selection error, the driver reading
 * a file), with what to change, or undefined when it is none.
 */
export function tlsProblem(error: unknown, url: string): MongoTlsError | undefined {
  const hosts = mongoHosts(url);
  const causes: Array<{ code?: string; message?: string; path?: string }> = [];
  const collect = (value: unknown) => {
    if (typeof value !== 'object' || value === null) return;
    const e = value as { code?: unknown; message?: unknown; cause?: unknown; path?: unknown };
    causes.push({ code: typeof e.code === 'string' ? e.code : undefined, message: typeof e.message === 'string' ? e.message : undefined, path: typeof e.path === 'string' ? e.path : undefined });
    if (e.cause !== undefined && e.cause !== value) collect(e.cause);
  };
  collect(error);
  // A server selection error carries each server's last failure.
  const servers = (error as { reason?: { servers?: Map<string, { error?: unknown }> } } | undefined)?.reason?.servers;
  for (const server of servers?.values() ?? []) collect(server.error);
  for (const { code, message, path } of causes) {
    if (code !== undefined && UNTRUSTED_CERTIFICATE.has(code)) {
      // Without tlsCAFile, Node's built-in CA list decides (not the operating system's store).
      const by = /[?&]tlsCAFile=/i.test(url) ? ' by the CA certificate(s) in tlsCAFile' : " by Node's built-in CA list";
      const check = by.includes('tlsCAFile') ? ' (a file without a PEM certificate in it counts as no CA)' : '';
      return new MongoTlsError(hosts, `its certificate is not trusted${by}${check} (${code}); give the CA that signed it with tlsCAFile=/path/to/ca.pem`);
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return new MongoTlsError(hosts, `its certificate is not issued for the host in the URL (${maskSecretsIn(message ?? code, url)}); connect with a host name the certificate names`);
    }
    if ((code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') && path !== undefined) {
      const named = [...url.matchAll(TLS_FILE_OPTIONS)].find((match) => match[2] === path || safeDecode(match[2]!) === path);
      if (named) return new MongoTlsError(hosts, `cannot read the file ${named[1]} names, ${path} (${code}); give the path of a readable PEM file`);
    }
    if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID' || code?.startsWith('ERR_SSL_')) {
      return new MongoTlsError(hosts, `the handshake failed (${code}: ${maskSecretsIn(message ?? '', url)})`);
    }
  }
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** FerretDB answers `buildInfo` with its own version beside the MongoDB version it emulates. */
export async function detectEngine(client: MongoClient): Promise<MongoEngine> {
  const info = await client.db('admin').command({ buildInfo: 1 });
  return engineFromBuildInfo(info);
}

export function engineFromBuildInfo(info: Document): MongoEngine {
  const mongoCompatibleVersion = String(info.version ?? 'unknown');
  // FerretDB v1 reports `ferretdbVersion: "v1.24.2"`; v2 reports a `ferretdb: { version }` document.
  const ferret = info.ferretdbVersion ?? (info.ferretdb as Document | undefined)?.version;
  if (ferret !== undefined) {
    return { flavor: 'ferretdb', version: String(ferret).replace(/^v/, ''), mongoCompatibleVersion };
  }
  return { flavor: 'mongodb', version: mongoCompatibleVersion, mongoCompatibleVersion };
}

/** Runs a server operation, turning "not authorized" into an error that names the privilege. */
export async function withPrivilege<T>(action: string, database: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    // Usually loaded already (a server error needs a connection); otherwise loaded here, once.
    const { MongoServerError } = await mongoDriver();
    if (error instanceof MongoServerError && error.code === UNAUTHORIZED) {
      throw new MongoPrivilegeError(action, database, error.message);
    }
    throw error;
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
