import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { expect, test } from 'vitest';
import { useLoopbackS3 } from './s3-loopback.js';
import { fakeServer } from '../../../test/support/loopback.js';
import { StoreAccessError, StoreConfigError } from '../src/internal/errors.js';
import { openStore } from '../src/internal/open-store.js';
import type { Store } from '../src/internal/store.js';

// An endpoint that is not S3 (a web server, a TLS mismatch) must fail with one message naming the S3
// endpoint setting, not the SDK's parse or OpenSSL error.
const KEY = 'AKIAWRONGENDPOINTKEY';
const SECRET = 'wrong-endpoint-secret-value';

// openStore takes credentials from the AWS chain, as the CLI does: the environment here.
const ENV = { AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_PROFILE: undefined, AWS_MAX_ATTEMPTS: '1' };
const { closers, httpServer } = useLoopbackS3(ENV);

// What `python3 -m http.server` answers for a path it does not have (501 for methods it lacks).
const pythonErrorPage = (code: number) =>
  `<!DOCTYPE HTML>\n<html lang="en">\n    <head>\n        <meta charset="utf-8">\n        <title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n        <p>Error code: ${code}</p>\n    </body>\n</html>\n`;
const webServer = () =>
  httpServer((request, response) => {
    const code = request.method === 'GET' || request.method === 'HEAD' ? 404 : 501;
    response.writeHead(code, { 'Content-Type': 'text/html;charset=utf-8', Connection: 'close' });
    response.end(request.method === 'HEAD' ? undefined : pythonErrorPage(code));
  });

const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as Error);
const listAll = async (store: Store, prefix: string) => {
  for await (const object of store.list(prefix)) void object;
};

test.each([
  [413, /raise its request body limit \(parts are 8 MiB; nginx: client_max_body_size\)/],
  [502, /check that proxy or gateway and the server behind it/],
])('a gateway page (HTTP %i) in front of a right endpoint is blamed on the gateway, not the endpoint', async (status, advice) => {
  const port = await httpServer((_request, response) => {
    response.writeHead(status, { 'Content-Type': 'text/html' }).end(`<html><head><title>${status}</title></head><body><center><h1>${status}</h1></center><hr><center>nginx</center></body></html>`);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const store = openStore('s3://some-bucket/dumps', { s3Endpoint: endpoint });
  const failure = await failureOf(store.get('lms/refs/master.json'));
  await store.close();
  expect((failure as StoreAccessError)?.code).toBe('gateway-error');
  expect(failure!.message).toMatch(new RegExp(`^a proxy or gateway in front of the S3 endpoint ${endpoint} answered HTTP ${status} \\(an HTML page, HTTP ${status}\\) when asked to read dumps/lms/refs/master\\.json`));
  expect(failure!.message).toMatch(advice);
});

test('a plain web server at the endpoint is named as not S3, for lists, reads, existence checks and writes', async () => {
  const endpoint = `http://127.0.0.1:${await webServer()}`;
  const store = openStore('s3://some-bucket/dumps', { s3Endpoint: endpoint });
  const listed = await failureOf(listAll(store, 'lms/refs/'));
  expect(listed).toBeInstanceOf(StoreConfigError);
  expect((listed as StoreConfigError).code).toBe('s3-endpoint-not-s3');
  expect(listed!.message).toBe(
    `the S3 endpoint ${endpoint} answered with something that is not S3 (an HTML page, HTTP 404) when asked to list dumps/lms/refs/ in s3://some-bucket/dumps; check the S3 endpoint: it must be the S3 API's URL (MinIO: the API port, not the console's)`,
  );
  // A HEAD has no body to fail parsing: its 404 would otherwise read as "no such object".
  const checked = await failureOf(store.exists('lms/refs/master.json'));
  expect((checked as StoreConfigError)?.code).toBe('s3-endpoint-not-s3');
  const read = await failureOf(store.get('lms/refs/master.json'));
  expect(read?.message).toMatch(/answered with something that is not S3 \(an HTML page, HTTP 404\) when asked to read dumps\/lms\/refs\/master\.json/);
  const written = await failureOf(store.putIfMatch('lms/refs/master.json', Buffer.from('{}'), undefined));
  expect(written?.message).toMatch(/not S3 \(an HTML page, HTTP 501\) when asked to write/);
  for (const error of [listed, checked, read, written]) {
    expect(error!.message).not.toMatch(/XML parse|Deserialization|\$response/);
    expect(error!.message).not.toContain(SECRET);
  }
  await store.close();
});

test('an answer in another format (a JSON API) is named too', async () => {
  const port = await httpServer((_request, response) => {
    response.writeHead(404, { 'Content-Type': 'application/json' });
    response.end('{"error":"no route"}');
  });
  const store = openStore('s3://some-bucket/dumps', { s3Endpoint: `http://127.0.0.1:${port}` });
  const failure = await failureOf(listAll(store, 'lms/'));
  expect((failure as StoreConfigError).code).toBe('s3-endpoint-not-s3');
  expect(failure!.message).toMatch(/answered with something that is not S3 \(a JSON document, HTTP 404\)/);
  await store.close();
});

test('https:// against a plain-HTTP endpoint says it does not speak TLS', async () => {
  const port = await webServer();
  const endpoint = `https://127.0.0.1:${port}`;
  const store = openStore('s3://some-bucket/dumps', { s3Endpoint: endpoint });
  const failure = await failureOf(listAll(store, 'lms/'));
  expect(failure).toBeInstanceOf(StoreConfigError);
  expect((failure as StoreConfigError).code).toBe('s3-endpoint-not-tls');
  expect(failure!.message).toBe(`the S3 endpoint ${endpoint} does not speak TLS (EPROTO: wrong version number); use http:// or check the S3 endpoint`);
  const read = await failureOf(store.get('lms/refs/master.json'));
  expect((read as StoreConfigError).code).toBe('s3-endpoint-not-tls');
  await store.close();
});

test('http:// against a TLS endpoint that says so (as MinIO and nginx do) says to use https://', async () => {
  // Go's TLS server answers a plain HTTP request with this, then closes.
  const server = await fakeServer((socket) =>
    socket.once('data', () => socket.end('HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n')),
  );
  closers.push(server.close);
  const endpoint = `http://127.0.0.1:${server.port}`;
  const store = openStore('s3://some-bucket/dumps', { s3Endpoint: endpoint });
  const failure = await failureOf(listAll(store, 'lms/'));
  expect((failure as StoreConfigError).code).toBe('s3-endpoint-needs-tls');
  expect(failure!.message).toBe(`the S3 endpoint ${endpoint} expects TLS (it answered: "Client sent an HTTP request to an HTTPS server."); use https:// or check the S3 endpoint`);
  await store.close();
});

test('an endpoint taken from AWS_ENDPOINT_URL_S3 is named with its variable', async () => {
  const endpoint = `https://127.0.0.1:${await webServer()}`;
  const store = openStore('s3://some-bucket/dumps', { env: { ...process.env, AWS_ENDPOINT_URL_S3: endpoint } });
  const failure = await failureOf(listAll(store, 'lms/'));
  expect(failure!.message).toBe(`the S3 endpoint ${endpoint} (from AWS_ENDPOINT_URL_S3) does not speak TLS (EPROTO: wrong version number); use http:// or check the S3 endpoint`);
  await store.close();
});
