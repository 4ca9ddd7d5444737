/**
 * Everything the core keeps for one configured receiver: its OpenWebIF client, its device info and
 * channel list (loaded at start, retried in the background while the box is unreachable), the
 * monitor that polls its state and the control that sends it commands, and the stream sessions of
 * its channels. HomeKit, MQTT and the proxy all work through this object.
 *
 * Events: 'loaded' (channels, device) each time device info and channels were (re)loaded.
 */
import { EventEmitter } from 'node:events';
import { Logger, sentences } from './logger';
import { LogOnce } from './retry';
import { ProxyConfig, ReceiverConfig } from './config/types';
import { receiverConnection } from './config/connection';
import { ChannelList, loadChannels } from './receiver/channels';
import { OpenWebIfClient } from './receiver/client';
import { ReceiverControl } from './receiver/control';
import { ReceiverMonitor } from './receiver/monitor';
import { channelId, ServiceRef } from './receiver/service-ref';
import { DeviceInfo } from './receiver/types';
import { CHANNEL_RELOAD_RETRY_MS, MAX_SESSIONS_FALLBACK } from './settings';
import { createUpstreamResolver } from './stream/backend';
import { HlsManager } from './stream/hls';
import { ProxyReceiver, ReceiverSummary } from './stream/proxy-types';
import { Session, StreamTiming } from './stream/session';
import { SessionManager } from './stream/sessions';

export interface ReceiverRuntimeOptions {
  config: ReceiverConfig;
  proxy: ProxyConfig;
  ffmpegPath: string;
  userAgent: string;
  log: Logger;
  signal: AbortSignal;
  clientQueueBytes: number;
  /** Fetch programme now/next. */
  epg: boolean;
  /** End an HLS session after this long without a request (ms). */
  hlsIdleMs: number;
  streamTiming?: StreamTiming;
}

export class ReceiverRuntime extends EventEmitter implements ProxyReceiver {
  readonly name: string;
  readonly config: ReceiverConfig;
  readonly client: OpenWebIfClient;
  readonly monitor: ReceiverMonitor;
  readonly control: ReceiverControl;
  readonly sessions: SessionManager;
  readonly hls: HlsManager;
  device: DeviceInfo | undefined;
  private channelList = ChannelList.EMPTY;
  private reachable = false;
  private lastError: string | null = null;
  private readonly problem: LogOnce;
  private retryTimer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;

  constructor(private readonly options: ReceiverRuntimeOptions) {
    super();
    const { config, proxy, signal, log } = options;
    this.name = config.name;
    this.config = config;
    this.problem = new LogOnce((line) => log.warn(line));
    this.client = new OpenWebIfClient(receiverConnection(config), { signal });
    this.monitor = new ReceiverMonitor(this.client, { intervalS: config.refreshInterval, epg: options.epg, log });
    this.control = new ReceiverControl(this.client, this.monitor, log, signal);
    const resolve = createUpstreamResolver(config.streamTarget, config.host, this.client);
    this.sessions = new SessionManager({
      maxSessions: () => proxy.maxSessions ?? this.device?.tunerCount ?? MAX_SESSIONS_FALLBACK,
      create: (ref) => this.createSession(ref, resolve),
    });
    this.hls = new HlsManager({
      idleMs: options.hlsIdleMs,
      log,
      join: (ref, sink, peer) => this.sessions.join(ref, sink, peer),
      channelName: (ref) => this.channelName(ref),
    });
    // A box that comes back loads its channels at once instead of at the next 30 s retry.
    this.monitor.on('reachable', (reachable: boolean) => {
      if (!reachable || !this.retryTimer) return;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      void this.load();
    });
    signal.addEventListener('abort', () => {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.monitor.stop();
    }, { once: true });
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
      for (const session of this.sessions.list()) session.channel.name = this.channelName(session.channel.ref);
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

  async stop(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.monitor.stop();
    await this.hls.stopAll();
    await this.sessions.stopAll();
    this.client.close();
  }

  private channelName(ref: ServiceRef): string {
    return this.channelList.byRef(ref)?.name ?? (ref.name || ref.ref);
  }

  private createSession(ref: ServiceRef, resolve: ReturnType<typeof createUpstreamResolver>): Session {
    const { config, proxy, ffmpegPath, userAgent, log, clientQueueBytes, streamTiming } = this.options;
    const name = this.channelName(ref);
    return new Session({
      channel: { ref, name, id: channelId(ref) },
      receiverName: config.name,
      resolveUpstream: () => resolve(ref, name),
      username: config.username || undefined,
      password: config.password || undefined,
      allowSelfSigned: config.allowSelfSigned,
      userAgent,
      audio: proxy.audio,
      ffmpegPath,
      maxClients: proxy.maxClients,
      clientQueueBytes,
      timing: streamTiming,
      log,
    });
  }
}
