// The parts of the AWS SDK the S3 store uses. Only s3-store.ts loads this module, with a dynamic
// import on first S3 use, so nothing reachable from src/index.ts imports `@aws-sdk/*` at runtime: filesystem
// stores (and any bundle split on this module) never load the SDK. Types may still be imported anywhere.
export {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
export { Upload } from '@aws-sdk/lib-storage';

import { NodeHttpHandler } from '@smithy/node-http-handler';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';

/** How long S3 requests may wait; see requestHandlerFor. */
export interface S3Timeouts {
  /** Establishing the TCP (and TLS) connection. */
  connectMs: number;
  /** Silence on an open connection: nothing sent or received. */
  idleMs: number;
}

/**
 * The SDK's default handler waits forever: an endpoint behind a firewall that drops packets hangs each
 * attempt for the OS's TCP timeout, and a server that accepts but never answers hangs the run (a CI job
 * until its own timeout). Both become a TimeoutError that the SDK retries and the store then reports.
 * Idle, not total, time: a large upload or download may take as long as it keeps moving.
 */
export const DEFAULT_S3_TIMEOUTS: S3Timeouts = { connectMs: 15_000, idleMs: 60_000 };

/**
 * The request handler of the store's client: the timeouts above, and the proxy the environment names for
 * `target` (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY, as curl and most tools read them) if any. The
 * AWS SDK itself ignores these variables, so behind a corporate proxy (developer machines, self-hosted
 * runners) S3 requests would otherwise try to go out directly and fail.
 */
export function requestHandlerFor(target: string, timeouts: S3Timeouts = DEFAULT_S3_TIMEOUTS): NodeHttpHandler {
  const proxy = getProxyForUrl(target);
  return new NodeHttpHandler({
    connectionTimeout: timeouts.connectMs,
    socketTimeout: timeouts.idleMs,
    ...(proxy ? { httpAgent: new HttpProxyAgent(proxy), httpsAgent: new HttpsProxyAgent(proxy) } : {}),
  });
}
