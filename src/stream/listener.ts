/**
 * An HTTP listener for the proxy's routes on a configured address (`:18000`, `127.0.0.1:0`, …).
 * Closing it also ends open stream connections, which would otherwise keep it alive forever.
 */
import http, { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { parseListen } from '../config/listen';
import { LISTENER_CHECK_INTERVAL_MS, LISTENER_HEADERS_TIMEOUT_MS, LISTENER_MAX_CONNECTIONS } from '../settings';
import { RequestHandler } from './routes';

export interface Listener {
  readonly server: Server;
  /** e.g. http://127.0.0.1:18000 (the wildcard address shown as 127.0.0.1). */
  readonly url: string;
  /** Where it really listens, for the log: one address, or every interface with a LAN URL. */
  readonly where: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function listen(address: string, handler: RequestHandler): Promise<Listener> {
  const { host, port } = parseListen(address);
  const server = http.createServer({
    // Live streams never finish: no request timeout. A request head must arrive in time, and that
    // is checked often: Node's default 30 s check lets slow-header clients hold sockets for 40 s.
    requestTimeout: 0,
    headersTimeout: LISTENER_HEADERS_TIMEOUT_MS,
    connectionsCheckingInterval: LISTENER_CHECK_INTERVAL_MS,
  }, handler);
  // Past this, new connections are refused at once instead of exhausting file descriptors.
  server.maxConnections = LISTENER_MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const everywhere = !host || host === '0.0.0.0' || host === '::';
  const shownHost = everywhere ? '127.0.0.1' : host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${bound.port}`;
  const lan = everywhere ? lanAddress() : undefined;
  const where = everywhere
    ? `port ${bound.port} of every interface (${url} on this machine${lan ? `, http://${lan}:${bound.port} from the network` : ''})`
    : url;
  return {
    server,
    url,
    where,
    port: bound.port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** This machine's first non-loopback IPv4 address, as other devices on the network reach it. */
export function lanAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return undefined;
}
