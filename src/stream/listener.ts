/**
 * An HTTP listener for the proxy's routes on a configured address (`:18000`, `127.0.0.1:0`, …).
 * Closing it also ends open stream connections, which would otherwise keep it alive forever.
 */
import http, { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { parseListen } from '../config/listen';
import { RequestHandler } from './routes';

export interface Listener {
  readonly server: Server;
  /** e.g. http://127.0.0.1:18000 (the wildcard address shown as 127.0.0.1). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function listen(address: string, handler: RequestHandler): Promise<Listener> {
  const { host, port } = parseListen(address);
  const server = http.createServer(handler);
  // Live streams never finish: no request timeout. Idle keep-alive sockets still time out.
  server.requestTimeout = 0;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shownHost = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${bound.port}`;
  return {
    server,
    url,
    port: bound.port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
