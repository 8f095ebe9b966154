import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { S3Timeouts } from '../src/internal/aws-sdk.js';
import { S3Store } from '../src/internal/s3-store.js';

/**
 * For tests of the S3 store against loopback stand-ins: sets the AWS variables the store's credential
 * chain reads (undefined removes one) for the file's tests, and gives HTTP servers closed after each test.
 * `closers` also takes other cleanups (fake servers) to run after each test.
 */
export function useLoopbackS3(env: Record<string, string | undefined>) {
  const closers: Array<() => Promise<unknown>> = [];
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const [name, value] of Object.entries(env)) {
      saved[name] = process.env[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  /** An HTTP server on 127.0.0.1 (any port) answering with `handler`; its port. */
  async function httpServer(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<number> {
    const server: Server = createServer(handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });
    return (server.address() as { port: number }).port;
  }
  return { closers, httpServer };
}

/** An S3 store of bucket `bucket` (prefix `svc`) at a loopback stand-in on `port`, with the given timeouts and credentials. */
export function loopbackS3Store(port: number, options: { bucket: string; timeouts: Partial<S3Timeouts>; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts?: number }) {
  const endpoint = `http://127.0.0.1:${port}`;
  return new S3Store({
    bucket: options.bucket,
    prefix: 'svc',
    endpoint,
    timeouts: options.timeouts,
    clientConfig: {
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      credentials: options.credentials,
    },
  });
}
