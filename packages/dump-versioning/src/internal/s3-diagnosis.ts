// What went wrong with an S3 request, in words a user can act on: the store's failure messages and the
// notices before each retry. No runtime import of the SDK here (see aws-sdk.ts); types only.
import type { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { TimeoutInfo } from './aws-sdk.js';
import { FIRST_BYTE_VARIABLE } from './first-byte.js';
import { StoreAccessError, StoreConfigError } from './errors.js';

/** `0.5 s`, `10 s`: how messages state a limit. */
export const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

export interface S3Context {
  bucket: string;
  /** Key prefix in the bucket, without surrounding slashes. */
  prefix: string;
  /** `s3://bucket/prefix`. */
  location: string;
  /** Printable endpoint; undefined for AWS S3 itself. */
  endpoint: string | undefined;
  /** The variable the endpoint came from (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL), when not an option. */
  endpointFrom: string | undefined;
  mask: (text: string) => string;
}

const statusOf = (error: unknown) => (error as S3ServiceException)?.$metadata?.httpStatusCode;
const nameOf = (error: unknown) => (error as Error)?.name;

/** The raw answer the SDK keeps (as a hidden field) on errors it got a response for. */
function responseOf(error: unknown): { statusCode?: number; headers?: Record<string, string>; body?: unknown } | undefined {
  return (error as { $response?: { statusCode?: number; headers?: Record<string, string>; body?: unknown } })?.$response;
}

/**
 * What a response that is not S3's XML was, e.g. `an HTML page, HTTP 404`; undefined for S3 answers. An
 * HTML page is never S3 (a web server, MinIO's console port, a proxy's error page); other types count
 * only when the SDK could not parse them (S3 errors to HEAD have no body to parse).
 */
export function notS3(error: unknown): string | undefined {
  const response = responseOf(error);
  if (!response) return undefined;
  const type = (response.headers?.['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const status = response.statusCode ?? statusOf(error);
  const http = status ? `, HTTP ${status}` : '';
  if (type === 'text/html' || type === 'application/xhtml+xml') return `an HTML page${http}`;
  if (!/Deserialization error/.test((error as Error)?.message ?? '')) return undefined;
  const kind = type === 'application/json' ? 'a JSON document' : type === 'text/plain' ? 'plain text' : type ? `a ${type} document` : 'an unparsable answer';
  return `${kind}${http}`;
}

/** What a TLS server tells a plain-HTTP client (Go, so MinIO; nginx), in the body the SDK could not parse. */
const PLAIN_HTTP_TO_TLS = /HTTP request to an HTTPS server|plain HTTP request was sent to HTTPS port/i;

/** OpenSSL's reason when an https:// client meets a server that answers in plain HTTP. */
const NOT_TLS = /wrong version number|packet length too long|unknown protocol|record layer failure/i;

/** One clear error per failure class; never includes credentials. */
export function describeS3Failure(context: S3Context, action: string, key: string, error: unknown): Error {
  const { bucket, location, endpoint, mask } = context;
  if (credentialFailureOf(error)) return describeCredentialFailure(context, error);
  const where = endpoint ? ` at ${endpoint}` : '';
  const theEndpoint = `the S3 endpoint ${endpoint}${context.endpointFrom ? ` (from ${context.endpointFrom})` : ''}`;
  const name = nameOf(error);
  const message = mask((error as Error)?.message ?? String(error));
  const code = (error as NodeJS.ErrnoException)?.code;
  if (endpoint?.startsWith('https:') && code === 'EPROTO' && NOT_TLS.test(message)) {
    const reason = /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? NOT_TLS.exec(message)?.[0];
    return new StoreConfigError('s3-endpoint-not-tls', `${theEndpoint} does not speak TLS (EPROTO: ${reason}); use http:// or check the S3 endpoint`, { cause: error });
  }
  const body = responseOf(error)?.body;
  if (endpoint && typeof body === 'string' && PLAIN_HTTP_TO_TLS.test(body)) {
    return new StoreConfigError('s3-endpoint-needs-tls', `${theEndpoint} expects TLS (it answered: ${JSON.stringify(mask(body.trim().slice(0, 100)))}); use https:// or check the S3 endpoint`, { cause: error });
  }
  const status = responseOf(error)?.statusCode ?? statusOf(error);
  // A gateway's page for a body too large or an upstream down: the endpoint is right, something in front is not.
  if (status !== undefined && [413, 502, 503, 504].includes(status) && notS3(error)) {
    return new StoreAccessError(
      'gateway-error',
      `a proxy or gateway in front of ${endpoint ? theEndpoint : 'S3'} answered HTTP ${status} (${notS3(error)}) when asked to ${action} ${keyOf(context, key)} in ${location}; ${status === 413 ? 'raise its request body limit (parts are 8 MiB; nginx: client_max_body_size)' : 'check that proxy or gateway and the server behind it'}`,
      { cause: error },
    );
  }
  const other = notS3(error);
  if (other) {
    const check = endpoint ? "check the S3 endpoint: it must be the S3 API's URL (MinIO: the API port, not the console's)" : 'check HTTPS_PROXY/HTTP_PROXY: a proxy in between may have answered';
    return new StoreConfigError(
      's3-endpoint-not-s3',
      `${endpoint ? theEndpoint : 'AWS S3'} answered with something that is not S3 (${other}) when asked to ${action} ${keyOf(context, key)} in ${location}; ${check}`,
      { cause: error },
    );
  }
  if (name === 'NoSuchBucket') {
    return new StoreConfigError('bucket-missing', `bucket ${bucket} does not exist${where}; create it or check the store location (${location})`);
  }
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'InvalidToken' || name === 'ExpiredToken') {
    return new StoreConfigError('credentials-rejected', `S3${where} rejected the credentials (${name}) for ${location}; check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the role you assumed`);
  }
  // AWS S3 itself follows such redirects (followRegionRedirects); S3-compatible servers with a region set answer this.
  if (name === 'AuthorizationHeaderMalformed' || /the region '[^']*' is wrong/i.test(message)) {
    const expected = /expecting '([a-z0-9-]+)'/i.exec(message)?.[1];
    return new StoreConfigError(
      'region-mismatch',
      `S3${where} refused the requests for ${location}: they were signed for another region than the server's (${JSON.stringify(message)}); set the S3 region (or AWS_REGION) to ${expected ? `"${expected}"` : "the server's region"}`,
      { cause: error },
    );
  }
  if (name === 'CredentialsProviderError') {
    return new StoreConfigError('credentials-missing', `no AWS credentials found for ${location}; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or configure a role (${message})`);
  }
  if (name === 'AccessDenied' || statusOf(error) === 403) {
    return new StoreConfigError('access-denied', `access denied to ${action} ${keyOf(context, key)} in ${location}${where}; grant s3:GetObject/PutObject/ListBucket/DeleteObject on the bucket or fix the credentials`);
  }
  if (name === 'TimeoutError') {
    // The handler's own timeouts (see aws-sdk.ts), after the SDK's retries: its message says which one.
    const attempts = (error as S3ServiceException)?.$metadata?.attempts;
    // A server that answers, slowly (listings of a bucket full of delete markers): the deadline can be raised.
    const longer = (error as TimeoutInfo).timeoutPhase === 'first-byte' ? `, or set ${FIRST_BYTE_VARIABLE} (seconds) if it is only slow to start answering` : '';
    return new StoreAccessError(
      's3-timeout',
      `the S3 endpoint${where || ' (AWS default)'} did not answer when asked to ${action} ${keyOf(context, key)} in ${location}${attempts ? ` (${attempts} attempts)` : ''}: ${message}; check the S3 endpoint, the network and any proxy${longer}`,
      { cause: error },
    );
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ECONNRESET') {
    return new StoreConfigError('endpoint-unreachable', `cannot reach the S3 endpoint${where || ' (AWS default)'} for ${location} (${code}); check the S3 endpoint (or AWS_ENDPOINT_URL_S3)`);
  }
  return new StoreAccessError('s3-request-failed', `S3 ${action} of ${keyOf(context, key)} in ${location} failed: ${name ?? 'error'}: ${message}`, { cause: error });
}

/**
 * A small object whose answer broke off mid-body on every attempt (see S3Store.get): the server was reached
 * and answered, so this is no configuration problem but a connection that keeps dropping.
 */
export function describeBodyReadFailure(context: S3Context, key: string, attempts: number, error: unknown): StoreAccessError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const why = context.mask(code ?? (error as Error)?.message ?? String(error));
  return new StoreAccessError(
    's3-read-interrupted',
    `the connection dropped while reading ${keyOf(context, key)} in ${context.location} (${attempts} attempts, ${why}); try again, and if it persists check the network and any proxy in between`,
    { cause: error },
  );
}

