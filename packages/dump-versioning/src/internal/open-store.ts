import type { S3Client } from '@aws-sdk/client-s3';
import type { S3Timeouts } from './aws-sdk.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StoreConfigError } from './errors.js';
import { FIRST_BYTE_VARIABLE } from './first-byte.js';
import { FileSystemStore } from './fs-store.js';
import { S3Store } from './s3-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** S3 endpoint for MinIO/R2/Ceph; default AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then AWS. */
  s3Endpoint?: string;
  /**
   * Default AWS_REGION, then AWS_DEFAULT_REGION, then the SDK's own chain (the `region` of the shared config
   * profile: AWS_PROFILE or default), then us-east-1.
   */
  s3Region?: string;
  /** Path-style addressing; default true when an endpoint is set (MinIO needs it). */
  s3ForcePathStyle?: boolean;
  /** A ready client (tests and benches add middleware to count requests); credentials then come from it. */
  s3Client?: S3Client;
  /**
   * Told before each retry of an S3 request, with why (e.g. `S3 endpoint http://h:9000 did not answer within
   * 10 s; retrying (2/3)`): a CLI prints it so a dead endpoint is not silent. Not with `s3Client`.
   */
  onRetry?: (message: string) => void;
  /** S3 request limits; unset values default to DEFAULT_S3_TIMEOUTS in aws-sdk.ts. Not with `s3Client`. */
  s3Timeouts?: Partial<S3Timeouts>;
  /** Base directory for relative filesystem paths; default process.cwd(). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** The embedded default: a filesystem store inside the working tree. */
export const DEFAULT_STORE = '.devstack/dumps';

/** Removes user:password@ from a URL so it can be printed. */
export function maskUrl(url: string): string {
  // Up to the last `@`, not the first `/`: AWS secret keys contain `/` (`s3://KEY:se/cret@bucket/p`).
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([\s\S]*)$/i.exec(url);
  const at = match ? match[2]!.lastIndexOf('@') : -1;
  return match && at >= 0 ? `${match[1]}***@${match[2]!.slice(at + 1)}` : url;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Opens `s3://bucket/prefix`, `file:///abs/dir` or a plain path. S3 credentials come from the
 * standard AWS provider chain (env, profile, SSO, web identity/OIDC, instance role).
 */
export function openStore(url: string, options: OpenStoreOptions = {}): Store {
  const env = options.env ?? process.env;
  const trimmed = url.trim();
  if (trimmed === '') throw new StoreConfigError('store-empty', 'the store URL is empty; give s3://bucket/prefix, file:///abs/dir or a directory');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed)?.[1]?.toLowerCase();
  // A single letter is a Windows drive (C:\dumps), not a scheme.
  if (scheme === undefined || scheme.length === 1) {
    return new FileSystemStore(path.resolve(options.cwd ?? process.cwd(), trimmed));
  }
  if (scheme === 'file') {
    let dir: string;
    try {
      dir = fileURLToPath(trimmed);
    } catch (error) {
      throw new StoreConfigError('store-bad-file-url', `store URL ${maskUrl(trimmed)} is not a valid file URL (${(error as Error).message}); use file:///absolute/dir or a plain path`);
    }
    return new FileSystemStore(dir);
  }
  if (scheme === 's3') {
    const match = /^s3:\/\/([^/]*)\/?(.*)$/i.exec(trimmed);
    const bucket = match?.[1] ?? '';
    const prefix = (match?.[2] ?? '').replace(/\/+$/, '');
    // Any `@` (also after a `/`, as in a secret key with `/`) means credentials: refused before the bucket is named.
    if (trimmed.includes('@')) {
      throw new StoreConfigError('store-credentials-in-url', `store URL ${maskUrl(trimmed)} contains credentials; remove them and use the AWS credential chain (env, profile, role)`);
    }
    if (!BUCKET_NAME.test(bucket)) {
      throw new StoreConfigError('store-bad-bucket', `store URL ${maskUrl(trimmed)}: ${JSON.stringify(bucket)} is not a valid bucket name; use s3://bucket/prefix`);
    }
    if (prefix.split('/').some((segment) => segment === '..' || segment === '.')) {
      throw new StoreConfigError('store-bad-prefix', `store URL ${maskUrl(trimmed)}: the prefix must not contain "." or ".." segments`);
    }
    // Not URL syntax here: keys would silently hold `?x=1#y`. An empty segment (`a//b`) fails only at the first request.
    if (/[?#]/.test(prefix)) {
      throw new StoreConfigError('store-bad-prefix', `store URL ${maskUrl(trimmed)}: the prefix must not contain "?" or "#"; give s3://bucket/prefix without a query or fragment`);
    }
    if (prefix !== '' && prefix.replace(/^\/+/, '').split('/').some((segment) => segment === '')) {
      throw new StoreConfigError('store-bad-prefix', `store URL ${maskUrl(trimmed)}: the prefix must not contain empty segments ("//"); give s3://bucket/a/b`);
    }
    // An empty value counts as unset (`AWS_REGION: ${{ vars.X }}` with no such variable gives '').
    const set = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value);
    const [endpointOption, endpointS3, endpointAny] = [set(options.s3Endpoint), set(env.AWS_ENDPOINT_URL_S3), set(env.AWS_ENDPOINT_URL)];
    const [regionOption, regionEnv, regionDefault] = [set(options.s3Region), set(env.AWS_REGION), set(env.AWS_DEFAULT_REGION)];
    const endpoint = endpointOption ?? endpointS3 ?? endpointAny;
    // None set: the store asks the SDK's chain (a profile's `region`) when it connects, us-east-1 as the last resort.
    const region = regionOption ?? regionEnv ?? regionDefault;
    const endpointFrom = endpointOption !== undefined ? undefined : endpointS3 !== undefined ? 'AWS_ENDPOINT_URL_S3' : 'AWS_ENDPOINT_URL';
    // Checked here: the SDK only fails at the first request, with a message that hides the cause.
    if (endpoint) checkEndpoint(endpoint, endpointFrom ?? 'the S3 endpoint');
    if (region !== undefined) checkRegion(region, regionOption !== undefined ? 'the S3 region' : regionEnv !== undefined ? 'AWS_REGION' : 'AWS_DEFAULT_REGION');
    const secrets = [env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN, env.AWS_ACCESS_KEY_ID, ...proxyPasswords(env)].filter((value): value is string => Boolean(value));
    // The store creates its client (loading the AWS SDK) on first use; see s3-store.ts.
    return new S3Store({
      bucket,
      prefix,
      ...(options.s3Client
        ? { client: options.s3Client }
        : {
            ...(options.onRetry ? { onRetry: options.onRetry } : {}),
            ...(timeoutsOf(options.s3Timeouts, env) ?? {}),
            clientConfig: {
              ...(region !== undefined ? { region } : {}),
              // AWS S3 itself: a bucket in another region than the one configured (e.g. the us-east-1 fallback
              // while a profile names the bucket's) answers 301; follow it instead of failing.
              ...(endpoint ? { endpoint, ...compatibleChecksums(env) } : { followRegionRedirects: true }),
              forcePathStyle: options.s3ForcePathStyle ?? Boolean(endpoint),
            },
          }),
      ...(endpoint ? { endpoint: maskUrl(endpoint), ...(endpointFrom ? { endpointFrom } : {}) } : {}),
      secrets,
    });
  }
  throw new StoreConfigError(
    'store-unknown-scheme',
    `unknown store scheme "${scheme}:" in ${maskUrl(trimmed)}; use s3://bucket/prefix, file:///abs/dir or a directory path`,
  );
}

