import {
  InputError,
  OtherRegistryAuthError,
  OtherRegistryUnreachableError,
  RegistryAuthError,
  RegistryHostError,
  RegistryPushDeniedError,
  RegistryUnavailableError,
} from './errors.js';

export type RegistryErrorKind = 'retryable' | 'auth' | 'dns' | 'other';

const RUN_FAILED = /did not complete successfully|failed to compute cache key|dockerfile parse error/i;
const AUTH = /\b(401|403)\b|unauthorized|forbidden|denied|authentication required|insufficient_scope|incorrect username or password/i;
/**
 * A resolver that could not answer this time (EAI_AGAIN, "temporary failure in name resolution";
 * Go's "server misbehaving" for a SERVFAIL) is retried like any other network error.
 */
const RETRYABLE =
  /\b429\b|too ?many ?requests|\b50[0-4]\b|\b5\d\d (?:internal|bad|service|gateway)|bad gateway|service unavailable|gateway time-?out|connection reset|connection refused|broken pipe|i\/o timeout|tls handshake timeout|unexpected eof|\bEOF\b|context deadline exceeded|\bEAI_AGAIN\b|temporary failure in name resolution|server misbehaving/i;
/**
 * A name the DNS answered does not exist (Go's "no such host", Node's ENOTFOUND, libc's EAI_NONAME
 * wording): retrying does not make it resolve, so it is reported at once.
 */
const DNS = /no such host|\bENOTFOUND\b|name or service not known|nodename nor servname/i;
const LOOKUP_HOST = /\blookup ([^\s:]+)|\bENOTFOUND ([^\s:]+)/;
/** Nothing listens at the address: a registry that is down or a wrong host/port, not a 5xx. */
const CONNECTION_REFUSED = /connection refused|\bECONNREFUSED\b/i;
const CONNECTION_FAILED = /connection refused|\bECONNREFUSED\b|no route to host|i\/o timeout|network is unreachable/i;
/** 403 and its wordings: the registry knows who asks and says no (a permission), unlike 401. */
const DENIED = /\b403\b|forbidden|denied|insufficient_scope/i;
/**
 * The image reference BuildKit names in front of the cause: `failed to push <ref>: ...` (image
 * export) and `failed to resolve source metadata for <ref>: ...` (a FROM image).
 */
const PUSH_REF = /\bfailed to push (\S+?)(?::\s|\s|$)/;
const PULL_REF = /\bfailed to resolve source metadata for (\S+?)(?::\s|\s|$)/;
/**
 * The host of a registry API URL (`https://host[:port]/v2/...`). Other URLs do not name the registry: a
 * token realm lives elsewhere (GitLab's registry.gitlab.com has its realm at gitlab.com).
 */
const API_URL = /\bhttps?:\/\/([^/\s"\\?]+)\/v2\//;

/** The registry part of an image reference, as Docker reads it (`ghcr.io/org/app` -> `ghcr.io`; `org/app` is Docker Hub). */
export function registryHost(reference: string): string {
  const first = reference.split('/')[0] ?? '';
  return reference.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

/** A reference without its tag or digest: the repository. */
function repositoryOf(reference: string): string {
  const name = reference.split('@')[0] ?? reference;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(0, colon) : name;
}

/** One spelling per registry, so `https://registry-1.docker.io` and `docker.io` compare equal. */
function canonicalRegistry(host: string): string {
  const lower = host.toLowerCase().replace(/:443$/, '');
  return ['index.docker.io', 'registry-1.docker.io', 'auth.docker.io', 'registry.hub.docker.com'].includes(lower) ? 'docker.io' : lower;
}

/** Whether two registry hosts (host[:port]) name the same registry. */
export function sameRegistry(a: string, b: string): boolean {
  return canonicalRegistry(a) === canonicalRegistry(b);
}

export interface RegistryErrorClass {
  kind: RegistryErrorKind;
  status?: number;
  /**
   * The registry the line is about: the host that refused the connection, else the registry of the
   * image it names, else the host of a registry API URL in it (for DNS failures: the name looked up, no port).
   */
  host?: string;
  /** The image the line names (`failed to push <ref>`, `failed to resolve source metadata for <ref>`). */
  reference?: string;
  /** The repository written to, when the line is a push (`failed to push <ref>`). */
  pushTo?: string;
}

/**
 * Classifies one error message of a login or push (pass the failing line, not a whole build log:
 * a RUN step that printed "503" is not a registry outage). Build failures are never retried.
 */
export function classifyRegistryError(message: string): RegistryErrorClass {
  if (RUN_FAILED.test(message)) return { kind: 'other' };
  if (DNS.test(message)) {
    const found = LOOKUP_HOST.exec(message);
    const host = found?.[1] ?? found?.[2];
    return { kind: 'dns', ...(host ? { host } : {}) };
  }
  const status = /\b(401|403|429|5\d\d)\b/.exec(message)?.[1];
  const withStatus = status ? { status: Number(status) } : {};
  const kind: RegistryErrorKind = AUTH.test(message) && !/\b429\b|\b5\d\d\b/.test(message) ? 'auth' : RETRYABLE.test(message) ? 'retryable' : 'other';
  if (kind === 'other') return { kind };
  const pushRef = PUSH_REF.exec(message)?.[1];
  const reference = pushRef ?? PULL_REF.exec(message)?.[1];
  const urlHost = API_URL.exec(message)?.[1];
  const referenceHost = reference ? registryHost(reference) : undefined;
  // Who refused the connection is the URL's host (a mirror may stand in for the image's registry).
  const host = CONNECTION_FAILED.test(message) ? (urlHost ?? referenceHost) : (referenceHost ?? urlHost);
  return {
    kind,
    ...withStatus,
    ...(host ? { host } : {}),
    ...(reference ? { reference } : {}),
    ...(pushRef ? { pushTo: repositoryOf(pushRef) } : {}),
  };
}

/** Replaces every secret (and its URL-encoded form) with `***`. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets.filter((s) => s.length >= 3)) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  }
  return out;
}

export interface RetryOptions {
  operation: string;
  registry: string;
  /** The action input that names the registry (`registry`, `image`): named when its host does not resolve. */
  input?: string;
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Values that must never appear in an error (the password). */
  secrets?: string[];
  sleep?: (ms: number) => Promise<void>;
  /** 0..1, for the jitter; injectable so tests are deterministic. */
  random?: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; message: string }) => void;
}

