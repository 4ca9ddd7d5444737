/**
 * One configured receiver as the core keeps it: its OpenWebIF client, its device info and channel
 * list (loaded at start, retried in the background while the box is unreachable), the monitor that
 * polls its state and the control that sends it commands. HomeKit and MQTT work through this
 * object; the streams of its channels live on the stream side (stream/channel-streams.ts).
 *
 * It also keeps the box's timer list (polled gently, and re-read after every timer command and
 * whenever isRecording flips) and remembers the box's MAC in the cache folder for Wake-on-LAN.
 *
 * Events: 'loaded' (channels, device) each time device info and channels were (re)loaded;
 * 'timers' (Timer[]) when the timer list changed.
 */
import { EventEmitter } from 'node:events';
import { receiverConnection } from '../config/connection';
import { ReceiverConfig } from '../config/types';
import { Logger, sentences } from '../logger';
import { LogOnce } from '../retry';
import { CHANNEL_RELOAD_RETRY_MS, TIMER_POLL_MS } from '../settings';
import { ChannelList, loadChannels } from './channels';
import { OpenWebIfClient } from './client';
import { HomeTiming, ReceiverControl, Viewers } from './control';
import { isReceiverError } from './errors';
import { ReceiverMemory } from './memory';
import { ReceiverMonitor, ReceiverState } from './monitor';
import { DeviceInfo, Timer } from './types';

export interface ReceiverOptions {
  config: ReceiverConfig;
  log: Logger;
  signal: AbortSignal;
  /** Fetch programme now/next. */
  epg: boolean;
  /** The App's cache folder: the box's MAC is remembered there for Wake-on-LAN (none: not remembered). */
  cacheDir?: string;
  /** Proxy viewers of this receiver's channels, for the standby guard (none: never guarded). */
  viewers?: () => Viewers;
  /** Waits of power-on, Wake-on-LAN and messages (tests make them short). */
  homeTiming?: Partial<HomeTiming>;
  /** Timer list poll interval, in ms (default TIMER_POLL_MS). */
  timerPollMs?: number;
}

/** What the status page and MQTT show about a receiver; never credentials. */
export interface ReceiverSummary {
  name: string;
  /** Host and port of the web interface. */
  address: string;
  reachable: boolean;
  channels: number;
  tuners: number | null;
  lastError: string | null;
}

export class Receiver extends EventEmitter {
  readonly name: string;
  readonly config: ReceiverConfig;
  readonly client: OpenWebIfClient;
  readonly monitor: ReceiverMonitor;
  readonly control: ReceiverControl;
  device: DeviceInfo | undefined;
  private channelList = ChannelList.EMPTY;
  private reachable = false;
  private lastError: string | null = null;
  private readonly problem: LogOnce;
  private retryTimer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private timerList: Timer[] = [];
  private timerPoll: NodeJS.Timeout | undefined;
  private timersReading: Promise<void> | undefined;
  private readonly timerProblem: LogOnce;
  private readonly memory: ReceiverMemory | undefined;
  /** The MAC remembered from an earlier run (until the box is read again). */
  private rememberedMac: string | null = null;
  private stopped = false;

