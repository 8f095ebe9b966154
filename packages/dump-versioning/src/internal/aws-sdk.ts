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

/**
 * A request handler that goes through the proxy the environment names for `target` (HTTPS_PROXY,
 * HTTP_PROXY, ALL_PROXY, NO_PROXY, as curl and most tools read them), or undefined for a direct connection.
 * The AWS SDK itself ignores these variables, so behind a corporate proxy (developer machines,
 * self-hosted runners) S3 requests would otherwise try to go out directly and fail.
 */
export function proxyRequestHandler(target: string): NodeHttpHandler | undefined {
  const proxy = getProxyForUrl(target);
  if (!proxy) return undefined;
  return new NodeHttpHandler({ httpAgent: new HttpProxyAgent(proxy), httpsAgent: new HttpsProxyAgent(proxy) });
}