/**
 * Checksums for an S3-compatible endpoint (not AWS): the SDK sends CRC32 checksums on every upload by default
 * (WHEN_SUPPORTED), which some S3-compatible stores reject (e.g. R2: "not implemented"); only when required
 * there, as SDKs did before 2025. Integrity does not depend on them: every blob is content-addressed and
 * verified by its sha256 on pull. AWS_REQUEST_CHECKSUM_CALCULATION / AWS_RESPONSE_CHECKSUM_VALIDATION, when
 * set, still decide (the SDK reads them when these options are absent).
 */
export function compatibleChecksums(env: NodeJS.ProcessEnv): { requestChecksumCalculation?: 'WHEN_REQUIRED'; responseChecksumValidation?: 'WHEN_REQUIRED' } {
  const unset = (value: string | undefined) => value === undefined || value.trim() === '';
  return {
    ...(unset(env.AWS_REQUEST_CHECKSUM_CALCULATION) ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
    ...(unset(env.AWS_RESPONSE_CHECKSUM_VALIDATION) ? { responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
  };
}

/** Passwords in the proxy variables S3 requests may go through (see aws-sdk.ts), to mask in messages. */
function proxyPasswords(env: NodeJS.ProcessEnv): string[] {
  const names = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'];
  return names.flatMap((name) => {
    try {
      const password = new URL(env[name] ?? '').password;
      return password ? [password, decodeURIComponent(password)] : [];
    } catch {
      return [];
    }
  });
}

/** An S3 endpoint must be an absolute http(s) URL; `host:port` alone parses as a scheme or not at all. */
function checkEndpoint(endpoint: string, from: string) {
  const fail = (why: string) =>
    new StoreConfigError('s3-endpoint-invalid', `${from} ${JSON.stringify(maskUserInfo(endpoint))} ${why}; give the endpoint as http://host:port (or https://)`);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw fail('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fail('does not start with http:// or https://');
  if (url.hostname === '') throw fail('has no host');
  if (url.username !== '' || url.password !== '') throw fail('contains credentials (use the AWS credential chain instead)');
  if (url.search !== '' || url.hash !== '' || endpoint.includes('?') || endpoint.includes('#')) throw fail('has a query or fragment');
}

/** Like maskUrl, also for `user:pw@host` without a scheme (what a mistyped endpoint may be). */
// Up to the last `@` (a secret may contain `/`); without a scheme, everything before it.
const maskUserInfo = (text: string) => {
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
  return `${scheme}***@${text.slice(at + 1)}`;
};

const REGION = /^[a-z0-9-]+$/;

function checkRegion(region: string, from: string) {
  if (!REGION.test(region)) {
    throw new StoreConfigError('s3-region-invalid', `${from} ${JSON.stringify(region)} is not a valid region; use lowercase letters, digits and "-", e.g. us-east-1`);
  }
}

/** The store's timeouts: the caller's, else the first-byte deadline from FIRST_BYTE_VARIABLE, else the defaults. */
function timeoutsOf(given: Partial<S3Timeouts> | undefined, env: NodeJS.ProcessEnv): { timeouts: Partial<S3Timeouts> } | undefined {
  const text = env[FIRST_BYTE_VARIABLE]?.trim();
  if (given || !text) return given ? { timeouts: given } : undefined;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new StoreConfigError('s3-timeout-invalid', `${FIRST_BYTE_VARIABLE}=${JSON.stringify(text)} is not a number of seconds between 0 and 3600; unset it for the default (10)`);
  }
  return { timeouts: { firstByteMs: Math.round(seconds * 1000) } };
}
