/**
 * The MQTT side of the app over all receivers: ONE connection (one client id, one last will on
 * `<prefix>/bridge/availability`) shared by a ReceiverBridge per receiver, with stable topic slugs.
 * One connection is what a broker and Home Assistant expect of one program (Zigbee2MQTT does the
 * same): a crash turns one topic `offline`, and every receiver's entities, which list that topic
 * in their availability, follow. Starting never waits for the broker.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { MqttConfig, ProxyConfig } from '../config/types';
import { Logger } from '../logger';
import { MqttLink, TlsOptions } from './connection';
import { proxyBaseForHomeAssistant } from './proxy-url';
import { BridgedRuntime, ReceiverBridge } from './receiver-bridge';
import { bridgeTopics, BridgeTopics, discoveryStatusTopic, receiverSlugs, receiverTopics, ReceiverTopics } from './topics';

export interface MqttBridgeOptions {
  config: MqttConfig;
  receivers: BridgedRuntime[];
  /** Whether this app runs the stream proxy (stream topics and sensors exist only then). */
  proxyEnabled: boolean;
  /**
   * The proxy's settings and its listener's URL once it listens: the channel logo entity points
   * Home Assistant at the proxy's `/picon/<ref>.png`. Without them there is no logo entity.
   */
  proxy?: Pick<ProxyConfig, 'publicUrl' | 'listen' | 'token'>;
  proxyUrl?: () => string | undefined;
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
export function clientIdFor(config: Pick<MqttConfig, 'clientId' | 'prefix'>): string {
  if (config.clientId) return config.clientId;
  const hash = createHash('sha256').update(`${hostname()}\u0000${config.prefix}`).digest('hex').slice(0, 8);
  return `xg2g_${hash}`;
}

export class MqttBridge {
  /** Per receiver: its name, topic slug and topics (for status output and tests). */
  readonly receivers: Array<{ name: string; slug: string; topics: ReceiverTopics }> = [];
  readonly topics: BridgeTopics;
  readonly clientId: string;
  private readonly link: MqttLink;
  private readonly bridges: ReceiverBridge[] = [];
  private readonly detach: Array<() => void> = [];
  private started = false;

  constructor(private readonly options: MqttBridgeOptions) {
    const { config, receivers, log } = options;
    this.topics = bridgeTopics(config.prefix);
    this.clientId = clientIdFor(config);
    this.link = new MqttLink({
      url: options.url ?? config.url, username: config.username, password: config.password, clientId: this.clientId,
      availabilityTopic: this.topics.availability, tls: options.tls, log,
      reconnectMinMs: options.reconnectMinMs, reconnectMaxMs: options.reconnectMaxMs,
    });
    // The logo entity exists only with a proxy that serves logos without the access token.
    const { proxy, proxyUrl: listenerUrl } = options;
    const piconBase = options.proxyEnabled && proxy && !proxy.token && listenerUrl
      ? (): string | undefined => proxyBaseForHomeAssistant(proxy, listenerUrl())
      : undefined;
    const slugs = receiverSlugs(receivers.map((r) => r.receiver.name));
    receivers.forEach(({ receiver, sessions }, i) => {
      const slug = slugs[i];
      const topics = receiverTopics(config.prefix, slug);
      this.receivers.push({ name: receiver.name, slug, topics });
      this.bridges.push(new ReceiverBridge({
        receiver, sessions, link: this.link, slug, topics, bridgeAvailability: this.topics.availability, mqtt: config,
        proxyEnabled: options.proxyEnabled, piconBase, version: options.version, log,
        streamIntervalMs: options.streamIntervalMs,
      }));
    });
  }

  /** Connects in the background and starts every receiver's bridge; returns at once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const { config } = this.options;
    const status = discoveryStatusTopic(config.discoveryPrefix);
    const onConnect = (): void => {
      if (config.discovery) this.link.subscribe([status]);
    };
    const onMessage = (topic: string, payload: Buffer): void => {
      // Home Assistant restarted: it wants discovery and state again, of every receiver.
      if (config.discovery && topic === status && payload.toString('utf8').trim() === 'online') this.link.republish();
    };
    this.link.on('connect', onConnect);
    this.link.on('message', onMessage);
    this.detach.push(() => this.link.off('connect', onConnect), () => this.link.off('message', onMessage));
    // The receivers subscribe on 'connect' too, before the link connects: their subscriptions hold `online` back.
    for (const b of this.bridges) b.start();
    this.link.start();
  }

  /** Marks every receiver and then the bridge `offline` (where connected) and disconnects; never rejects. */
  async stop(): Promise<void> {
    await Promise.all(this.bridges.map((b) => b.stop().catch(() => undefined)));
    for (const off of this.detach.splice(0)) off();
    await this.link.stop();
  }
}
