/**
 * The embedded MQTT broker (aedes) for homes without one: Home Assistant connects straight to the
 * plugin. Anonymous unless mqtt.username/password are set, in which case clients must use those
 * (the bridge does). `close()` ends every client connection and the listener.
 */
import net from 'node:net';
import vm from 'node:vm';
import type { Aedes, AedesOptions } from 'aedes';
import { Logger } from '../logger';

type AedesModule = { Aedes: { createBroker(options?: AedesOptions): Promise<Aedes> } };

/**
 * aedes 1.x is an ES module and this package is CommonJS. Node ≥ 20.19 require()s ES modules;
 * older Node needs a real import() (which TypeScript would compile to require), and test runners
 * that sandbox modules need the main context's loader.
 */
async function loadAedes(): Promise<AedesModule> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('aedes') as AedesModule;
  } catch {
    // Falls through to import().
  }
  try {
    const nativeImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<AedesModule>;
    return await nativeImport('aedes');
  } catch (error) {
    const loader = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
    if (loader === undefined) throw error;
    const viaMain = vm.runInThisContext('(specifier) => import(specifier)', { filename: __filename, importModuleDynamically: loader }) as (s: string) => Promise<AedesModule>;
    return viaMain('aedes');
  }
}

export interface BrokerOptions {
  port: number;
  /** Address to bind; all interfaces when omitted (Home Assistant usually runs on another host). */
  host?: string;
  /** When set, every client must log in with them; without them only clients on this machine may connect. */
  username?: string;
  password?: string;
  log: Logger;
  /** Which peer addresses count as this machine (tests stand in for a LAN client with it). */
  isLocal?: (address: string) => boolean;
}

/** Loopback peers: 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

export class EmbeddedBroker {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly aedes: Aedes,
    private readonly server: net.Server,
    /** Open client sockets, destroyed on close so it cannot hang on a silent client. */
    private readonly sockets: Set<net.Socket>,
    readonly port: number,
    readonly host: string,
  ) {}

  /** Starts listening; rejects (with a sentence naming the port) when the port is taken. */
  static async start(options: BrokerOptions): Promise<EmbeddedBroker> {
    const { Aedes: AedesClass } = await loadAedes();
    const { username, password, log } = options;
    const isLocal = options.isLocal ?? isLoopback;
    const refusedPeers = new Set<string>();
    const aedes = await AedesClass.createBroker({
      authenticate: (client, user, pass, done) => {
        if (username || password) {
          const ok = user === username && (pass?.toString('utf8') ?? '') === password;
          done(ok ? null : Object.assign(new Error('bad username or password'), { returnCode: 4 }), ok);
          return;
        }
        // Without a login, anyone on the LAN could reboot the receiver: only this machine may connect.
        const peer = (client as unknown as { conn?: { remoteAddress?: string } }).conn?.remoteAddress ?? '';
        if (isLocal(peer)) {
          done(null, true);
          return;
        }
        if (!refusedPeers.has(peer) && refusedPeers.size < 100) {
          refusedPeers.add(peer);
          log.warn(`MQTT: the embedded broker refused a client at ${peer}: without mqtt.username and mqtt.password it only accepts clients on this machine; set both to let Home Assistant and other devices in with that login.`);
        }
        done(Object.assign(new Error('not authorized'), { returnCode: 5 }), false);
      },
    });
    // A client that misbehaves is its own problem; the broker must not log it as ours or crash.
    aedes.on('clientError', () => undefined);
    aedes.on('connectionError', () => undefined);
    const server = net.createServer((socket) => {
      // aedes.handle throws on a socket that is already gone; drop it quietly.
      try {
        aedes.handle(socket);
      } catch {
        socket.destroy();
      }
    });
    const sockets = new Set<net.Socket>();
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'it is in use (another broker?)' : code === 'EACCES' ? 'it needs privileges' : (error as Error).message;
      throw new Error(`the embedded MQTT broker cannot listen on port ${options.port}: ${why}; set mqtt.embeddedBroker.port (XG2G_MQTT_BROKER_PORT) to a free port`);
    }
    server.on('error', (error) => options.log.warn(`MQTT: the embedded broker's listener failed: ${error.message}`));
    const address = server.address() as net.AddressInfo;
    const broker = new EmbeddedBroker(aedes, server, sockets, address.port, options.host ?? '0.0.0.0');
    options.log.info(`MQTT: embedded broker listening on port ${broker.port} ${username || password ? '(login required)' : '(no login set: clients on this machine only)'}.`);
    return broker;
  }

  /** mqtt:// URL of this broker from this host. */
  get url(): string {
    const host = this.host === '0.0.0.0' || this.host === '::' ? '127.0.0.1' : this.host;
    return `mqtt://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  /** Clients currently connected. */
  get clients(): number {
    return this.aedes.connectedClients;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
      for (const socket of this.sockets) socket.destroy();
      await serverClosed;
    })();
    return this.closing;
  }
}
