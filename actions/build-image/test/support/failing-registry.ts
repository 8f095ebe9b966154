import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The real registry at `upstream` (host:port) behind a proxy on 127.0.0.1 that answers 503 to the requests
 * `fails` picks (decided per request, so a test can fail the first N or until some event) and forwards
 * everything else unchanged.
 */
export async function failingRegistry(upstream: string, fails: (req: IncomingMessage) => boolean): Promise<{ host: string; close: () => void }> {
  const [upstreamHost, upstreamPort] = upstream.split(':');
  const proxy = createServer((req, res) => {
    if (fails(req)) {
      req.resume();
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end('{"errors":[{"code":"UNAVAILABLE","message":"injected by the test"}]}');
      return;
    }
    const upstreamRequest = request({ host: upstreamHost, port: Number(upstreamPort), method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstreamRequest.on('error', () => res.destroy());
    req.pipe(upstreamRequest);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${(proxy.address() as AddressInfo).port}`, close: () => proxy.close() };
}
