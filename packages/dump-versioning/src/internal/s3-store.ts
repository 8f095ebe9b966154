import type { GetObjectCommandOutput, S3Client, S3ClientConfig, S3ServiceException } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { S3Timeouts } from './aws-sdk.js';
import { StoreAccessError, StoreConfigError } from './errors.js';
import { addCredentialMarker, addRetryNotices, credentialLogger, describeBodyReadFailure, describeS3Failure, notS3, type S3Context } from './s3-diagnosis.js';
import type { IncompleteUpload, Store, StoreBody, StoredObjectInfo, StreamBody } from './store.js';

type Sdk = typeof import('./aws-sdk.js');

/**
 * Part size of streamed (multipart) uploads. Small parts let the upload of a compressed stream start
 * while the rest is still being compressed; S3's minimum is 5 MiB, and 10,000 parts allow 80 GB.
 */
const PART_SIZE = 8 * 1024 * 1024;
const CONFLICT_RETRIES = 5;
/**
 * Reads of a small object (`get`): the SDK retries until the response headers arrive, not a body cut off
 * after them (a connection reset by a proxy or a restarting server), so `get` asks again itself.
 */
const BODY_READ_ATTEMPTS = 3;

const statusOf = (error: unknown) => (error as S3ServiceException)?.$metadata?.httpStatusCode;
const nameOf = (error: unknown) => (error as Error)?.name;

export interface S3StoreOptions {
  bucket: string;
  prefix: string;
  /** A ready client; closing the store leaves it alone. */
  client?: S3Client;
  /** Without `client`: the configuration of the client the store creates on first use (and destroys on close). */
  clientConfig?: S3ClientConfig;
  /** Printable endpoint (no credentials) for error messages. */
  endpoint?: string;
  /** The variable the endpoint came from (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL), named in messages about it. */
  endpointFrom?: string;
  /** Strings that must never appear in an error message (keys, tokens). */
  secrets?: ReadonlyArray<string>;
  /**
   * Without `client`: how long requests may wait; unset values default to DEFAULT_S3_TIMEOUTS (aws-sdk.ts):
   * 5 s to connect, 10 s to the first byte of the answer to a small request, 30 s idle.
   */
  timeouts?: Partial<S3Timeouts>;
  /**
   * Without `client`: told before each retry of a request, with why, e.g. `S3 endpoint http://h:9000 did not
   * answer within 10 s; retrying (2/3)`, so a slow failure is not silent until its last attempt.
   */
  onRetry?: (message: string) => void;
}

/**
 * S3 (and MinIO/R2/Ceph) store. Conditional writes (`If-None-Match: *`, `If-Match`) make blob
 * creation and ref updates safe against concurrent publishers without a lock service.
 */
