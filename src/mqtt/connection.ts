/**
 * The plugin's one connection to the MQTT broker (mqtt.js), built so a broker that is down or slow
 * never holds up the rest of the app: connecting never blocks, nothing is queued while offline (the
 * latest retained value per topic is kept instead and sent again on every reconnect), reconnects
 * back off, and errors are logged once per distinct cause. The last will marks the bridge's
 * availability topic `offline`; other availability topics (one per receiver) follow it through
 * `announce()`. Retained state and discovery go out at QoS 1, so a packet lost with a connection is
 * delivered on reconnecting (mqtt.js resends its unacknowledged ones first, then the link sends the
 * latest value of every topic).
 *
 * `online` promises that commands are heard, so it waits until the broker acknowledged (SUBACK) the
 * subscriptions made while 'connect' was handled, on every connection: a broker may put a
 * subscription in place after later publishes from the same client (aedes does), and a command sent
 * the moment `online` arrived would otherwise find no subscriber.
 *
 * Events: 'connect' () after every (re)connect, before retained values are flushed — subscribe
 * there; 'message' (topic, payload: Buffer, retained: boolean).
 */
import { EventEmitter } from 'node:events';
import mqtt, { ClientSubscribeCallback, IClientOptions, MqttClient } from 'mqtt';
import { redactUrl } from '../config';
import { Logger } from '../logger';
import { Backoff, LogOnce } from '../retry';
import {
  MQTT_CONNECT_TIMEOUT_MS, MQTT_KEEPALIVE_S, MQTT_MAX_BUFFERED_BYTES, MQTT_RECONNECT_MAX_MS, MQTT_RECONNECT_MIN_MS,
} from '../settings';

export interface TlsOptions {
  /** PEM CA certificate(s) for a broker with a private CA. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** false accepts any certificate (self-signed brokers); default true. */
  rejectUnauthorized?: boolean;
}

export interface LinkOptions {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  /** Retained availability topic: `online` while connected, `offline` as last will and on stop. */
  availabilityTopic: string;
  tls?: TlsOptions;
  log: Logger;
  /** Reconnect back-off bounds, in ms (tests shorten them). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export const ONLINE = 'online';
export const OFFLINE = 'offline';

export class MqttLink extends EventEmitter {
  private client: MqttClient | undefined;
  /** Latest retained payload per topic, in first-set order; '' = a clear not yet sent. */
  private readonly retained = new Map<string, string>();
  /** Retained topics whose latest value the broker has not been sent yet. */
  private readonly dirty = new Set<string>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private stopping = false;
  private everConnected = false;
  /** Problems are logged once until they change or a connection succeeds. */
  private readonly problems: LogOnce;
  private waitingForDrain = false;
  /** Counts connections, so that an answer meant for an earlier one is ignored. */
  private connection = 0;
  /** True while 'connect' is handled: subscriptions made then hold `online` back. */
  private settingUp = false;
  /** Subscriptions of this connection that hold `online` back and have no SUBACK yet. */
  private unacknowledged = 0;
  /** This connection's subscriptions are acknowledged: `online` may go out. */
  private listening = false;
  /** Availability topics: `online` on them waits until the subscriptions are acknowledged. */
  private readonly availability = new Set<string>();