  constructor(private readonly options: ReceiverOptions) {
    super();
    const { config, signal, log } = options;
    this.name = config.name;
    this.config = config;
    this.problem = new LogOnce((line) => log.warn(line));
    this.timerProblem = new LogOnce((line) => log.warn(line));
    this.memory = options.cacheDir ? new ReceiverMemory(options.cacheDir, `${config.host}:${config.port}`) : undefined;
    this.client = new OpenWebIfClient(receiverConnection(config), { signal });
    this.monitor = new ReceiverMonitor(this.client, { intervalS: config.refreshInterval, epg: options.epg, log });
    this.control = new ReceiverControl(this.client, this.monitor, log, signal, {
      name: config.name,
      offMode: config.offMode,
      standbyGuard: config.standbyGuard,
      wakeOnLan: config.wakeOnLan,
      wakeBroadcast: config.wakeBroadcast,
      mac: () => this.mac,
      viewers: options.viewers,
      channels: () => this.channelList,
      onTimers: (timers) => this.takeTimers(timers),
      timing: options.homeTiming,
    });
    // A recording that starts or ends changes the timer list: read it at once, not at the next poll.
    this.monitor.on('state', (state: ReceiverState, previous: ReceiverState) => {
      if (state.reachable && (state.recording !== previous.recording || !previous.reachable)) void this.readTimers();
    });
    // A box that comes back loads its channels at once instead of at the next 30 s retry.
    this.monitor.on('reachable', (reachable: boolean) => {
      if (!reachable || !this.retryTimer) return;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      void this.load();
    });
    signal.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** Starts polling the box and loading its channels; returns at once (the box may be down). */
  start(): void {
    this.stopped = false;
    this.monitor.start();
    void this.load();
    void this.recallMac();
    this.scheduleTimers();
  }

  /**
   * The MAC for Wake-on-LAN: the configured one, else the one the box reported, else the one
   * remembered from an earlier run; null when none is known.
   */
  get mac(): string | null {
    return this.config.mac || this.device?.mac || this.rememberedMac;
  }

  /** The box's recording timers as last read (empty until read). */
  get timers(): Timer[] {
    return this.timerList;
  }

  /** Reads the timer list now (polls share a read under way); failures are logged once. */
  readTimers(): Promise<void> {
    this.timersReading ??= this.control.timers().then(
      () => {
        this.timerProblem.clear();
      },
      (error: unknown) => {
        // Unreachable and busy boxes are the monitor's to report; aborted means stopping.
        if (this.stopped || isReceiverError(error, 'unreachable') || isReceiverError(error, 'timeout') || isReceiverError(error, 'aborted') || isReceiverError(error, 'overloaded')) return;
        this.timerProblem.say(sentences(`${this.config.name}: the timer list could not be read`, (error as Error).message));
      },
    ).finally(() => {
      this.timersReading = undefined;
    });
    return this.timersReading;
  }

  private takeTimers(timers: Timer[]): void {
    if (sameTimers(this.timerList, timers)) return;
    this.timerList = timers;
    this.emit('timers', timers);
  }

  /** Every TIMER_POLL_MS while the box answers; an unreachable box is left alone. */
  private scheduleTimers(): void {
    if (this.timerPoll || this.stopped) return;
    this.timerPoll = setTimeout(() => {
      this.timerPoll = undefined;
      const poll = this.monitor.state.reachable ? this.readTimers() : Promise.resolve();
      void poll.finally(() => this.scheduleTimers());
    }, this.options.timerPollMs ?? TIMER_POLL_MS);
  }

  private async recallMac(): Promise<void> {
    if (!this.memory || this.config.mac) return;
    const mac = await this.memory.mac();
    if (mac && !this.stopped) this.rememberedMac = mac;
  }

  /** Remembers the MAC the box reported, for a start while it sleeps in deep standby. */
  private rememberMac(mac: string | null): void {
    if (!this.memory || !mac || mac === this.rememberedMac) return;
    this.rememberedMac = mac;
    void this.memory.remember(mac).then((problem) => {
      if (problem) this.options.log.warn(`${this.config.name}: ${problem}`);
    });
  }

  /**
   * Loads device info and channels; on failure logs once and retries in the background. Calls while
   * a load is under way share it.
   */
  load(): Promise<void> {
    this.loading ??= this.loadOnce().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async loadOnce(): Promise<void> {
    const { config, log, signal } = this.options;
    try {
      this.device = await this.client.deviceInfo();
      this.rememberMac(this.device.mac);
      const { channels, missing } = await loadChannels(this.client, config.bouquets);
      this.channelList = channels;
      this.reachable = true;
      this.lastError = null;
      this.problem.clear();
      if (missing.length > 0) log.warn(`${config.name}: no bouquet named ${missing.map((m) => `"${m}"`).join(', ')} on the receiver; check "bouquets" in the config.`);
      log.info(`${config.name}: ${this.device.brand} ${this.device.model}, ${this.device.tunerCount} tuner(s), ${channels.size} channel(s).`);
      this.emit('loaded', this.channelList, this.device);
    } catch (error) {
      if (signal.aborted) return;
      const message = (error as Error).message;
      this.problem.say(sentences(message, `Retrying every ${CHANNEL_RELOAD_RETRY_MS / 1000} s; streams by service reference still work`));
      this.reachable = false;
      this.lastError = message;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.load();
      }, CHANNEL_RELOAD_RETRY_MS);
    }
  }

  /** Channels of the configured bouquets; empty while they could not be loaded. */
  channels(): ChannelList {
    return this.channelList;
  }

  summary(): ReceiverSummary {
    const { config } = this.options;
    // The monitor polls every few seconds, so it knows first when the box goes or comes back;
    // until its first poll, the channel load is all there is to go by.
    const reachable = this.monitor.polled ? this.monitor.state.reachable : this.reachable;
    return {
      name: config.name,
      address: `${config.host}:${config.port}`,
      reachable,
      channels: this.channelList.size,
      tuners: this.device?.tunerCount ?? null,
      lastError: reachable ? this.lastError : (this.monitor.lastError ?? this.lastError),
    };
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.timerPoll) clearTimeout(this.timerPoll);
    this.timerPoll = undefined;
    this.monitor.stop();
  }

  /** Ends the client's connections; after the streams stopped (they may still log in through it). */
  close(): void {
    this.stop();
    this.client.close();
  }
}

/** Same timers in the same order with the same state and name (a list read again unchanged). */
function sameTimers(a: Timer[], b: Timer[]): boolean {
  return a.length === b.length && a.every((t, i) => {
    const u = b[i];
    return t.id === u.id && t.state === u.state && t.name === u.name && t.channel === u.channel && t.instant === u.instant && t.eventId === u.eventId;
  });
}