export class S3Store implements Store {
  readonly location: string;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly givenClient: S3Client | undefined;
  private readonly clientConfig: S3ClientConfig;
  private readonly endpoint: string | undefined;
  private readonly endpointFrom: string | undefined;
  private readonly secrets: ReadonlyArray<string>;
  private readonly timeouts: Partial<S3Timeouts> | undefined;
  private readonly onRetry: ((message: string) => void) | undefined;
  private closed = false;
  private connection: Promise<{ sdk: Sdk; client: S3Client }> | undefined;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    this.givenClient = options.client;
    this.clientConfig = options.clientConfig ?? {};
    this.endpoint = options.endpoint;
    this.endpointFrom = options.endpointFrom;
    this.onRetry = options.onRetry;
    this.secrets = (options.secrets ?? []).filter((secret) => secret.length >= 4);
    this.timeouts = options.timeouts;
    this.location = `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
  }

  /** Loads the SDK (and creates the client) on first use, so opening a store costs nothing until it is used. */
  private connect() {
    // On Node < 22 the SDK warns, at client creation, that its *future* releases need Node 22. The tools
    // pin their SDK, so the notice is noise their users cannot act on (one place for the CLI and the action).
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.connection ??= import('./aws-sdk.js').then(async (sdk) => {
      if (this.givenClient) return { sdk, client: this.givenClient };
      const region = this.clientConfig.region ?? (await this.defaultRegion(sdk));
      const requestHandler = sdk.requestHandlerFor(this.requestTarget(region), this.timeouts);
      const { logger, notes } = credentialLogger();
      const client = new sdk.S3Client({ logger, ...this.clientConfig, region, requestHandler });
      addCredentialMarker(client, notes);
      // Requests still retrying after close() (a sibling of a failed one) say nothing more.
      const onRetry = this.onRetry;
      if (onRetry) addRetryNotices(client, this.context(), (message) => this.closed || onRetry(message));
      return { sdk, client };
    });
    return this.connection;
  }

  /**
   * The region when neither the caller nor AWS_REGION/AWS_DEFAULT_REGION names one: the SDK's own chain
   * (the `region` of the shared config profile, AWS_PROFILE or default), else us-east-1 (on AWS S3 a
   * bucket elsewhere then answers with a redirect the client follows).
   */
  private async defaultRegion(sdk: Sdk): Promise<string> {
    const probe = new sdk.S3Client({});
    const region = await probe.config.region().catch(() => undefined);
    probe.destroy();
    if (region === undefined || region.trim() === '') return 'us-east-1';
    if (!/^[a-z0-9-]+$/.test(region)) {
      const profile = process.env.AWS_PROFILE?.trim() || 'default';
      throw new StoreConfigError('s3-region-invalid', `the region ${JSON.stringify(region)} of AWS profile ${profile} (shared config file) is not a valid region; use lowercase letters, digits and "-", e.g. us-east-1`);
    }
    return region;
  }

  /** Where requests go, for choosing a proxy: the endpoint, or AWS S3's regional host for the bucket. */
  private requestTarget(region: S3ClientConfig['region']): string {
    const { endpoint } = this.clientConfig;
    if (typeof endpoint === 'string') return endpoint;
    return `https://${this.bucket}.s3.${typeof region === 'string' ? region : 'us-east-1'}.amazonaws.com`;
  }

  private keyOf(key: string) {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private mask(text: string) {
    return this.secrets.reduce((masked, secret) => masked.split(secret).join('***'), text);
  }

  /** One clear error per failure class (s3-diagnosis.ts); never includes credentials. */
  private failure(action: string, key: string, error: unknown): Error {
    return describeS3Failure(this.context(), action, key, error);
  }

  private context(): S3Context {
    return { bucket: this.bucket, prefix: this.prefix, location: this.location, endpoint: this.endpoint, endpointFrom: this.endpointFrom, mask: (text) => this.mask(text) };
  }

  async get(key: string) {
    const { sdk, client } = await this.connect();
    for (let attempt = 1; ; attempt++) {
      let result: GetObjectCommandOutput;
      try {
        result = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      } catch (error) {
        if (nameOf(error) === 'NoSuchKey') return undefined;
        throw this.failure('read', key, error);
      }
      try {
        const body = Buffer.from(await result.Body!.transformToByteArray());
        return { body, etag: result.ETag ?? '' };
      } catch (error) {
        // The answer began and broke off: the SDK's retries are over once headers arrived, so read it again whole.
        if (attempt < BODY_READ_ATTEMPTS) continue;
        throw describeBodyReadFailure(this.context(), key, attempt, error);
      }
    }
  }

  async getStream(key: string) {
    const { sdk, client } = await this.connect();
    try {
      const result = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return result.Body as Readable;
    } catch (error) {
      if (nameOf(error) === 'NoSuchKey') return undefined;
      throw this.failure('read', key, error);
    }
  }

  async exists(key: string) {
    const { sdk, client } = await this.connect();
    try {
      await client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return true;
    } catch (error) {
      // HEAD has no body, so a missing bucket also shows up as a bare 404; so does any web server's, which
      // only its content type (an HTML page) tells apart.
      if ((nameOf(error) === 'NotFound' || nameOf(error) === 'NoSuchKey') && !notS3(error)) return false;
      throw this.failure('check', key, error);
    }
  }

  async putIfAbsent(key: string, body: StoreBody, onBytes?: (bytes: number) => void, signal?: AbortSignal) {
    signal?.throwIfAborted();
    const { sdk, client } = await this.connect();
    for (let attempt = 0; ; attempt++) {
      try {
        if (Buffer.isBuffer(body)) {
          await client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), Body: body, IfNoneMatch: '*' }), signal ? { abortSignal: signal } : {});
          onBytes?.(body.length);
        } else {
          await this.upload(sdk, client, key, body, onBytes, signal);
        }
        return 'created' as const;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (statusOf(error) === 412 || nameOf(error) === 'PreconditionFailed') {
          // A retry of a write the server stored but answered too late finds its own object.
          if (Buffer.isBuffer(body) && (await this.isOwnRetriedWrite(error, key, body))) return 'created' as const;
          return 'exists' as const;
        }
        // 409: a concurrent conditional write to the same key is in flight; ask again.
        if (statusOf(error) === 409 && attempt < CONFLICT_RETRIES) continue;
        throw this.failure('write', key, error);
      }
    }
  }

  /**
   * A streamed upload (multipart beyond one part). Aborting `signal` cuts the requests in flight and aborts
   * the multipart upload before returning: lib-storage alone would only stop starting parts, let those in
   * flight finish, and send AbortMultipartUpload later in the background (never, if the process exits
   * first), leaving parts that are billed and listed nowhere.
   */
  private async upload(sdk: Sdk, client: S3Client, key: string, body: StreamBody, onBytes: ((bytes: number) => void) | undefined, signal: AbortSignal | undefined) {
    const Key = this.keyOf(key);
    let created: Promise<string | undefined> | undefined;
    // The client as the upload sees it: with `signal` on each request, except CreateMultipartUpload (short; its
    // id is needed to abort) and AbortMultipartUpload (the cleanup itself).
    const sender = !signal
      ? client
      : new Proxy(client, {
          get(target, property) {
            if (property !== 'send') return Reflect.get(target, property, target);
            return (command: Parameters<S3Client['send']>[0], options?: { abortSignal?: AbortSignal }) => {
              if (command instanceof sdk.CreateMultipartUploadCommand) {
                const sending = target.send(command, options);
                created = sending.then((output) => output.UploadId, () => undefined);
                return sending;
              }
              if (command instanceof sdk.AbortMultipartUploadCommand) return target.send(command, options);
              return target.send(command, { ...options, abortSignal: signal });
            };
          },
        });
    const stream = body.stream();
    const upload = new sdk.Upload({ client: sender, partSize: PART_SIZE, queueSize: 4, params: { Bucket: this.bucket, Key, Body: stream, IfNoneMatch: '*' } });
    let reported = 0;
    upload.on('httpUploadProgress', (progress) => {
      const loaded = progress.loaded ?? 0;
      if (loaded > reported) onBytes?.(loaded - reported);
      reported = Math.max(reported, loaded);
    });
    const stop = () => void upload.abort();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      await upload.done();
    } catch (error) {
      if (!signal?.aborted) throw error;
      stream.destroy();
      const uploadId = await created;
      // NoSuchUpload when lib-storage's own abort got there first; anything else is left to prune (see prune.ts).
      if (uploadId) await client.send(new sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId })).catch(() => undefined);
      throw signal.reason;
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  }

  /**
   * Whether a conditional write refused on a retry (the SDK's attempts > 1) was this very write: the first
   * attempt reached the server, which answered after the deadline, and the retry then found the object.
   */
  private async isOwnRetriedWrite(error: unknown, key: string, sent: Buffer): Promise<boolean> {
    const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
    if (attempts < 2) return false;
    const stored = await this.get(key).catch(() => undefined);
    return stored !== undefined && stored.body.equals(sent);
  }

  async putIfMatch(key: string, body: Buffer, etag: string | undefined) {
    const { sdk, client } = await this.connect();
    try {
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.keyOf(key),
          Body: body,
          ContentType: 'application/json',
          ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag }),
        }),
      );
      return 'written' as const;
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 409 || nameOf(error) === 'PreconditionFailed') {
        // Refs and leases hold unique ids and times: equal bytes are this write, retried after a late answer.
        if (await this.isOwnRetriedWrite(error, key, body)) return 'written' as const;
        return 'conflict' as const;
      }
      // If-Match on a key deleted meanwhile answers 404.
      if (etag !== undefined && nameOf(error) === 'NoSuchKey') return 'conflict' as const;
      throw this.failure('write', key, error);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObjectInfo> {
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    const { sdk, client } = await this.connect();
    try {
      for await (const page of sdk.paginateListObjectsV2({ client }, { Bucket: this.bucket, Prefix: this.keyOf(prefix) })) {
        for (const object of page.Contents ?? []) {
          if (!object.Key) continue;
          yield { key: object.Key.slice(strip), size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
        }
      }
    } catch (error) {
      throw this.failure('list', prefix, error);
    }
  }

  async delete(keys: ReadonlyArray<string>) {
    const { sdk, client } = await this.connect();
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000);
      try {
        const result = await client.send(
          new sdk.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((key) => ({ Key: this.keyOf(key) })), Quiet: true } }),
        );
        const failed = result.Errors?.[0];
        if (failed) throw new StoreAccessError('s3-delete-failed', `S3 could not delete ${failed.Key} in ${this.location}: ${failed.Code} ${failed.Message ?? ''}`);
      } catch (error) {
        if (error instanceof StoreAccessError) throw error;
        throw this.failure('delete', batch[0] ?? '', error);
      }
    }
  }

  async *listIncompleteUploads(prefix: string): AsyncIterable<IncompleteUpload> {
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    const wanted = this.keyOf(prefix);
    const { sdk, client } = await this.connect();
    try {
      // The whole bucket, filtered here: MinIO matches a Prefix against whole keys only (a directory lists nothing).
      let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
      for (;;) {
        const page = await client.send(new sdk.ListMultipartUploadsCommand({ Bucket: this.bucket, ...markers }));
        for (const upload of page.Uploads ?? []) {
          if (!upload.Key?.startsWith(wanted) || !upload.UploadId) continue;
          yield { key: upload.Key.slice(strip), uploadId: upload.UploadId, initiated: upload.Initiated ?? new Date(0) };
        }
        if (!page.IsTruncated) return;
        markers = { ...(page.NextKeyMarker ? { KeyMarker: page.NextKeyMarker } : {}), ...(page.NextUploadIdMarker ? { UploadIdMarker: page.NextUploadIdMarker } : {}) };
      }
    } catch (error) {
      throw this.failure('list incomplete uploads under', prefix, error);
    }
  }

  async abortIncompleteUploads(uploads: ReadonlyArray<IncompleteUpload>) {
    const { sdk, client } = await this.connect();
    for (const upload of uploads) {
      try {
        await client.send(new sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.keyOf(upload.key), UploadId: upload.uploadId }));
      } catch (error) {
        // Completed or aborted meanwhile (a publish finishing, another prune): nothing left to free.
        if (nameOf(error) === 'NoSuchUpload' || statusOf(error) === 404) continue;
        throw this.failure('abort the incomplete upload of', upload.key, error);
      }
    }
  }

  async close() {
    this.closed = true;
    // Only a client this store created is destroyed; one the caller passed stays usable.
    if (this.givenClient || !this.connection) return;
    const connection = await this.connection.catch(() => undefined);
    connection?.client.destroy();
  }
}
