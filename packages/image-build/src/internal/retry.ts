import { InputError, RegistryAuthError, RegistryHostError, RegistryUnavailableError } from './errors.js';

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

/**
 * Classifies one error message of a login or push (pass the failing line, not a whole build log:
 * a RUN step that printed "503" is not a registry outage). Build failures are never retried.
 */
export function classifyRegistryError(message: string): { kind: RegistryErrorKind; status?: number; host?: string } {
  if (RUN_FAILED.test(message)) return { kind: 'other' };
  if (DNS.test(message)) {
    const found = LOOKUP_HOST.exec(message);
    const host = found?.[1] ?? found?.[2];
    return { kind: 'dns', ...(host ? { host } : {}) };
  }
  const status = /\b(401|403|429|5\d\d)\b/.exec(message)?.[1];
  const withStatus = status ? { status: Number(status) } : {};
  if (AUTH.test(message) && !/\b429\b|\b5\d\d\b/.test(message)) return { kind: 'auth', ...withStatus };
  if (RETRYABLE.test(message)) return { kind: 'retryable', ...withStatus };
  return { kind: 'other' };
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

/**
 * Runs `action` until it succeeds, retrying 429/5xx/connection errors and transient DNS failures
 * with backoff. 401/403 become one RegistryAuthError at once, a registry host that does not exist
 * one RegistryHostError (other hosts that do not exist are rethrown as they are); anything else is
 * rethrown as is. Messages never carry `secrets`.
 */
export async function withRegistryRetry<T>(action: () => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = options.attempts ?? 4;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const secrets = options.secrets ?? [];
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await action();
    } catch (error) {
      const message = redact(error instanceof Error ? error.message : String(error), secrets);
      const { kind, status, host } = classifyRegistryError(message);
      if (kind === 'auth') throw new RegistryAuthError(options.registry, status);
      const registryHost = options.registry.replace(/:\d+$/, '').toLowerCase();
      if (kind === 'dns' && (host ? host.toLowerCase() === registryHost : message.toLowerCase().includes(registryHost))) {
        throw new RegistryHostError(options.registry, message, options.input);
      }
      if (kind === 'other' || kind === 'dns') {
        if (error instanceof Error) error.message = message;
        throw error;
      }
      last = message;
      if (attempt === attempts) break;
      const delayMs = backoffDelay(attempt, options.baseDelayMs ?? 2000, options.maxDelayMs ?? 30_000, options.random ?? Math.random);
      options.onRetry?.({ attempt, delayMs, message });
      await sleep(delayMs);
    }
  }
  throw new RegistryUnavailableError(options.operation, attempts, last);
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
