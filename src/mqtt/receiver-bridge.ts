/**
 * MQTT for one receiver: follows it (monitor state, timers, channel list and device info, stream
 * sessions) and keeps its retained topics, its availability and its Home Assistant discovery up to
 * date through the plugin's one connection; routes its commands to the control object and
 * publishes what comes of them (errors, timers, a question's answer). Everything is sent on change
 * only; on (re)connect the link resends the lot.
 */
import { EventEmitter } from 'node:events';
import { MqttConfig } from '../config/types';
import { Logger } from '../logger';
import type { Receiver } from '../receiver/receiver';
import type { SessionManager } from '../stream/sessions';
import { ReceiverState } from '../receiver/monitor';
import { Timer } from '../receiver/types';
import { MQTT_PICON_RETRIES, MQTT_PICON_RETRY_MS, MQTT_STREAM_PUBLISH_INTERVAL_MS } from '../settings';
import { ChannelOptions } from './channel-options';
import { CommandResult, runCommand } from './commands';
import { MqttLink } from './connection';
import { buildDiscovery, nodeIdOf } from './discovery';
import {
  fieldPayloads, piconUrl, statePayload, streamPayload, streamsPayload, timersPayload,
} from './state';
import {
  CommandName, commandLabel, discoveryWildcard, isDiscoveryTopicOf, ReceiverTopics, STATE_FIELDS,
} from './topics';

/** The parts of a receiver this uses (tests may hand in one built any way). */
export type BridgedReceiver = Pick<Receiver, 'name' | 'config' | 'device' | 'channels' | 'monitor' | 'control' | 'summary' | 'load' | 'timers' | 'on' | 'off'>;

/** A receiver with the sessions of its channels (the proxy's streams of it). */
export interface BridgedRuntime {
  receiver: BridgedReceiver;
  sessions: Pick<SessionManager, 'on' | 'off' | 'list'>;
}

export interface ReceiverBridgeOptions extends BridgedRuntime {
  /** The plugin's one connection, shared with the other receivers. */
  link: MqttLink;
  /** The receiver's topic slug (`living_room`). */
  slug: string;
  topics: ReceiverTopics;
  /** `<prefix>/bridge/availability`, which every discovered entity lists. */
  bridgeAvailability: string;
  mqtt: Pick<MqttConfig, 'discovery' | 'discoveryPrefix'>;
  proxyEnabled: boolean;
  /**
   * The proxy's base URL as Home Assistant reaches it (undefined while it does not listen yet);
   * absent when there is no logo entity (no proxy, or one that wants an access token).
   */
  piconBase?: () => string | undefined;
  version: string;
  log: Logger;
  /** Stream topics refresh interval while sessions run (ms; tests shorten it). */
  streamIntervalMs?: number;
}

/** Commands after which the timer list is published again. */
const TIMER_LIST_COMMANDS: readonly CommandName[] = ['record', 'timer/add', 'timer/delete'];