/** Exponential backoff with jitter: base * 2^(attempt-1), capped, between 50% and 100% of that. */
export function backoffDelay(attempt: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** The part of a buildx line worth quoting after our own sentence: from the registry's answer on. */
function causeOf(message: string): string {
  return message.replace(/^(?:ERROR:\s*)?(?:target \S+:\s*)?(?:failed to solve:\s*)?/, '');
}

/**
 * Runs `action` until it succeeds, retrying 429/5xx/connection errors and transient DNS failures
 * with backoff. Errors that waiting cannot fix end at once, each naming what to fix: 401/403 of
 * `registry` a RegistryAuthError, a denied push a RegistryPushDeniedError, another registry (a base
 * image's) refusing access or the connection an OtherRegistryAuthError or OtherRegistryUnreachableError,
 * a registry host that does not exist a RegistryHostError (other hosts that do not exist are rethrown
 * as they are); anything else is rethrown as is. Every error made here keeps the action's own error
 * as `cause` (the bake's BakeRunError carries the stream the failure summary is made from).
 * Messages never carry `secrets`.
 */
export async function withRegistryRetry<T>(action: () => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = options.attempts ?? 4;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const secrets = options.secrets ?? [];
  let last = '';
  /** The other registry the last failure was about (a base image's), undefined when it was ours or unknown. */
  let lastHost: string | undefined;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await action();
    } catch (error) {
      const message = redact(error instanceof Error ? error.message : String(error), secrets);
      if (error instanceof Error) error.message = message;
      const cause = { cause: error };
      const { kind, status, host, reference, pushTo } = classifyRegistryError(message);
      const elsewhere = host !== undefined && kind !== 'dns' && !sameRegistry(host, options.registry);
      if (kind === 'auth') {
        if (pushTo && DENIED.test(message) && status !== 401) throw new RegistryPushDeniedError(pushTo, status, causeOf(message), cause);
        if (elsewhere) throw new OtherRegistryAuthError(host, status, reference, causeOf(message), options.registry, cause);
        throw new RegistryAuthError(options.registry, status, cause);
      }
      const registryName = options.registry.replace(/:\d+$/, '').toLowerCase();
      if (kind === 'dns' && (host ? host.toLowerCase() === registryName : message.toLowerCase().includes(registryName))) {
        throw new RegistryHostError(options.registry, message, options.input, cause);
      }
      if (kind === 'other' || kind === 'dns') throw error;
      // Nothing listening at another host (a base image's registry) is no outage of ours: retrying
      // the whole bake for it only delays the same error.
      if (elsewhere && CONNECTION_REFUSED.test(message)) throw new OtherRegistryUnreachableError(host, reference, causeOf(message), options.registry, cause);
      last = message;
      lastHost = elsewhere ? host : undefined;
      lastError = error;
      if (attempt === attempts) break;
      const delayMs = backoffDelay(attempt, options.baseDelayMs ?? 2000, options.maxDelayMs ?? 30_000, options.random ?? Math.random);
      options.onRetry?.({ attempt, delayMs, message });
      await sleep(delayMs);
    }
  }
  const hint = !CONNECTION_FAILED.test(last)
    ? undefined
    : lastHost === undefined
      ? `Nothing answered at ${options.registry}: check the host and port${options.input ? ` in \`${options.input}\`` : ''}, and that the registry runs and is reachable from the runner (firewall, proxy).`
      : `Nothing answered at ${lastHost}, which is not ${options.registry}, the registry this action pushes to: check the image that names it (the Dockerfile's FROM, a build arg) and that ${lastHost} is reachable from the runner (firewall, proxy).`;
  throw new RegistryUnavailableError(options.operation, attempts, last, { cause: lastError, ...(hint ? { hint } : {}) });
}

/**
 * `docker` argv and stdin of a login: the password goes through stdin (`--password-stdin`), so it
 * is never in argv, the process list or a log of the command line.
 */
export function loginArgs(options: { registry: string; username: string; password: string }): { args: string[]; stdin: string } {
  if (!options.username.trim()) throw new InputError('username', 'is empty while `password` is set', 'Set both, or neither for an unauthenticated registry.');
  if (!options.password) throw new InputError('password', 'is empty while `username` is set', 'Set both, or neither.');
  if (!/^[A-Za-z0-9.-]+(?::\d+)?$/.test(options.registry)) {
    throw new InputError('registry', `\`${options.registry}\` is not a registry host`, 'Write host[:port], e.g. `ghcr.io`.');
  }
  return { args: ['login', '--username', options.username, '--password-stdin', options.registry], stdin: options.password };
}
