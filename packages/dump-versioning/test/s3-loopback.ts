import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll } from 'vitest';

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
