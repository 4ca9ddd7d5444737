// Test helpers for MQTT: a real Mosquitto or the embedded aedes broker on a free loopback port (and
// how many clients it has), a watching client that records every message, the simulator plus an
// App with MQTT on, and Home Assistant's availability rule applied to a discovery config.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import type { Aedes, AedesOptions } from 'aedes';
import mqtt, { MqttClient } from 'mqtt';
import { App } from '../../src/app';
import { loadConfig } from '../../src/config';
import { Config } from '../../src/config/types';
import { silentLogger } from '../../src/logger';
import { EmbeddedBroker } from '../../src/mqtt/broker';
import { Simulator, startSimulator } from '../../src/simulator';
import { recordingLogger, until } from '../helpers/stack';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A broker the tests can stop and start again on the same port. */
export interface TestBroker {
  readonly kind: 'mosquitto' | 'aedes';
  readonly port: number;
  readonly url: string;
  /** Stops it abruptly (Mosquitto: SIGKILL). */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Clients connected now, as the broker counts them (Mosquitto: `$SYS`, up to a second old). */
  clients(): Promise<number>;
}

export async function startMosquitto(): Promise<TestBroker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'xg2g-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  // sys_interval 1: `$SYS/broker/clients/connected` every second, for clients().
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nsys_interval 1\n`);
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
    child = proc;
    await until(async () => proc.exitCode !== null || (await canConnect(port)), 10_000, 'mosquitto to listen');
    if (proc.exitCode !== null) throw new Error(`mosquitto exited with ${proc.exitCode}`);
  };
  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    kind: 'mosquitto', port, url: `mqtt://127.0.0.1:${port}`,
    kill,
    restart: launch,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    async clients() {
      // The asking client counts too: the broker's number less one. The retained value may predate
      // the asking client; its own arrival changes the count, which Mosquitto publishes within
      // sys_interval. So a live value is awaited, and the retained one stands only when none comes
      // (then the count did not change: another asking client had just left).
      const topic = '$SYS/broker/clients/connected';
      const w = await Watcher.connect(`mqtt://127.0.0.1:${port}`, [topic]);
      try {
        await w.waitFor(topic, () => true, 3_000);
        const live = (): boolean => w.messages.some((m) => m.topic === topic && !m.retain);
        const deadline = Date.now() + 1_500;
        while (!live() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const latest = w.messages.filter((m) => m.topic === topic).at(-1)!;
        return Number(latest.text) - 1;
      } finally {
        await w.close();
      }
    },
  };
}

export async function startAedes(port = 0): Promise<TestBroker> {
  let broker: EmbeddedBroker | undefined = await EmbeddedBroker.start({ port, host: '127.0.0.1', log: silentLogger });
  const boundPort = broker.port;
  const kill = async (): Promise<void> => {
    await broker?.close();
    broker = undefined;
  };
  return {
    kind: 'aedes', port: boundPort, url: `mqtt://127.0.0.1:${boundPort}`,
    kill,
    async restart() {
      broker = await EmbeddedBroker.start({ port: boundPort, host: '127.0.0.1', log: silentLogger });
    },
    stop: kill,
    clients: async () => broker?.clients ?? 0,
  };
}

/**
 * aedes with options the product's EmbeddedBroker does not take (authorizeSubscribe, say). aedes is
 * an ES module: under Jest only the main context's loader imports it (as EmbeddedBroker does).
 */