export class ReceiverBridge {
  private channelOptions: ChannelOptions | undefined;
  /** Discovery config topics currently wanted; undefined until device info arrived. */
  private discoveryTopics: Set<string> | undefined;
  private nodeId: string | undefined;
  private streamTopics = new Set<string>();
  private streamTimer: NodeJS.Timeout | undefined;
  private piconTimer: NodeJS.Timeout | undefined;
  private piconRetries = 0;
  private readonly detach: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly options: ReceiverBridgeOptions) {}

  private get link(): MqttLink {
    return this.options.link;
  }

  private get t(): ReceiverTopics {
    return this.options.topics;
  }

  /** Follows the receiver and its sessions; the link is started (and stopped) by its owner. */
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
    listen(receiver, 'timers', (timers) => this.publishTimers(timers as readonly Timer[]));
    for (const event of ['session-started', 'session-stopped', 'session-failed', 'client-joined', 'client-left']) {
      listen(sessions, event, () => this.publishStreams());
    }
    if (receiver.device) this.onLoaded();
    this.publishState(receiver.monitor.state);
    if (receiver.timers) this.publishTimers(receiver.timers);
    if (this.options.proxyEnabled) this.publishStreams();
  }

  /** Clears this receiver's stream topics (their sessions end with the app) and stops following it. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.streamTimer) clearInterval(this.streamTimer);
    this.streamTimer = undefined;
    if (this.piconTimer) clearTimeout(this.piconTimer);
    this.piconTimer = undefined;
    for (const off of this.detach.splice(0)) off();
    if (this.options.proxyEnabled) {
      for (const topic of this.streamTopics) this.link.clear(topic);
      this.streamTopics.clear();
      this.link.retain(this.t.streams, JSON.stringify(streamsPayload([])));
    }
  }

  /** Subscribes while the link handles 'connect': its `online` waits for these to be acknowledged. */
  private onConnect(): void {
    const { mqtt } = this.options;
    // Stream topics are watched even with the proxy off, to clear what an earlier run left.
    const topics = [...this.t.commandSubscriptions, this.t.streamsWildcard, this.t.streams];
    if (mqtt.discovery && this.nodeId) topics.push(discoveryWildcard(mqtt.discoveryPrefix, this.nodeId));
    this.link.subscribe(topics);
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    const { mqtt, receiver, log } = this.options;
    const command = this.t.commandOf(topic);
    if (command) {
      // An empty payload is how a retained command is cleared from the broker: nothing to do.
      if (payload.length === 0) return;
      if (retained) {
        // A retained command would run again on every reconnect (a reboot loop, say).
        this.reject(`${commandLabel(command)} ignored: it was a retained message; publish commands without the retain flag`);
        return;
      }
      void runCommand({
        control: receiver.control,
        monitor: receiver.monitor,
        channels: () => this.channelOptions,
        reload: () => this.reload(),
      }, command, payload).then((result) => this.afterCommand(command, result))
        .catch((error: Error) => log.warn(`MQTT: ${receiver.name}: a command failed unexpectedly: ${error.message}`));
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

  /** Publishes what came of a command: its problem, the timer list, a question's answer. */
  private afterCommand(command: CommandName, result: CommandResult): void {
    if (this.stopped) return;
    if (result.problem) this.reject(result.problem);
    if (TIMER_LIST_COMMANDS.includes(command)) {
      const timers = result.timers ?? this.options.receiver.timers;
      if (timers) this.publishTimers(timers);
    }
    if (result.answer) {
      // Not retained: an answer is an event, and a retained one would answer the next question too.
      this.link.send(this.t.messageAnswer, result.answer.answer, 1);
      this.link.send(this.t.messageResult, JSON.stringify(result.answer), 1);
    }
  }

  private reject(problem: string): void {
    this.options.log.warn(`MQTT: ${this.options.receiver.name}: ${problem.replace(/\.$/, '')}.`);
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
      receiverName: receiver.name, slug: this.options.slug, receiver: receiver.config, device,
      topics: this.t, bridgeAvailability: this.options.bridgeAvailability, channels: this.channelOptions,
      proxyEnabled, picons: this.options.piconBase !== undefined, discoveryPrefix: mqtt.discoveryPrefix, version,
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
    // `online` waits for the link's subscriptions: it also promises that commands are heard.
    this.link.announce(this.t.availability, state.reachable);
    this.publishPicon();
  }

  private publishTimers(timers: readonly Timer[]): void {
    if (this.stopped) return;
    this.link.retain(this.t.timers, JSON.stringify(timersPayload(timers)));
  }

  /**
   * The tuned channel's logo URL. In standby it stays (the logo entity is unavailable without a
   * channel, see discovery.ts): an empty URL would only make Home Assistant log an invalid one.
   */
  private publishPicon(): void {
    const base = this.options.piconBase;
    const ref = this.options.receiver.monitor.state.channel?.ref;
    if (!base || !ref || this.stopped) return;
    const url = base();
    if (url) {
      this.link.retain(this.t.picon, piconUrl(url, ref));
      return;
    }
    // The state can come a moment before the proxy listens: try again shortly, a bounded number of times.
    if (this.piconTimer || this.piconRetries >= MQTT_PICON_RETRIES) return;
    this.piconRetries++;
    this.piconTimer = setTimeout(() => {
      this.piconTimer = undefined;
      this.publishPicon();
    }, MQTT_PICON_RETRY_MS);
    this.piconTimer.unref();
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
