/**
 * One configured receiver as the core keeps it: its OpenWebIF client, its device info and channel
 * list (loaded at start, retried in the background while the box is unreachable), the monitor that
 * polls its state and the control that sends it commands. HomeKit and MQTT work through this
 * object; the streams of its channels live on the stream side (stream/channel-streams.ts).
 *
 * Events: 'loaded' (channels, device) each time device info and channels were (re)loaded.
 */
import { EventEmitter } from 'node:events';
import { receiverConnection } from '../config/connection';
import { ReceiverConfig } from '../config/types';
import { Logger, sentences } from '../logger';
import { LogOnce } from '../retry';
import { CHANNEL_RELOAD_RETRY_MS } from '../settings';
import { ChannelList, loadChannels } from './channels';
import { OpenWebIfClient } from './client';
import { ReceiverControl } from './control';
import { ReceiverMonitor } from './monitor';
import { DeviceInfo } from './types';

export interface ReceiverOptions {
  config: ReceiverConfig;
  log: Logger;
  signal: AbortSignal;
  /** Fetch programme now/next. */
  epg: boolean;
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

  constructor(private readonly options: ReceiverOptions) {
    super();
    const { config, signal, log } = options;
    this.name = config.name;
    this.config = config;
    this.problem = new LogOnce((line) => log.warn(line));
    this.client = new OpenWebIfClient(receiverConnection(config), { signal });
    this.monitor = new ReceiverMonitor(this.client, { intervalS: config.refreshInterval, epg: options.epg, log });
    this.control = new ReceiverControl(this.client, this.monitor, log, signal);
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
    this.monitor.start();
    void this.load();
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
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.monitor.stop();
  }

  /** Ends the client's connections; after the streams stopped (they may still log in through it). */
  close(): void {
    this.stop();
    this.client.close();
  }
}
