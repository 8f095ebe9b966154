import type { S3Client, S3ClientConfig, S3ServiceException } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { S3Timeouts } from './aws-sdk.js';
import { StoreAccessError, StoreConfigError } from './errors.js';
import type { Store, StoreBody, StoredObjectInfo } from './store.js';

type Sdk = typeof import('./aws-sdk.js');

/**
 * Part size of streamed (multipart) uploads. Small parts let the upload of a compressed stream start
 * while the rest is still being compressed; S3's minimum is 5 MiB, and 10,000 parts allow 80 GB.
 */
const PART_SIZE = 8 * 1024 * 1024;
const CONFLICT_RETRIES = 5;

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
  /** Strings that must never appear in an error message (keys, tokens). */
  secrets?: ReadonlyArray<string>;
  /** Without `client`: how long requests may wait (default DEFAULT_S3_TIMEOUTS: 15 s to connect, 60 s idle). */
  timeouts?: S3Timeouts;
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
  private readonly secrets: ReadonlyArray<string>;
  private readonly timeouts: S3Timeouts | undefined;
  private connection: Promise<{ sdk: Sdk; client: S3Client }> | undefined;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    this.givenClient = options.client;
    this.clientConfig = options.clientConfig ?? {};
    this.endpoint = options.endpoint;
    this.secrets = (options.secrets ?? []).filter((secret) => secret.length >= 4);
    this.timeouts = options.timeouts;
    this.location = `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
  }

  /** Loads the SDK (and creates the client) on first use, so opening a store costs nothing until it is used. */
  private connect() {
    // On Node < 22 the SDK warns, at client creation, that its *future* releases need Node 22. The tools
    // pin their SDK, so the notice is noise their users cannot act on (one place for the CLI and the action).
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.connection ??= import('./aws-sdk.js').then((sdk) => {
      if (this.givenClient) return { sdk, client: this.givenClient };
      const requestHandler = sdk.requestHandlerFor(this.requestTarget(), this.timeouts);
      return { sdk, client: new sdk.S3Client({ ...this.clientConfig, requestHandler }) };
    });
    return this.connection;
  }

  /** Where requests go, for choosing a proxy: the endpoint, or AWS S3's regional host for the bucket. */
  private requestTarget(): string {
    const { endpoint, region } = this.clientConfig;
    if (typeof endpoint === 'string') return endpoint;
    return `https://${this.bucket}.s3.${typeof region === 'string' ? region : 'us-east-1'}.amazonaws.com`;
  }

  private keyOf(key: string) {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private mask(text: string) {
    return this.secrets.reduce((masked, secret) => masked.split(secret).join('***'), text);
  }

  /** One clear error per failure class; never includes credentials. */
  private failure(action: string, key: string, error: unknown): Error {
    const where = this.endpoint ? ` at ${this.endpoint}` : '';
    const name = nameOf(error);
    const message = this.mask((error as Error)?.message ?? String(error));
    if (name === 'NoSuchBucket') {
      return new StoreConfigError('bucket-missing', `bucket ${this.bucket} does not exist${where}; create it or check the store location (${this.location})`);
    }
    if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'InvalidToken' || name === 'ExpiredToken') {
      return new StoreConfigError('credentials-rejected', `S3${where} rejected the credentials (${name}) for ${this.location}; check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the role you assumed`);
    }
    if (name === 'CredentialsProviderError') {
      return new StoreConfigError('credentials-missing', `no AWS credentials found for ${this.location}; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or configure a role (${message})`);
    }
    if (name === 'AccessDenied' || statusOf(error) === 403) {
      return new StoreConfigError('access-denied', `access denied to ${action} ${this.keyOf(key)} in ${this.location}${where}; grant s3:GetObject/PutObject/ListBucket/DeleteObject on the bucket or fix the credentials`);
    }
    if (name === 'TimeoutError') {
      // The handler's own timeouts (see aws-sdk.ts), after the SDK's retries: its message says which one.
      const attempts = (error as S3ServiceException)?.$metadata?.attempts;
      return new StoreAccessError(
        's3-timeout',
        `the S3 endpoint${where || ' (AWS default)'} did not answer when asked to ${action} ${this.keyOf(key)} in ${this.location}${attempts ? ` (${attempts} attempts)` : ''}: ${message}; check the S3 endpoint, the network and any proxy`,
        { cause: error },
      );
    }
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ECONNRESET') {
      return new StoreConfigError('endpoint-unreachable', `cannot reach the S3 endpoint${where || ' (AWS default)'} for ${this.location} (${code}); check the S3 endpoint (or AWS_ENDPOINT_URL_S3)`);
    }
    return new StoreAccessError('s3-request-failed', `S3 ${action} of ${this.keyOf(key)} in ${this.location} failed: ${name ?? 'error'}: ${message}`, { cause: error });
  }

  async get(key: string) {
    const { sdk, client } = await this.connect();
    try {
      const result = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      const body = Buffer.from(await result.Body!.transformToByteArray());
      return { body, etag: result.ETag ?? '' };
    } catch (error) {
      if (nameOf(error) === 'NoSuchKey') return undefined;
      throw this.failure('read', key, error);
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
      // HEAD has no body, so a missing bucket also shows up as a bare 404.
      if (nameOf(error) === 'NotFound' || nameOf(error) === 'NoSuchKey') return false;
      throw this.failure('check', key, error);
    }
  }

  async putIfAbsent(key: string, body: StoreBody, onBytes?: (bytes: number) => void) {
    const { sdk, client } = await this.connect();
    for (let attempt = 0; ; attempt++) {
      try {
        if (Buffer.isBuffer(body)) {
          await client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), Body: body, IfNoneMatch: '*' }));
          onBytes?.(body.length);
        } else {
          const upload = new sdk.Upload({
            client,
            partSize: PART_SIZE,
            queueSize: 4,
            params: { Bucket: this.bucket, Key: this.keyOf(key), Body: body.stream(), IfNoneMatch: '*' },
          });
          let reported = 0;
          upload.on('httpUploadProgress', (progress) => {
            const loaded = progress.loaded ?? 0;
            if (loaded > reported) onBytes?.(loaded - reported);
            reported = Math.max(reported, loaded);
          });
          await upload.done();
        }
        return 'created' as const;
      } catch (error) {
        if (statusOf(error) === 412 || nameOf(error) === 'PreconditionFailed') return 'exists' as const;
        // 409: a concurrent conditional write to the same key is in flight; ask again.
        if (statusOf(error) === 409 && attempt < CONFLICT_RETRIES) continue;
        throw this.failure('write', key, error);
      }
    }
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
      if (status === 412 || status === 409 || nameOf(error) === 'PreconditionFailed') return 'conflict' as const;
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

  async close() {
    // Only a client this store created is destroyed; one the caller passed stays usable.
    if (this.givenClient || !this.connection) return;
    const connection = await this.connection.catch(() => undefined);
    connection?.client.destroy();
  }
}
