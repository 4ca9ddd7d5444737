/**
 * MQTT for one receiver: follows it (monitor state, channel list and device info, stream
 * sessions) and keeps the retained topics and Home Assistant discovery up to date through its own
 * connection (one per receiver, because each needs its own last will); routes commands to the
 * control object. Everything is sent on change only; on (re)connect the link resends the lot.
 */
import { EventEmitter } from 'node:events';
import { MqttConfig } from '../config/types';
import { Logger } from '../logger';
import type { Receiver } from '../receiver/receiver';
import type { SessionManager } from '../stream/sessions';
import { ReceiverState } from '../receiver/monitor';
import { MQTT_STREAM_PUBLISH_INTERVAL_MS } from '../settings';
import { ChannelOptions } from './channel-options';
import { runCommand } from './commands';
import { MqttLink } from './connection';
import { buildDiscovery, nodeIdOf } from './discovery';
import { fieldPayloads, statePayload, streamPayload, streamsPayload } from './state';
import {
  discoveryStatusTopic, discoveryWildcard, isDiscoveryTopicOf, ReceiverTopics, STATE_FIELDS,
} from './topics';

/** The parts of a receiver this uses (tests may hand in one built any way). */
export type BridgedReceiver = Pick<Receiver, 'name' | 'config' | 'device' | 'channels' | 'monitor' | 'control' | 'summary' | 'load' | 'on' | 'off'>;

/** A receiver with the sessions of its channels (the proxy's streams of it). */
export interface BridgedRuntime {
  receiver: BridgedReceiver;
  sessions: Pick<SessionManager, 'on' | 'off' | 'list'>;
}

export interface ReceiverBridgeOptions extends BridgedRuntime {
  link: MqttLink;
  topics: ReceiverTopics;
  mqtt: Pick<MqttConfig, 'discovery' | 'discoveryPrefix'>;
  proxyEnabled: boolean;
  version: string;
  log: Logger;
  /** Stream topics refresh interval while sessions run (ms; tests shorten it). */
  streamIntervalMs?: number;
}