/** Marks errors raised while resolving credentials (see addCredentialMarker), with what the SDK logged meanwhile. */
const CREDENTIAL_FAILURE = Symbol('credential failure');

/** The shared config and credentials files' profiles by name (`[profile x]` in config is `x`), as the SDK reads them. */
type Profiles = Record<string, Record<string, string | undefined>>;
interface CredentialFailure {
  notes: string[];
  /** Undefined: neither file could be read. */
  files: { config: Profiles; credentials: Profiles } | undefined;
}

function credentialFailureOf(error: unknown): CredentialFailure | undefined {
  return error !== null && typeof error === 'object' ? (error as { [CREDENTIAL_FAILURE]?: CredentialFailure })[CREDENTIAL_FAILURE] : undefined;
}

/** Debug lines of the credential providers worth quoting: a failing credential_process says why only there. */
const CREDENTIAL_NOTE = /credential_process|Command failed/;

/**
 * A logger for the store's client (the SDK passes it on to the credential providers) that keeps their
 * debug lines about credential_process in `notes` (the last 10) and is otherwise as silent as the SDK's
 * default, except warnings, which go to the console as they do without a logger.
 */
export function credentialLogger(): { logger: { debug: (...content: unknown[]) => void; info: () => void; warn: (...content: unknown[]) => void; error: () => void }; notes: string[] } {
  const notes: string[] = [];
  const debug = (...content: unknown[]) => {
    const text = content.map(String).join(' ');
    if (!CREDENTIAL_NOTE.test(text)) return;
    notes.push(text.replace(/^@smithy\/property-provider (->|\(!\)) /, '').trim());
    if (notes.length > 10) notes.shift();
  };
  return { logger: { debug, info: () => undefined, warn: (...content: unknown[]) => console.warn(...content), error: () => undefined }, notes };
}

