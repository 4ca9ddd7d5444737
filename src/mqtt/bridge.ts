/**
 * The MQTT side of the app over all receivers: one ReceiverBridge (and connection, for its own last
 * will) per receiver, with stable topic slugs and client ids. Starting never waits for the broker.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { MqttConfig } from '../config/types';
import { Logger } from '../logger';
import { MqttLink, TlsOptions } from './connection';
import { BridgedRuntime, ReceiverBridge } from './receiver-bridge';
import { receiverSlugs, receiverTopics, ReceiverTopics } from './topics';

export interface MqttBridgeOptions {
  config: MqttConfig;
  receivers: BridgedRuntime[];
  /** Whether this app runs the stream proxy (stream topics and sensors exist only then). */
  proxyEnabled: boolean;
  version: string;
  log: Logger;
  /** Broker URL; config.url when omitted. */
  url?: string;
  tls?: TlsOptions;
  /** Reconnect back-off bounds and stream refresh interval, in ms (tests shorten them). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  streamIntervalMs?: number;
}

/**
 * A client id that stays the same across restarts of this installation (brokers and their logs
 * recognise it) and differs between hosts: the configured one, or derived from host name and prefix.
 */
export function clientIdFor(config: Pick<MqttConfig, 'clientId' | 'prefix'>, slug: string, receiverCount: number): string {
  if (config.clientId) return receiverCount > 1 ? `${config.clientId}_${slug}` : config.clientId;
  const hash = createHash('sha256').update(`${hostname()}\u0000${config.prefix}`).digest('hex').slice(0, 8);
  return `xg2g_${hash}_${slug}`;
}

export class MqttBridge {
  /** Per receiver: its name, topic slug and topics (for status output and tests). */
  readonly receivers: Array<{ name: string; slug: string; topics: ReceiverTopics; clientId: string }> = [];
  private readonly bridges: ReceiverBridge[] = [];
  private started = false;

  constructor(options: MqttBridgeOptions) {
    const { config, receivers, log } = options;
    const slugs = receiverSlugs(receivers.map((r) => r.receiver.name));
    receivers.forEach(({ receiver, sessions }, i) => {
      const slug = slugs[i];
      const topics = receiverTopics(config.prefix, slug);
      const clientId = clientIdFor(config, slug, receivers.length);
      const link = new MqttLink({
        url: options.url ?? config.url, username: config.username, password: config.password, clientId,
        availabilityTopic: topics.availability, tls: options.tls, label: receiver.name, log,
        reconnectMinMs: options.reconnectMinMs, reconnectMaxMs: options.reconnectMaxMs,
      });
      this.receivers.push({ name: receiver.name, slug, topics, clientId });
      this.bridges.push(new ReceiverBridge({
        receiver, sessions, link, topics, mqtt: config, proxyEnabled: options.proxyEnabled, version: options.version, log,
        streamIntervalMs: options.streamIntervalMs,
      }));
    });
  }

  /** Starts every receiver's connection in the background; returns at once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const b of this.bridges) b.start();
  }

  /** Marks every receiver `offline` (where connected) and disconnects; never rejects. */
  async stop(): Promise<void> {
    await Promise.all(this.bridges.map((b) => b.stop().catch(() => undefined)));
  }
}