export class ReceiverBridge {
  private channelOptions: ChannelOptions | undefined;
  /** Discovery config topics currently wanted; undefined until device info arrived. */
  private discoveryTopics: Set<string> | undefined;
  private nodeId: string | undefined;
  private streamTopics = new Set<string>();
  private streamTimer: NodeJS.Timeout | undefined;
  private readonly detach: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly options: ReceiverBridgeOptions) {}

  private get link(): MqttLink {
    return this.options.link;
  }

  private get t(): ReceiverTopics {
    return this.options.topics;
  }

  start(): void {
    const { receiver, sessions, link } = this.options;
    // Handlers never throw into the emitters (the monitor, the sessions): a failure is logged instead.
    const listen = (emitter: Pick<EventEmitter, 'on' | 'off'>, event: string, handler: (...args: unknown[]) => void): void => {
      const safe = (...args: unknown[]): void => {
        try {
          handler(...args);
        } catch (error) {
          this.options.log.warn(`MQTT: ${receiver.name}: updating the topics after "${event}" failed: ${(error as Error).message}`);
        }
      };
      emitter.on(event, safe);
      this.detach.push(() => emitter.off(event, safe));
    };
    listen(link, 'connect', () => this.onConnect());
    listen(link, 'message', (topic, payload, retained) => this.onMessage(topic as string, payload as Buffer, retained === true));
    listen(receiver.monitor, 'state', (state) => this.publishState(state as ReceiverState));
    listen(receiver, 'loaded', () => this.onLoaded());
    for (const event of ['session-started', 'session-stopped', 'session-failed', 'client-joined', 'client-left']) {
      listen(sessions, event, () => this.publishStreams());
    }
    if (receiver.device) this.onLoaded();
    this.publishState(receiver.monitor.state);
    if (this.options.proxyEnabled) this.publishStreams();
    link.start();
  }

  /** Clears this receiver's stream topics (their sessions end with the app) and disconnects. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.streamTimer) clearInterval(this.streamTimer);
    this.streamTimer = undefined;
    for (const off of this.detach.splice(0)) off();
    if (this.options.proxyEnabled) {
      for (const topic of this.streamTopics) this.link.clear(topic);
      this.streamTopics.clear();
      this.link.retain(this.t.streams, JSON.stringify(streamsPayload([])));
    }
    await this.link.stop();
  }

  /** Subscribes while the link handles 'connect': its `online` waits for these to be acknowledged. */
  private onConnect(): void {
    const { mqtt } = this.options;
    // Stream topics are watched even with the proxy off, to clear what an earlier run left.
    const topics = [this.t.commandsWildcard, this.t.streamsWildcard, this.t.streams];
    if (mqtt.discovery) {
      topics.push(discoveryStatusTopic(mqtt.discoveryPrefix));
      if (this.nodeId) topics.push(discoveryWildcard(mqtt.discoveryPrefix, this.nodeId));
    }
    this.link.subscribe(topics);
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    const { mqtt, receiver, log } = this.options;
    const command = this.t.commandOf(topic);
    if (command) {
      if (retained) {
        // A retained command would run again on every reconnect (a reboot loop, say).
        this.reject(`${command}/set ignored: it was a retained message; publish commands without the retain flag`);
        return;
      }
      void runCommand({
        control: receiver.control,
        monitor: receiver.monitor,
        channels: () => this.channelOptions,
        reload: () => this.reload(),
      }, command, payload).then((problem) => {
        if (problem) this.reject(problem);
      }, (error: Error) => log.warn(`MQTT: ${receiver.name}: a command failed unexpectedly: ${error.message}`));
      return;
    }
    if (mqtt.discovery && topic === discoveryStatusTopic(mqtt.discoveryPrefix)) {
      // Home Assistant restarted: it wants discovery and state again.
      if (payload.toString('utf8').trim() === 'online') this.link.republish();
      return;
    }
    if (!retained || payload.length === 0) return;
    // Retained leftovers of an earlier run: sessions that are gone, entities that no longer exist.
    if ((this.t.streamOf(topic) !== undefined && !this.streamTopics.has(topic)) || (topic === this.t.streams && !this.options.proxyEnabled)) {
      this.link.clearForeign(topic);
    } else if (this.nodeId && this.discoveryTopics && !this.discoveryTopics.has(topic)
      && isDiscoveryTopicOf(topic, mqtt.discoveryPrefix, this.nodeId)) {
      this.link.clearForeign(topic);
    }
  }

  private reject(problem: string): void {
    this.options.log.warn(`MQTT: ${this.options.receiver.name}: ${problem}.`);
    this.link.send(this.t.error, problem);
  }

  /** refresh/set: reload channels and device info, unless a retry is already pending. */
  private reload(): void {
    const { receiver } = this.options;
    if (receiver.summary().reachable) void receiver.load();
  }

  private onLoaded(): void {
    const { receiver } = this.options;
    this.channelOptions = new ChannelOptions(receiver.channels());
    // Channel names (select options) may have changed what the state says, and a stream that
    // started before the list loaded is named by its reference until now.
    this.publishState(receiver.monitor.state);
    this.publishStreams();
    this.publishDiscovery();
  }

  private publishDiscovery(): void {
    const { receiver, mqtt, proxyEnabled, version } = this.options;
    const device = receiver.device;
    if (!mqtt.discovery || !device || !this.channelOptions) return;
    const nodeId = nodeIdOf(device);
    if (nodeId !== this.nodeId) {
      // The box's identity changed (first load, or its MAC appeared): forget the old node's entities.
      for (const topic of this.discoveryTopics ?? []) this.link.clear(topic);
      if (this.nodeId) this.link.unsubscribe([discoveryWildcard(mqtt.discoveryPrefix, this.nodeId)]);
      this.discoveryTopics = undefined;
      this.nodeId = nodeId;
      this.link.subscribe([discoveryWildcard(mqtt.discoveryPrefix, nodeId)]);
    }
    const entries = buildDiscovery({
      receiverName: receiver.name, receiver: receiver.config, device, topics: this.t, channels: this.channelOptions,
      proxyEnabled, discoveryPrefix: mqtt.discoveryPrefix, version,
    });
    const wanted = new Set(entries.map((e) => e.topic));
    for (const topic of this.discoveryTopics ?? []) if (!wanted.has(topic)) this.link.clear(topic);
    this.discoveryTopics = wanted;
    for (const e of entries) this.link.retain(e.topic, JSON.stringify(e.config));
  }

  private publishState(state: ReceiverState): void {
    const options = this.channelOptions;
    const payload = statePayload(state, (ref, name) => options?.label(ref, name) ?? { name, listed: false });
    this.link.retain(this.t.state, JSON.stringify(payload));
    const fields = fieldPayloads(payload);
    for (const field of STATE_FIELDS) {
      const value = fields[field];
      if (value !== undefined) this.link.retain(this.t.field(field), value);
    }
  }

  /** Session and aggregate topics; a timer refreshes bitrates while sessions run. */
  private publishStreams(): void {
    if (this.stopped || !this.options.proxyEnabled) return;
    const sessions = this.options.sessions.list();
    const streams = sessions.map((s) => streamPayload(s.status()));
    const topics = new Set<string>();
    for (const s of streams) {
      const topic = this.t.stream(s.channel.id);
      topics.add(topic);
      this.link.retain(topic, JSON.stringify(s));
    }
    for (const topic of this.streamTopics) if (!topics.has(topic)) this.link.clear(topic);
    this.streamTopics = topics;
    this.link.retain(this.t.streams, JSON.stringify(streamsPayload(streams)));
    if (sessions.length > 0 && !this.streamTimer) {
      this.streamTimer = setInterval(() => this.publishStreams(), this.options.streamIntervalMs ?? MQTT_STREAM_PUBLISH_INTERVAL_MS);
      this.streamTimer.unref();
    } else if (sessions.length === 0 && this.streamTimer) {
      clearInterval(this.streamTimer);
      this.streamTimer = undefined;
    }
  }
}
