import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { StoreConfigError, maskUrl, openStore } from '../src/index.js';
import { compatibleChecksums } from '../src/internal/open-store.js';

describe('openStore', () => {
  test('plain paths and file URLs open a filesystem store', () => {
    expect(openStore('.devstack/dumps', { cwd: '/repo' }).location).toBe(path.resolve('/repo/.devstack/dumps'));
    expect(openStore('file:///var/dumps').location).toBe('/var/dumps');
  });

  test('s3 URLs keep bucket and prefix', () => {
    const store = openStore('s3://my-bucket/team/dumps/', { s3Endpoint: 'http://127.0.0.1:1', env: {} });
    expect(store.location).toBe('s3://my-bucket/team/dumps');
  });

  test.each([
    ['gs://bucket/x', /unknown store scheme "gs:"/],
    ['http://user:pw@host/x', /unknown store scheme "http:" in http:\/\/\*\*\*@host\/x/],
    ['s3://Bad_Bucket/x', /not a valid bucket name/],
    ['s3://key:secret@bucket/x', /contains credentials/],
    ['s3://bucket/../x', /must not contain/],
    ['file://relative/x', /not a valid file URL/],
    ['  ', /store URL is empty/],
  ])('rejects %s with one clear StoreConfigError', (url, message) => {
    expect(() => openStore(url, { env: {} })).toThrow(StoreConfigError);
    expect(() => openStore(url, { env: {} })).toThrow(message);
    expect(() => openStore(url, { env: {} })).not.toThrow(/pw|secret/);
  });

  test.each([
    ['s3://bucket/dev?x=1#y', 'must not contain "?" or "#"'],
    ['s3://bucket/dev#y', 'must not contain "?" or "#"'],
    ['s3://bucket/?x', 'must not contain "?" or "#"'],
    ['s3://bucket/a//b', 'must not contain empty segments'],
  ])('refuses the prefix of %s before any request', (url, why) => {
    const open = () => openStore(url, { s3Endpoint: 'http://127.0.0.1:1', env: {} });
    expect(open).toThrow(expect.objectContaining({ name: 'StoreConfigError', code: 'store-bad-prefix', message: expect.stringContaining(why) }));
  });

  test.each([
    ['minio.local:9000', 'does not start with http:// or https://'],
    ['127.0.0.1:19000', 'is not a URL'],
    ['ftp://minio.local:9000', 'does not start with http:// or https://'],
    ['http://key:topsecret@minio.local:9000', 'contains credentials'],
    ['key:topsecret@minio.local:9000', 'does not start with http://'],
    ['http://minio.local:9000/?x=1', 'has a query or fragment'],
    ['http://minio.local:9000/#frag', 'has a query or fragment'],
  ])('rejects the S3 endpoint %s before any request', (endpoint, why) => {
    for (const options of [{ s3Endpoint: endpoint, env: {} }, { env: { AWS_ENDPOINT_URL_S3: endpoint } }]) {
      let caught: unknown;
      try {
        openStore('s3://bucket/x', options);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(StoreConfigError);
      expect(caught).toMatchObject({ code: 's3-endpoint-invalid' });
      expect((caught as Error).message).toContain(why);
      expect((caught as Error).message).toContain('give the endpoint as http://host:port');
      expect((caught as Error).message).not.toContain('topsecret');
    }
  });

  test('the message names where a bad endpoint came from', () => {
    expect(() => openStore('s3://bucket/x', { env: { AWS_ENDPOINT_URL_S3: 'minio:9000' } })).toThrow(/^AWS_ENDPOINT_URL_S3 "minio:9000"/);
    expect(() => openStore('s3://bucket/x', { env: { AWS_ENDPOINT_URL: 'minio:9000' } })).toThrow(/^AWS_ENDPOINT_URL "minio:9000"/);
  });

  test.each(['http://127.0.0.1:19000', 'https://s3.eu-west-1.amazonaws.com', 'http://minio.local:9000/', 'http://[::1]:9000'])('accepts the S3 endpoint %s', (endpoint) => {
    expect(openStore('s3://bucket/x', { s3Endpoint: endpoint, env: {} }).location).toBe('s3://bucket/x');
  });

  test.each([
    [{ s3Region: 'EU West' }, /the S3 region "EU West"/],
    [{ s3Region: 'us_east_1' }, /the S3 region "us_east_1"/],
    [{ env: { AWS_REGION: 'eu-west-1 ' } }, /AWS_REGION "eu-west-1 "/],
  ])('rejects the S3 region in %j', (options, message) => {
    const open = () => openStore('s3://bucket/x', { env: {}, ...options });
    expect(open).toThrow(StoreConfigError);
    expect(open).toThrow(message);
    try {
      open();
    } catch (error) {
      expect(error).toMatchObject({ code: 's3-region-invalid' });
    }
  });

  test.each([
    ['s3://AKIAEXAMPLE:abc/def+x@bucket/p', {}],
    ['s3://bucket/p', { s3Endpoint: 'http://AKIAEXAMPLE:abc/def+x@minio:9000' }],
    ['s3://bucket/p', { env: { AWS_ENDPOINT_URL_S3: 'http://AKIAEXAMPLE:abc/def+x@minio:9000' } }],
    ['gs://AKIAEXAMPLE:abc/def+x@bucket/p', {}],
    ['s3://AKIAEXAMPLE:abc@bucket/p', {}],
  ])('never prints credentials in %s (secret keys may contain "/")', (url, options) => {
    let message = '';
    try {
      openStore(url, { env: {}, ...options });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toBe('');
    for (const part of ['abc', 'def+x', 'AKIAEXAMPLE']) expect(message).not.toContain(part);
    expect(message).toContain('***@');
  });

  test('an empty region or endpoint counts as unset (a workflow variable that is not defined gives "")', () => {
    expect(() => openStore('s3://bucket/x', { s3Region: '', env: { AWS_REGION: '', AWS_DEFAULT_REGION: ' ', AWS_ENDPOINT_URL_S3: '' } })).not.toThrow();
    expect(() => openStore('s3://bucket/x', { env: { AWS_REGION: '', AWS_DEFAULT_REGION: 'bad region' } })).toThrow(/^AWS_DEFAULT_REGION "bad region"/);
    expect(() => openStore('s3://bucket/x', { env: { AWS_ENDPOINT_URL_S3: '', AWS_ENDPOINT_URL: 'minio:9000' } })).toThrow(/^AWS_ENDPOINT_URL "minio:9000"/);
  });

  test('messages are face-neutral: no CLI flags', () => {
    expect(() => openStore(' ', { env: {} })).toThrow('give s3://bucket/prefix, file:///abs/dir or a directory');
    expect(() => openStore(' ', { env: {} })).not.toThrow(/--store/);
  });

  test('maskUrl hides user info', () => {
    expect(maskUrl('mysql://root:rootpw@127.0.0.1:3306')).toBe('mysql://***@127.0.0.1:3306');
  });
});

describe('compatibleChecksums (S3-compatible endpoints)', () => {
  test.each<[string, NodeJS.ProcessEnv, object]>([
    ['nothing set: checksums only when an operation requires them', {}, { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }],
    ['empty variables count as unset', { AWS_REQUEST_CHECKSUM_CALCULATION: '', AWS_RESPONSE_CHECKSUM_VALIDATION: ' ' }, { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }],
    ['the request variable decides requests (the SDK reads it)', { AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_SUPPORTED' }, { responseChecksumValidation: 'WHEN_REQUIRED' }],
    ['both variables decide', { AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_SUPPORTED', AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_SUPPORTED' }, {}],
  ])('%s', (_, env, expected) => {
    expect(compatibleChecksums(env)).toEqual(expected);
  });
});

describe('proxy credentials', () => {
  test('a password in a proxy variable is masked in store errors, as the AWS keys are', async () => {
    const failing = { send: async () => Promise.reject(new Error('proxy http://proxyuser:Pr0xyS3cret@proxy.corp:3128 refused: Pr0xyS3cret')), destroy: () => undefined };
    const store = openStore('s3://bucket/x', { s3Client: failing as never, env: { HTTPS_PROXY: 'http://proxyuser:Pr0xyS3cret@proxy.corp:3128' } });
    const failure = await store.get('svc/refs/master.json').then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure?.message).toContain('***');
    expect(failure?.message).not.toContain('Pr0xyS3cret');
  });
});
