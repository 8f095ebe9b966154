// The parts of the AWS SDK the S3 store uses. Only s3-store.ts loads this module, with a dynamic
// import on first S3 use, so nothing reachable from src/index.ts imports `@aws-sdk/*` at runtime: filesystem
// stores (and any bundle split on this module) never load the SDK. Types may still be imported anywhere.
export {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
export { Upload } from '@aws-sdk/lib-storage';

import { NodeHttpHandler } from '@smithy/node-http-handler';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { seconds } from './s3-diagnosis.js';

/** How long S3 requests may wait; see requestHandlerFor. */
export interface S3Timeouts {
  /** Establishing the TCP connection. */
  connectMs: number;
  /**
   * From sending a request to the first byte of its answer, for requests whose answer should come at once:
   * no body or a small one (reads, lists, refs, manifests); see BoundedHttpHandler. Unset: the default.
   */
  firstByteMs?: number;
  /** Silence on an open connection: nothing sent or received (the only limit on long transfers). */
  idleMs: number;
}

/**
 * The SDK's default handler waits forever: a server that accepts but never answers hangs the run (a CI job
 * until its own timeout). A few seconds suffice to connect and to get the first byte of the answer to a
 * small request, so a wrong endpoint fails (after the SDK's 3 attempts) in about 30 s, with a retry
 * notice every 10 s. Transfers are bounded by idle time only: a large upload or download may take as
 * long as it keeps moving, and 30 s of silence is far beyond what a working S3 pauses mid-request.
 */
export const DEFAULT_S3_TIMEOUTS: Required<S3Timeouts> = { connectMs: 5_000, firstByteMs: 10_000, idleMs: 30_000 };

/** Bodies up to this size are sent within a fraction of the first-byte deadline even on a slow link. */
const SMALL_BODY = 64 * 1024;

/** Which limit a TimeoutError of the handler hit (set on the error, for messages and retry notices). */
export interface TimeoutInfo {
  timeoutPhase: 'connect' | 'first-byte' | 'idle';
  timeoutMs: number;
}

type HandleArgs = Parameters<NodeHttpHandler['handle']>;

/**
 * NodeHttpHandler with a first-byte deadline (its `requestTimeout`, which runs until the response
 * headers arrive, so it never cuts a download) on the requests that carry little or nothing: a large
 * body would count its upload time against it. Completing a multipart upload and batch deletes are left
 * out too: the server's work grows with the object or the batch before it answers.
 */
class BoundedHttpHandler extends NodeHttpHandler {
  constructor(private readonly timeouts: Required<S3Timeouts>, agents: { httpAgent?: HttpProxyAgent<string>; httpsAgent?: HttpsProxyAgent<string> }) {
    super({ connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.idleMs, throwOnRequestTimeout: true, ...agents });
  }

  override async handle(request: HandleArgs[0], options: HandleArgs[1] = {}): ReturnType<NodeHttpHandler['handle']> {
    const deadline = options.requestTimeout ?? (answersAtOnce(request) ? this.timeouts.firstByteMs : undefined);
    try {
      return await super.handle(request, { ...options, ...(deadline ? { requestTimeout: deadline } : {}) });
    } catch (error) {
      throw this.tagged(error, deadline);
    }
  }

  /** Names the limit hit; the SDK's own text for the first-byte deadline speaks of a "requestTimeout" option. */
  private tagged(error: unknown, deadline: number | undefined): unknown {
    if ((error as Error)?.name !== 'TimeoutError') return error;
    const message = (error as Error).message ?? '';
    if (deadline !== undefined && message.includes('requestTimeout')) {
      const info: TimeoutInfo = { timeoutPhase: 'first-byte', timeoutMs: deadline };
      return Object.assign(new Error(`no answer within ${seconds(deadline)} of sending the request`), { name: 'TimeoutError', code: 'ETIMEDOUT' }, info);
    }
    if (message.includes('did not establish a connection')) return Object.assign(error as Error, { timeoutPhase: 'connect', timeoutMs: this.timeouts.connectMs } satisfies TimeoutInfo);
    if (message.includes('inactivity')) return Object.assign(error as Error, { timeoutPhase: 'idle', timeoutMs: this.timeouts.idleMs } satisfies TimeoutInfo);
    return error;
  }
}

function answersAtOnce(request: HandleArgs[0]): boolean {
  const { body, method, query = {} } = request;
  const size = body == null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.byteLength : Infinity;
  if (size > SMALL_BODY) return false;
  return !(method === 'POST' && ('uploadId' in query || 'delete' in query));
}

/**
 * The request handler of the store's client: the timeouts above, and the proxy the environment names for
 * `target` (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY, as curl and most tools read them) if any. The
 * AWS SDK itself ignores these variables, so behind a corporate proxy (developer machines, self-hosted
 * runners) S3 requests would otherwise try to go out directly and fail.
 */
export function requestHandlerFor(target: string, timeouts: Partial<S3Timeouts> = {}): NodeHttpHandler {
  const proxy = getProxyForUrl(target);
  const defined = Object.fromEntries(Object.entries(timeouts).filter(([, value]) => value !== undefined));
  return new BoundedHttpHandler({ ...DEFAULT_S3_TIMEOUTS, ...defined }, proxy ? { httpAgent: new HttpProxyAgent(proxy), httpsAgent: new HttpsProxyAgent(proxy) } : {});
}