/**
 * Marks every error the client's credential providers raise, so describeS3Failure reports it as a credentials
 * problem (an unreadable web identity token file raises a bare ENOENT, which would look like a failed
 * request). The SDK's chain keeps the reasons of the providers it skipped out of its final error ("Could not
 * load credentials from any providers") and logs them at debug level only: `notes` are those kept by the
 * client's credentialLogger, quoted for a failing credential_process. Call before the client's first request.
 */
export function addCredentialMarker(client: S3Client, notes: string[]): void {
  type Schemes = typeof client.config.httpAuthSchemes;
  const config = client.config as { httpAuthSchemes: Schemes };
  config.httpAuthSchemes = config.httpAuthSchemes.map((scheme) => ({
    ...scheme,
    identityProvider: (identityConfig: Parameters<Schemes[number]['identityProvider']>[0]) => {
      const provider = scheme.identityProvider(identityConfig);
      if (!provider) return provider;
      return async (properties?: Record<string, unknown>) => {
        const start = notes.length;
        try {
          return await provider(properties);
        } catch (error) {
          const marked = error !== null && typeof error === 'object' ? error : new Error(String(error));
          // Read again (the SDK caches them) with the SDK's own parser, to say which profile or setting is at fault.
          const files = await import('@smithy/shared-ini-file-loader')
            .then(({ loadSharedConfigFiles }) => loadSharedConfigFiles({ ignoreCache: true }))
            .then(({ configFile, credentialsFile }) => ({ config: configFile as Profiles, credentials: credentialsFile as Profiles }))
            .catch(() => undefined);
          const failure: CredentialFailure = { notes: notes.slice(Math.min(start, notes.length)), files };
          Object.defineProperty(marked, CREDENTIAL_FAILURE, { value: failure });
          throw marked;
        }
      };
    },
  }));
}