export async function startAedesWith(options: AedesOptions): Promise<{ url: string; aedes: Aedes; stop(): Promise<void> }> {
  const load = vm.runInThisContext('(specifier) => import(specifier)', {
    filename: __filename, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  }) as (specifier: string) => Promise<{ Aedes: { createBroker(options?: AedesOptions): Promise<Aedes> } }>;
  const aedes = await (await load('aedes')).Aedes.createBroker(options);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    aedes,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

const SUBSCRIBE = 8;

/**
 * A TCP relay in front of a broker that can hold back its clients' SUBSCRIBE packets while the
 * packets after them go through: a broker that takes its time to put a subscription in place (aedes
 * does that work asynchronously, alongside the publishes that follow), made slow enough for the
 * race to show every time. The SUBACK waits with it, as MQTT only promises a subscription by then.
 */
export class SubscribeDelayRelay {
  /** 'pass' forwards SUBSCRIBE at once, a number delays it by that many ms, 'hold' keeps it until cut. */
  mode: 'pass' | 'hold' | number = 'pass';
  /** SUBSCRIBE packets seen, whatever became of them. */
  subscribes = 0;
  url = '';
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private readonly server: net.Server;

  private constructor(broker: URL) {
    this.server = net.createServer((client) => this.accept(client, Number(broker.port), broker.hostname));
  }

  static async start(brokerUrl: string): Promise<SubscribeDelayRelay> {
    const relay = new SubscribeDelayRelay(new URL(brokerUrl));
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
    relay.url = `mqtt://127.0.0.1:${(relay.server.address() as net.AddressInfo).port}`;
    return relay;
  }

  /** Drops every connection at once, as a network failure would: the broker fires the last will. */
  cut(): void {
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket, port: number, host: string): void {
    const upstream = net.connect(port, host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) {
      socket.on('error', end);
      socket.on('close', end);
    }
    upstream.pipe(client);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const size = packetSize(pending);
        if (size === undefined) return;
        const packet = pending.subarray(0, size);
        pending = pending.subarray(size);
        if (packet[0] >> 4 !== SUBSCRIBE) {
          upstream.write(packet);
          continue;
        }
        this.subscribes++;
        if (this.mode === 'pass') upstream.write(packet);
        else if (typeof this.mode === 'number') setTimeout(() => upstream.destroyed || upstream.write(packet), this.mode);
      }
    });
  }
}

/** Length of the MQTT packet at the start of `buffer` (fixed header + remaining length), or undefined while incomplete. */
function packetSize(buffer: Buffer): number | undefined {
  let remaining = 0;
  for (let i = 1; i <= 4 && i < buffer.length; i++) {
    remaining += (buffer[i] & 0x7f) * 128 ** (i - 1);
    if ((buffer[i] & 0x80) === 0) return 1 + i + remaining <= buffer.length ? 1 + i + remaining : undefined;
  }
  return undefined;
}

export interface Message {
  topic: string;
  text: string;
  retain: boolean;
}

