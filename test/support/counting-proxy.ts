import { createServer, connect, type Socket } from 'node:net';

/**
 * A TCP forwarder on 127.0.0.1 to a real server that counts the connections made through it: integration
 * tests use it to show that a refused operation never connected.
 */
export interface CountingProxy {
  /** The server's URL with its host:port replaced by the proxy's. */
  url: string;
  connections(): number;
  close(): Promise<void>;
}

export async function countingProxy(serverUrl: string, defaultPort: number): Promise<CountingProxy> {
  // scheme://[user:password@] host[:port] rest; the user info runs to the authority's last `@`.
  const match = /^([a-z][a-z0-9+.-]*:\/\/(?:[^/?]*@)?)([^/?@]+)(.*)$/is.exec(serverUrl);
  if (!match) throw new Error('countingProxy: unparsable server URL');
  const [, prefix, hostPort, rest] = match as unknown as [string, string, string, string];
  const colon = hostPort.lastIndexOf(':');
  const host = colon < 0 ? hostPort : hostPort.slice(0, colon);
  const port = colon < 0 ? defaultPort : Number(hostPort.slice(colon + 1));
  let connections = 0;
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    connections++;
    const upstream = connect(port, host);
    sockets.push(socket, upstream);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const local = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: `${prefix}${local}${rest}`,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
