import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test, vi } from 'vitest';
import { useLoopbackS3 } from './s3-loopback.js';
import { StoreAccessError, StoreConfigError } from '../src/internal/errors.js';
import { openStore } from '../src/internal/open-store.js';

// Credentials and region come from the SDK's chains (environment, shared config profile), as on a laptop or
// a runner: each test writes its own config file (the SDK caches files by path) and points AWS_CONFIG_FILE at it.
const { httpServer } = useLoopbackS3({
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_REGION: undefined,
  AWS_DEFAULT_REGION: undefined,
  AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
  AWS_ROLE_ARN: undefined,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_MAX_ATTEMPTS: '1',
});

let dir: string;
let files = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dv-aws-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** Fresh shared config and credentials files holding `config`; the environment points at them. */
async function awsFiles(config: string, env: Record<string, string> = {}) {
  const n = ++files;
  vi.stubEnv('AWS_CONFIG_FILE', path.join(dir, `config-${n}`));
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', path.join(dir, `credentials-${n}`));
  await writeFile(path.join(dir, `config-${n}`), config);
  await writeFile(path.join(dir, `credentials-${n}`), '');
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
}

const KEYS = 'aws_access_key_id = AKIAPROFILEKEY\naws_secret_access_key = profile-secret-value\n';
const NO_SUCH_KEY = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>';
const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as Error);

/** A stand-in answering every request "no such key", keeping the region each was signed for. */
async function signedRegions() {
  const regions: string[] = [];
  const port = await httpServer((request, response) => {
    regions.push(/Credential=[^/]+\/\d+\/([^/]+)\//.exec(request.headers.authorization ?? '')?.[1] ?? '?');
    response.writeHead(404, { 'Content-Type': 'application/xml' }).end(NO_SUCH_KEY);
  });
  return { endpoint: `http://127.0.0.1:${port}`, regions };
}

test.each<[string, string, Record<string, string>, string]>([
  ['the region of the profile AWS_PROFILE names', `[profile dev]\nregion = eu-central-1\n${KEYS}`, { AWS_PROFILE: 'dev' }, 'eu-central-1'],
  ['the region of the default profile', `[default]\nregion = ap-southeast-2\n${KEYS}`, {}, 'ap-southeast-2'],
])('requests are signed for %s', async (_, config, env, region) => {
  await awsFiles(config, env);
  const { endpoint, regions } = await signedRegions();
  const store = openStore('s3://some-bucket/dumps', { s3Endpoint: endpoint });
  expect(await store.get('svc/refs/master.json')).toBeUndefined();
  await store.close();
  expect(regions).toEqual([region]);
});

test('a server in another region is named as a region mismatch, quoting the region it expects', async () => {
  await awsFiles(`[default]\n${KEYS}`);
  const port = await httpServer((_request, response) => {
    response.writeHead(400, { 'Content-Type': 'application/xml' }).end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'.</Message><Region>eu-west-1</Region></Error>`,
    );
  });
  const store = openStore('s3://some-bucket/dumps', { s3Endpoint: `http://127.0.0.1:${port}` });
  const failure = await failureOf(store.get('svc/refs/master.json'));
  await store.close();
  expect(failure).toBeInstanceOf(StoreConfigError);
  expect(failure).toMatchObject({ code: 'region-mismatch' });
  expect(failure!.message).toMatch(/set the S3 region \(or AWS_REGION\) to "eu-west-1"$/);
});

test.each<[string, string, Record<string, string>, RegExp]>([
  [
    'AWS_WEB_IDENTITY_TOKEN_FILE naming a missing file',
    '',
    { AWS_WEB_IDENTITY_TOKEN_FILE: '/nonexistent/dv-token', AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/dumps', AWS_REGION: 'us-east-1' },
    /AWS_WEB_IDENTITY_TOKEN_FILE names \/nonexistent\/dv-token, which cannot be read \(ENOENT\)/,
  ],
  [
    "a profile's web_identity_token_file naming a missing file",
    '[profile oidc]\nrole_arn = arn:aws:iam::123456789012:role/dumps\nweb_identity_token_file = /nonexistent/dv-profile-token\nregion = us-east-1\n',
    { AWS_PROFILE: 'oidc' },
    /the web_identity_token_file of AWS profile oidc \(.*config-\d+\) is \/nonexistent\/dv-profile-token, which cannot be read \(ENOENT\)/,
  ],
  ['AWS_PROFILE naming a profile no file defines', `[profile dev]\n${KEYS}`, { AWS_PROFILE: 'nope' }, /AWS_PROFILE names profile nope, which neither .*config-\d+ nor .*credentials-\d+ defines; check the name or unset AWS_PROFILE/],
  [
    'a failing credential_process',
    '[profile proc]\ncredential_process = sh -c "echo dv-process-refused >&2; exit 3"\n',
    { AWS_PROFILE: 'proc' },
    /the credential_process of AWS profile proc failed: .*dv-process-refused/s,
  ],
])('credentials that cannot be resolved (%s) are credentials-missing, naming the source', async (_, config, env, message) => {
  await awsFiles(config, env);
  const { endpoint, regions } = await signedRegions();
  const store = openStore('s3://some-bucket/dumps', { s3Endpoint: endpoint });
  const failure = await failureOf(store.get('svc/refs/master.json'));
  await store.close();
  expect(failure).toBeInstanceOf(StoreConfigError);
  expect(failure).toMatchObject({ code: 'credentials-missing' });
  expect(failure!.message).toMatch(message);
  expect(regions).toEqual([]);
});

/** A stand-in whose first `drops` answers to GET break off after the headers and a few bytes of the body. */
async function droppingServer(drops: number, body: string) {
  let gets = 0;
  const port = await httpServer((request, response) => {
    if (request.method !== 'GET') return void response.writeHead(405).end();
    if (++gets <= drops) {
      response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length), ETag: '"e"' });
      response.write(body.slice(0, 5), () => response.socket?.destroy());
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length), ETag: '"e"' }).end(body);
  });
  return { endpoint: `http://127.0.0.1:${port}`, gets: () => gets };
}

test.each([1, 2])('a small read whose connection drops mid-body (%i times) is read again', async (drops) => {
  await awsFiles(`[default]\n${KEYS}`);
  const body = JSON.stringify({ branch: 'master', padding: 'x'.repeat(200) });
  const server = await droppingServer(drops, body);
  const store = openStore('s3://some-bucket/dumps', { s3Endpoint: server.endpoint });
  const read = await store.get('svc/refs/master.json');
  await store.close();
  expect(read?.body.toString()).toBe(body);
  expect(server.gets()).toBe(drops + 1);
});

test('a read that drops mid-body on every attempt is a transient access error, not the endpoint', async () => {
  await awsFiles(`[default]\n${KEYS}`);
  const server = await droppingServer(Infinity, JSON.stringify({ padding: 'x'.repeat(200) }));
  const store = openStore('s3://some-bucket/dumps', { s3Endpoint: server.endpoint });
  const failure = await failureOf(store.get('svc/refs/master.json'));
  await store.close();
  expect(failure).toBeInstanceOf(StoreAccessError);
  expect(failure).toMatchObject({ code: 's3-read-interrupted' });
  expect(failure!.message).toMatch(/^the connection dropped while reading dumps\/svc\/refs\/master\.json in s3:\/\/some-bucket\/dumps \(3 attempts, .+\); try again/);
  expect(server.gets()).toBe(3);
});