/** A client that subscribes and records; `latest` holds the last payload per topic. */
export class Watcher {
  readonly messages: Message[] = [];
  readonly latest = new Map<string, string>();
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString('utf8');
      this.messages.push({ topic, text, retain: packet.retain });
      this.latest.set(topic, text);
    });
  }

  static async connect(url: string, topics: string[] = ['#']): Promise<Watcher> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 200, connectTimeout: 5_000 });
    const watcher = new Watcher(client);
    try {
      if (topics.length > 0) await client.subscribeAsync(topics);
    } catch (error) {
      await client.endAsync(true);
      throw error;
    }
    return watcher;
  }

  /** Waits until the latest payload on `topic` satisfies `test`; returns it. */
  async waitFor(topic: string, test: (text: string) => boolean = () => true, timeoutMs = 5_000): Promise<string> {
    try {
      await until(() => this.latest.has(topic) && test(this.latest.get(topic)!), timeoutMs, topic);
    } catch (error) {
      throw new Error(`${(error as Error).message} (last: ${JSON.stringify(this.latest.get(topic)?.slice(0, 200))})`);
    }
    return this.latest.get(topic)!;
  }

  json<T = Record<string, unknown>>(topic: string): T {
    return JSON.parse(this.latest.get(topic) ?? 'null') as T;
  }

  publish(topic: string, payload: string | Buffer, retain = false): Promise<unknown> {
    return this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Discovery configs among the latest messages a watcher saw, by topic. */
export function discoveryConfigs(w: Watcher, prefix = 'homeassistant'): Map<string, Record<string, unknown>> {
  const configs = new Map<string, Record<string, unknown>>();
  for (const [topic, text] of w.latest) {
    if (topic.startsWith(`${prefix}/`) && topic.endsWith('/config') && text !== '') configs.set(topic, JSON.parse(text) as Record<string, unknown>);
  }
  return configs;
}

/**
 * Whether Home Assistant shows an entity available, given the latest payload per topic: its
 * availability rule (availability_mode all/any/latest over the list; a topic never received counts
 * as not available). The only value_template evaluated is the form discovery.ts uses (a JSON key
 * that must be truthy).
 */
export function haAvailable(config: Record<string, unknown>, latest: Map<string, string>): boolean {
  const items = (config.availability as Array<{ topic: string; payload_available?: string; value_template?: string }> | undefined) ?? [];
  if (items.length === 0) return true;
  const up = items.map((item) => {
    const payload = latest.get(item.topic);
    if (payload === undefined || payload === '') return false;
    if (item.value_template) {
      const key = /value_json\.(\w+) else/.exec(item.value_template)?.[1];
      if (!key) throw new Error(`no evaluator for ${item.value_template}`);
      try {
        return !!(JSON.parse(payload) as Record<string, unknown>)[key];
      } catch {
        return false;
      }
    }
    return payload === (item.payload_available ?? 'online');
  });
  const mode = (config.availability_mode as string | undefined) ?? 'latest';
  // 'latest' needs message order; every config here says 'all'.
  return mode === 'any' ? up.some(Boolean) : up.every(Boolean);
}

/** Retained messages on the broker now, as a fresh subscriber sees them. */
export async function retainedSnapshot(url: string, topics: string[], settleMs = 300): Promise<Map<string, string>> {
  const w = await Watcher.connect(url, topics);
  await new Promise((r) => setTimeout(r, settleMs));
  await w.close();
  return new Map(w.messages.filter((m) => m.retain).map((m) => [m.topic, m.text]));
}

export interface MqttStack {
  sim: Simulator;
  app: App;
  config: Config;
  logs: string[];
  stop(): Promise<void>;
}

export interface MqttStackOptions {
  brokerUrl: string;
  receiver?: Record<string, unknown>;
  /** More receivers after the first (whole config blocks, see receiverBlock()). */
  moreReceivers?: Array<Record<string, unknown>>;
  proxy?: Record<string, unknown>;
  mqtt?: Record<string, unknown>;
  sim?: Simulator;
}

/** A receiver's config block for a simulator, polling every second. */
export function receiverBlock(sim: Simulator, name: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  const web = new URL(sim.webUrl);
  return {
    name, host: web.hostname, port: Number(web.port), bouquets: ['Favourites (TV)'], streamTarget: sim.streamUrl, refreshInterval: 1, ...more,
  };
}

/** The simulator and an App with MQTT on, polling every second. */
export async function startMqttStack(options: MqttStackOptions): Promise<MqttStack> {
  const sim = options.sim ?? (await startSimulator());
  const config = loadConfig({
    env: {},
    block: {
      receivers: [receiverBlock(sim, 'Living Room', options.receiver), ...(options.moreReceivers ?? [])],
      proxy: { listen: '127.0.0.1:0', ...options.proxy },
      api: { listen: '' },
      mqtt: { enabled: true, url: options.brokerUrl, ...options.mqtt },
    },
  });
  const logs: string[] = [];
  const app = new App(config, recordingLogger(logs));
  try {
    await app.start();
  } catch (error) {
    if (!options.sim) await sim.close();
    throw error;
  }
  return {
    sim, app, config, logs,
    async stop() {
      await app.stop();
      if (!options.sim) await sim.close();
    },
  };
}