/** Credentials could not be resolved: which source failed and how to fix it, never the secrets. */
export function describeCredentialFailure(context: S3Context, error: unknown, env: NodeJS.ProcessEnv = process.env): StoreConfigError {
  const { location, mask } = context;
  const fail = (why: string) => new StoreConfigError('credentials-missing', `no AWS credentials for ${location}: ${mask(why)}`, { cause: error });
  const { code, path: file } = (error ?? {}) as NodeJS.ErrnoException;
  const configFile = env.AWS_CONFIG_FILE?.trim() || path.join(homedir(), '.aws', 'config');
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE?.trim() || path.join(homedir(), '.aws', 'credentials');
  const profileSet = env.AWS_PROFILE?.trim() || undefined;
  const profile = profileSet ?? 'default';
  const files = credentialFailureOf(error)?.files;
  const fromConfig = files && new Map(Object.entries(files.config));
  const fromCredentials = files && new Map(Object.entries(files.credentials));
  const tokenFile = env.AWS_WEB_IDENTITY_TOKEN_FILE?.trim();
  if (file && tokenFile && file === tokenFile) {
    return fail(`AWS_WEB_IDENTITY_TOKEN_FILE names ${file}, which cannot be read (${code ?? 'error'}); point it at the web identity (OIDC) token file, or unset it and AWS_ROLE_ARN`);
  }
  if (file && fromConfig?.get(profile)?.web_identity_token_file === file) {
    return fail(`the web_identity_token_file of AWS profile ${profile} (${configFile}) is ${file}, which cannot be read (${code ?? 'error'}); fix that setting or create the file`);
  }
  if (profileSet && !fromConfig?.has(profileSet) && !fromCredentials?.has(profileSet)) {
    return fail(`AWS_PROFILE names profile ${profileSet}, which neither ${configFile} nor ${credentialsFile} defines${existsSync(configFile) || existsSync(credentialsFile) ? '' : ' (neither file exists)'}; check the name or unset AWS_PROFILE`);
  }
  const notes = credentialFailureOf(error)?.notes ?? [];
  const processNote = notes.at(-1);
  if (processNote && fromConfig?.get(profile)?.credential_process !== undefined) {
    return fail(`the credential_process of AWS profile ${profile} failed: ${processNote}`);
  }
  const message = (error as Error)?.message ?? String(error);
  return fail(`${file ? `reading ${file} failed (${code ?? 'error'})` : message}; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or configure a role`);
}

const keyOf = (context: S3Context, key: string) => (context.prefix ? `${context.prefix}/${key}` : key);

/** Why an attempt failed, for the notice before the next one. */
function attemptFailure(error: unknown, mask: (text: string) => string): string {
  const { timeoutPhase, timeoutMs } = (error ?? {}) as Partial<TimeoutInfo>;
  if (timeoutPhase === 'first-byte' && timeoutMs) return `did not answer within ${seconds(timeoutMs)}`;
  if (timeoutPhase === 'connect' && timeoutMs) return `did not accept a connection within ${seconds(timeoutMs)}`;
  if (timeoutPhase === 'idle' && timeoutMs) return `went silent for ${seconds(timeoutMs)} mid-request`;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code) return `failed (${code})`;
  const status = statusOf(error);
  return `failed (${mask(nameOf(error) ?? 'error')}${status ? `, HTTP ${status}` : ''})`;
}

/** The same notice (other requests failing the same way) is not repeated within this time. */
const NOTICE_REPEAT_MS = 5_000;

/**
 * Tells `onRetry` before each retry the SDK makes, with why the previous attempt failed, e.g. `S3 endpoint
 * http://127.0.0.1:9000 did not answer within 10 s; retrying (2/3)`: without it a dead endpoint is
 * silent until the last attempt gives up. Sits inside the SDK's retry loop (one call per attempt).
 */
export function addRetryNotices(client: S3Client, context: Pick<S3Context, 'endpoint' | 'mask'>, onRetry: (message: string) => void) {
  const who = context.endpoint ? `S3 endpoint ${context.endpoint}` : 'AWS S3';
  const failed = new WeakMap<object, unknown>();
  // Concurrent requests to a dead endpoint fail and retry together: one notice for all of them.
  const told = new Map<string, number>();
  const tell = (message: string) => {
    const now = performance.now();
    if (now - (told.get(message) ?? -Infinity) < NOTICE_REPEAT_MS) return;
    told.set(message, now);
    onRetry(message);
  };
  const middleware = (next: (args: { request?: unknown }) => Promise<unknown>, handlerContext: object) => async (args: { request?: unknown }) => {
    // The retry middleware numbers each attempt in this header: `attempt=2; max=3`.
    const header = (args.request as { headers?: Record<string, string> } | undefined)?.headers?.['amz-sdk-request'] ?? '';
    const [, attempt, max] = /attempt=(\d+); max=(\d+)/.exec(header) ?? [];
    if (attempt && Number(attempt) > 1 && failed.has(handlerContext)) {
      try {
        tell(`${who} ${attemptFailure(failed.get(handlerContext), context.mask)}; retrying (${attempt}/${max})`);
      } catch {
        // A notice must never fail the request.
      }
    }
    try {
      return await next(args);
    } catch (error) {
      failed.set(handlerContext, error);
      throw error;
    }
  };
  // addRelativeTo's overloads (one per step) leave no single type to check against; this is a plain pass-through.
  type AnyMiddleware = Parameters<S3Client['middlewareStack']['addRelativeTo']>[0];
  client.middlewareStack.addRelativeTo(middleware as unknown as AnyMiddleware, { relation: 'after', toMiddleware: 'retryMiddleware', name: 'dumpVersioningRetryNotices' });
}