  constructor(private readonly options: LinkOptions) {
    super();
    this.backoff = new Backoff({ firstMs: options.reconnectMinMs ?? MQTT_RECONNECT_MIN_MS, maxMs: options.reconnectMaxMs ?? MQTT_RECONNECT_MAX_MS });
    this.problems = new LogOnce((line) => options.log.warn(`MQTT: ${line}.`));
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Starts connecting in the background; returns at once. */
  start(): void {
    if (this.client || this.stopping) return;
    const { url, username, password, clientId, availabilityTopic, tls } = this.options;
    const options: IClientOptions = {
      clientId,
      username: username || undefined,
      password: password || undefined,
      clean: true,
      keepalive: MQTT_KEEPALIVE_S,
      connectTimeout: MQTT_CONNECT_TIMEOUT_MS,
      // Reconnects are scheduled here, with back-off; mqtt.js only knows a fixed period.
      reconnectPeriod: 0,
      // Nothing is queued while offline: the retained map holds what matters.
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: availabilityTopic, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
      ...tls,
    };
    this.announce(availabilityTopic, true);
    let client: MqttClient;
    try {
      client = mqtt.connect(url, options);
    } catch (error) {
      this.problems.say(`cannot use the MQTT broker URL ${redactUrl(url)}: ${(error as Error).message}; check mqtt.url`);
      return;
    }
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', (error) => this.onError(error));
    client.on('message', (topic, payload, packet) => {
      try {
        this.emit('message', topic, payload, packet.retain === true);
      } catch (error) {
        this.options.log.warn(`MQTT: handling a message on ${topic} failed: ${(error as Error).message}`);
      }
    });
  }

  /** Sets a retained topic; sent only when the payload changed ('' clears the topic on the broker). */
  retain(topic: string, payload: string): void {
    const current = this.retained.get(topic);
    // Unchanged, or clearing what was never set (or is already cleared): nothing to send.
    if (current === payload || (payload === '' && current === undefined)) return;
    this.retained.set(topic, payload);
    this.dirty.add(topic);
    this.pump();
  }

  /** Removes a retained topic from the broker (an empty retained payload), now or on reconnect. */
  clear(topic: string): void {
    this.retain(topic, '');
  }

  /** Clears a retained topic this link never set (left on the broker by an earlier run). */
  clearForeign(topic: string): void {
    if (this.retained.has(topic)) return;
    this.retained.set(topic, '');
    this.dirty.add(topic);
    this.pump();
  }

  /** The retained payload last set for a topic ('' or undefined when none). */
  current(topic: string): string | undefined {
    return this.retained.get(topic);
  }

  /**
   * An availability topic besides the connection's own: `online` goes out only while the broker has
   * acknowledged this connection's subscriptions (commands are heard), `offline` at once; every
   * one of them says `offline` when the link stops.
   */
  announce(topic: string, online: boolean): void {
    this.availability.add(topic);
    this.retain(topic, online ? ONLINE : OFFLINE);
  }

  /**
   * A non-retained message; dropped when offline (errors and events are only news while live).
   * QoS 1 for events an automation waits for (a message's answer).
   */
  send(topic: string, payload: string, qos: 0 | 1 = 0): void {
    if (!this.writable()) return;
    this.client!.publish(topic, payload, { qos, retain: false }, () => undefined);
  }

  /** Sends the retained topics matching `filter` (all when omitted) again, changed or not. */
  republish(filter: (topic: string) => boolean = () => true): void {
    for (const [topic, payload] of this.retained) if (payload !== '' && filter(topic)) this.dirty.add(topic);
    this.pump();
  }

  subscribe(topics: string[]): void {
    if (!this.connected || topics.length === 0) return;
    const connection = this.connection;
    const holdsOnline = this.settingUp;
    if (holdsOnline) this.unacknowledged++;
    this.client!.subscribe(topics, { qos: 0 }, (error, _granted, packet) => {
      // mqtt.js fails pending requests when the connection closes; the next connection subscribes anew.
      if (connection !== this.connection || !this.connected || this.stopping) return;
      if (error) this.refused(topics, error, packet);
      if (holdsOnline) {
        this.unacknowledged--;
        this.announceWhenListening();
      }
    });
  }

  unsubscribe(topics: string[]): void {
    if (!this.connected || topics.length === 0) return;
    this.client!.unsubscribe(topics, () => undefined);
  }

  /** Marks every availability topic `offline` (when connected) and disconnects; never rejects. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const client = this.client;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => client.end(true, () => resolve()), MQTT_CONNECT_TIMEOUT_MS);
      const end = (): void => {
        client.end(false, () => {
          clearTimeout(timer);
          resolve();
        });
      };
      if (client.connected) {
        // The connection's own topic last: the broker keeps the order of one client's publishes.
        const own = this.options.availabilityTopic;
        for (const topic of this.availability) if (topic !== own) client.publish(topic, OFFLINE, { qos: 1, retain: true }, () => undefined);
        client.publish(own, OFFLINE, { qos: 1, retain: true }, () => end());
      } else {
        clearTimeout(timer);
        client.end(true, () => resolve());
      }
    });
    client.removeAllListeners('message');
  }

  private writable(): boolean {
    const client = this.client;
    if (!client?.connected || this.stopping) return false;
    const buffered = (client.stream as { writableLength?: number } | undefined)?.writableLength ?? 0;
    return buffered <= MQTT_MAX_BUFFERED_BYTES;
  }

  /** Sends dirty retained topics while the socket takes them; waits for 'drain' when it is full. */
  private pump(): void {
    if (!this.client?.connected || this.stopping) return;
    for (const topic of [...this.dirty]) {
      if (!this.writable()) {
        this.waitForDrain();
        return;
      }
      const payload = this.retained.get(topic) ?? '';
      // Stays dirty until the subscriptions are acknowledged (see the top of this file).
      if (payload === ONLINE && this.availability.has(topic) && !this.listening) continue;
      this.dirty.delete(topic);
      // A clear is sent once; forgetting it keeps the map to the topics that exist.
      if (payload === '') this.retained.delete(topic);
      // Availability at QoS 0: mqtt.js would resend an unacknowledged QoS 1 `online` on reconnecting,
      // before the new connection's subscriptions are acknowledged; a reconnect resends it anyway.
      const qos = this.availability.has(topic) ? 0 : 1;
      this.client.publish(topic, payload, { qos, retain: true }, () => undefined);
    }
  }

  private waitForDrain(): void {
    const stream = this.client?.stream;
    if (!stream || this.waitingForDrain) return;
    this.waitingForDrain = true;
    stream.once('drain', () => {
      this.waitingForDrain = false;
      this.pump();
    });
  }

  private onConnect(): void {
    const { url, log } = this.options;
    this.backoff.reset();
    this.waitingForDrain = false;
    log.info(`MQTT: ${this.everConnected ? 'reconnected' : 'connected'} to ${redactUrl(url)}.`);
    this.everConnected = true;
    this.problems.clear();
    this.connection++;
    this.listening = false;
    this.unacknowledged = 0;
    this.settingUp = true;
    try {
      this.emit('connect');
    } catch (error) {
      log.warn(`MQTT: setting up after connecting failed: ${(error as Error).message}`);
    } finally {
      this.settingUp = false;
    }
    // Everything the broker may have missed while we were away; `online` once subscribed.
    for (const topic of this.retained.keys()) this.dirty.add(topic);
    this.pump();
    this.announceWhenListening();
  }

  /** Lets `online` out once every subscription made on connecting is acknowledged. */
  private announceWhenListening(): void {
    if (this.settingUp || this.unacknowledged > 0 || this.listening) return;
    this.listening = true;
    this.pump();
  }

  /**
   * A refusal still lets `online` out: it lasts until someone changes the broker's access rules, the
   * state published meanwhile is right, and a receiver shown unavailable would hide that state
   * without saying why. This line says why.
   */
  private refused(topics: string[], error: Error, packet: Parameters<ClientSubscribeCallback>[2]): void {
    const codes = packet?.granted ?? [];
    const refused = topics.filter((_, i) => Number(codes[i]) >= 0x80);
    this.problems.say(`the broker refused the subscription to ${(refused.length > 0 ? refused : topics).join(', ')} (${error.message}), `
      + 'so messages published there, commands among them, go unheard; allow this client to subscribe to them in the broker\'s access rules');
  }

  private onClose(): void {
    if (this.stopping || this.reconnectTimer) return;
    // Never undefined: the reconnect back-off has no try limit.
    const delay = this.backoff.next() ?? MQTT_RECONNECT_MAX_MS;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopping) this.client?.reconnect();
    }, delay);
  }

  private onError(error: Error & { code?: string | number }): void {
    if (this.stopping) return;
    const { url } = this.options;
    const where = redactUrl(url);
    const max = (this.options.reconnectMaxMs ?? MQTT_RECONNECT_MAX_MS) / 1000;
    let message: string;
    if (error.code === 'ECONNREFUSED') message = `nothing answers at ${where} (connection refused); retrying every few seconds up to every ${max} s. Check mqtt.url and that the broker runs`;
    else if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') message = `the broker host in ${where} cannot be resolved; check mqtt.url`;
    else if (error.code === 4 || error.code === 134) message = `the broker at ${where} rejected the username or password; check mqtt.username and mqtt.password`;
    else if (error.code === 5 || error.code === 135) message = `the broker at ${where} does not allow this client to connect; check its access rules and mqtt.username`;
    else if (error.code === 2 || error.code === 133) message = `the broker at ${where} rejected the client id; set mqtt.clientId`;
    else message = `the connection to ${where} failed: ${error.message}; retrying`;
    this.problems.say(message);
  }
}
