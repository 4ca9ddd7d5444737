/**
 * The core of homebridge-xg2g, shared by the Homebridge platform and the `xg2g` command: one
 * runtime per receiver and the stream proxy over them, all started and stopped together through one
 * AbortController. It never imports Homebridge.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from './config/types';
import { escapingLogger, Logger, sentences } from './logger';
import type { MqttService } from './mqtt';
import type { GuideTiming } from './receiver/guide';
import type { ReceiverState } from './receiver/monitor';
import { memoryWritten } from './receiver/memory';
import { Receiver } from './receiver/receiver';
import { CLIENT_QUEUE_MAX_BYTES, HDHR_DISCOVERY_PORT, HDHR_SSDP_PORT, HLS_IDLE_TIMEOUT_MS, PLUGIN_NAME } from './settings';
import { CameraFeed, createCameraFeed, LiveViewCounter, probeAudioCodecs } from './stream/camera-feed';
import { locateFfmpeg } from './stream/ffmpeg-locate';
import { Listener, listen } from './stream/listener';
import { ChannelStreams } from './stream/channel-streams';
import { Guide } from './stream/guide';
import { createHdhrContext } from './stream/hdhr';
import { HdhrDiscovery, startHdhrDiscovery } from './stream/hdhr-discovery';
import { removeLeftoverHlsFolders } from './stream/hls';
import { ProxyMetrics } from './stream/metrics';
import { createPicons, Picons } from './stream/picons';
import { createRouter, RequestHandler } from './stream/routes';
import { Session, STREAM_TIMING, StreamTiming } from './stream/session';
import { packageVersion } from './version';

const VERSION = packageVersion();

export interface AppOptions {
  /** Per-client send queue in bytes (tests make it small to see a slow client dropped quickly). */
  clientQueueBytes?: number;
  /** HLS idle timeout in ms (tests make it short). */
  hlsIdleMs?: number;
  /** Stream deadlines (tests make them short). */
  streamTiming?: Partial<StreamTiming>;
  /** Guide fetch delays (tests make them short). */
  guideTiming?: Partial<GuideTiming>;
  /**
   * Folder for the guide and picon caches (created when needed): Homebridge's storage path under
   * Homebridge, else `XG2G_CACHE_DIR`, else a per-user folder in the temp folder.
   */
  cacheDir?: string;
  /** UDP ports of SSDP and HDHomeRun discovery (tests use 0 = any free port). */
  ssdpPort?: number;
  hdhrDiscoveryPort?: number;
}

/** The cache folder when none is given: survives restarts, and one user's never collides with another's. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.XG2G_CACHE_DIR || join(tmpdir(), `xg2g-cache-${process.getuid?.() ?? 'user'}`);
}

export class App {
  /** One per configured receiver: its client, monitor, control and channels. */
  readonly receivers: Receiver[] = [];
  /** The stream side of each receiver, in the same order: sessions and HLS of its channels. */
  readonly streams: ChannelStreams[] = [];
  /** The HomeKit camera picture of each receiver with `cameraAccessory`, once run() created them. */
  readonly cameraFeeds = new Map<Receiver, CameraFeed>();
  private proxyListener: Listener | undefined;
  private apiListener: Listener | undefined;
  private readonly abort = new AbortController();
  private starting: Promise<void> | undefined;
  private mqtt: MqttService | undefined;
  private guide: Guide | undefined;
  private hdhrDiscovery: HdhrDiscovery | undefined;

  private readonly log: Logger;
  private picons: Picons | undefined;
  /** Where the guide and the picons are cached on disk. */
  readonly cacheDir: string;

  constructor(private readonly config: Config, log: Logger, private readonly options: AppOptions = {}) {
    // Request paths and names from the network reach log lines: escape what could forge or reorder them.
    this.log = escapingLogger(log);
    this.cacheDir = options.cacheDir ?? defaultCacheDir();
  }

  /** The stop signal every part of the core listens to. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** The listeners that opened: the proxy's, then the API's. */
  get listeners(): Listener[] {
    return [this.proxyListener, this.apiListener].filter((l): l is Listener => l !== undefined);
  }

  /** Base URL of the proxy listener, once it opened. */
  get proxyUrl(): string | undefined {
    return this.proxyListener?.url;
  }

  /** UDP ports the HDHomeRun discovery sockets bound (none while it is off). */
  get discoveryPorts(): { ssdp?: number; hdhr?: number } {
    return this.hdhrDiscovery?.ports ?? {};
  }

  /**
   * Starts every part on its own: a port that is taken turns off the part that wanted it (logged as
   * one line naming the setting and the port) and the rest runs on; nothing here throws for that.
   * A stop() while this runs waits for it and then closes whatever it had opened.
   */
  start(): Promise<void> {
    if (this.starting) return Promise.reject(new Error('already started'));
    this.starting = this.run();
    return this.starting;
  }

  private async run(): Promise<void> {
    const { proxy, api } = this.config;
    // The API listener serves the same routes (streams included), so it needs ffmpeg as well; so do cameras.
    const serving = proxy.enabled || api.listen !== '';
    const cameras = this.config.receivers.some((r) => r.cameraAccessory);
    const ffmpegPath = serving || cameras ? await this.findFfmpeg() : 'ffmpeg';
    if (this.signal.aborted) return;
    for (const config of this.config.receivers) {
      const index = this.receivers.length;
      const receiver = new Receiver({
        config, log: this.log, signal: this.signal, epg: this.config.epg.enabled, cacheDir: this.cacheDir,
        // The standby guard counts who watches this receiver through the proxy (HLS players included).
        viewers: () => viewersOf(this.streams[index]),
      });
      this.receivers.push(receiver);
      this.streams.push(new ChannelStreams({
        source: receiver, proxy, ffmpegPath, userAgent: `${PLUGIN_NAME}/${VERSION}`, log: this.log,
        clientQueueBytes: this.options.clientQueueBytes ?? CLIENT_QUEUE_MAX_BYTES,
        hlsIdleMs: this.options.hlsIdleMs ?? HLS_IDLE_TIMEOUT_MS,
        streamTiming: { ...STREAM_TIMING, ...this.options.streamTiming },
      }));
    }
    this.receivers.forEach((receiver, i) => endStreamsOnStandby(receiver, this.streams[i], this.log));
    if (cameras) await this.createCameraFeeds(ffmpegPath);
    if (this.signal.aborted) return;
    // Channel lists load in the background: a receiver that is down must not hold up the proxy.
    for (const receiver of this.receivers) receiver.start();
    if (serving) void removeLeftoverHlsFolders().then((n) => n > 0 && this.log.info(`Removed ${n} HLS folder(s) an earlier version left in the temp folder.`));
    const { mqtt } = this.config;
    if (mqtt.enabled || mqtt.embeddedBroker.enabled) {
      // Loaded only when used: the MQTT client and its dependencies cost an idle process about 12 MB.
      const { startMqtt } = await import('./mqtt');
      // Never throws and never waits for the broker: MQTT being down must not hold up the proxy.
      const bridged = this.receivers.map((receiver, i) => ({ receiver, sessions: this.streams[i].sessions }));
      this.mqtt = await startMqtt({
        config: mqtt, receivers: bridged, proxyEnabled: proxy.enabled, proxy, proxyUrl: () => this.proxyUrl, version: VERSION, log: this.log,
      });
    }
    if (this.signal.aborted) return;

    const picons = createPicons(this.cacheDir, this.receivers, this.log);
    this.picons = picons;
    // The guide is only fetched when something serves it; it waits for each channel list itself.
    if (this.config.epg.enabled && serving) {
      const sources = this.receivers.map((receiver, i) => ({ receiver, sessions: this.streams[i].sessions }));
      this.guide = new Guide({ sources, epg: this.config.epg, cacheDir: this.cacheDir, log: this.log, signal: this.signal, timing: this.options.guideTiming });
    }
    const hdhr = this.config.hdhr.enabled ? createHdhrContext(this.config, this.receivers, this.log) : undefined;
    const context = { receivers: this.streams, token: proxy.token, publicUrl: proxy.publicUrl, version: VERSION, picons, guide: this.guide, hdhr };
    const router = createRouter(context, new ProxyMetrics(this.streams.map((s) => ({ receiver: s.name, sessions: s.sessions, hls: s.hls }))), this.log);
    if (proxy.enabled) this.proxyListener = await this.open(router, proxy.listen, 'proxy.listen', 'XG2G_PROXY_LISTEN', 'the stream proxy');
    // Discovery points media servers at the proxy listener, so it starts once that is open.
    if (this.proxyListener && hdhr && this.config.hdhr.discovery) {
      this.hdhrDiscovery = await startHdhrDiscovery({
        hdhr, listen: proxy.listen, httpPort: this.proxyListener.port, publicUrl: proxy.publicUrl, version: VERSION, log: this.log,
        ssdpPort: this.options.ssdpPort ?? HDHR_SSDP_PORT, discoveryPort: this.options.hdhrDiscoveryPort ?? HDHR_DISCOVERY_PORT,
      });
    }
    if (this.signal.aborted) return;
    // The same address twice (a port-0 test setup) would only open a second random port.
    if (api.listen !== '' && !(proxy.enabled && api.listen === proxy.listen)) this.apiListener = await this.open(router, api.listen, 'api.listen', 'XG2G_LISTEN', 'the second (API) listener');
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.starting?.catch(() => undefined);
    await Promise.all(this.listeners.map((l) => l.close()));
    await this.hdhrDiscovery?.close();
    await this.guide?.stop();
    // Live views are clients of the sessions: they end first, with their ffmpeg.
    await Promise.all([...this.cameraFeeds.values()].map((f) => f.stop()));
    await Promise.all(this.streams.map((s) => s.stop()));
    for (const receiver of this.receivers) receiver.close();
    // Files still being written to the cache folder are finished: nothing writes there after stop().
    await this.picons?.flush();
    await memoryWritten();
    // After the receivers, so the retained topics of the sessions that just ended are cleared.
    await this.mqtt?.stop();
  }

  /** One camera feed per receiver with cameraAccessory; camera.maxStreams counts over all of them. */
  private async createCameraFeeds(ffmpegPath: string): Promise<void> {
    // Asked once before the feeds exist, so the HomeKit side reads the answer without waiting.
    await probeAudioCodecs(ffmpegPath);
    const liveViews = new LiveViewCounter(this.config.camera.maxStreams);
    this.receivers.forEach((receiver, i) => {
      if (!receiver.config.cameraAccessory) return;
      this.cameraFeeds.set(receiver, createCameraFeed({
        receiver, streams: this.streams[i], camera: this.config.camera, ffmpegPath, log: this.log, signal: this.signal, liveViews,
      }));
    });
  }

  /** Opens one listener; on failure logs one line naming the setting and the port, and returns undefined. */
  private async open(router: RequestHandler, address: string, setting: string, variable: string, part: string): Promise<Listener | undefined> {
    try {
      const listener = await listen(address, router);
      if (this.signal.aborted) {
        await listener.close();
        return undefined;
      }
      this.log.info(`Serving streams and status on ${listener.where}.`);
      return listener;
    } catch (error) {
      this.log.error(`${part} is off: ${listenFailure(address, error as NodeJS.ErrnoException)}; set ${setting} (${variable}) to a free port and restart. Everything else runs on.`);
      return undefined;
    }
  }

  /**
   * The ffmpeg to use, or '' when there is none. A configured path that does not work falls back to
   * the one found without it (playing beats failing), and the log says which one runs.
   */
  private async findFfmpeg(): Promise<string> {
    const configured = this.config.proxy.ffmpegPath || undefined;
    let problem = '';
    try {
      const found = await locateFfmpeg(configured);
      this.log.info(`Using ffmpeg ${found.version} from ${found.source} (${found.path}).`);
      return found.path;
    } catch (error) {
      problem = (error as Error).message;
    }
    if (configured) {
      try {
        const found = await locateFfmpeg(undefined);
        this.log.warn(sentences(problem, `Using ffmpeg ${found.version} from ${found.source} (${found.path}) instead`));
        return found.path;
      } catch (error) {
        problem = sentences(problem, (error as Error).message);
      }
    }
    // Passthrough channels and their HLS still play; channels that need AAC answer with this reason.
    this.log.warn(sentences(problem, 'Channels with AC-3, E-AC-3, MP2 or LATM audio will not play until ffmpeg is installed'));
    return '';
  }
}

/** The sessions someone watches through the proxy (an HLS stream and a camera view count as one each). */
function watchedSessions(streams: ChannelStreams | undefined): Session[] {
  return (streams?.sessions.list() ?? []).filter((s) => s.clientCount > 0);
}

/** Who watches a receiver's channels through the proxy. */
function viewersOf(streams: ChannelStreams | undefined): { count: number; channels: string[] } {
  const watched = watchedSessions(streams);
  return { count: watched.reduce((n, s) => n + s.clientCount, 0), channels: watched.map((s) => s.channel.name) };
}

/**
 * When the box goes to standby (by its remote, a timer, or a command from here), its streams end:
 * the proxy ends them cleanly and says why once, instead of letting players wait on a dead tuner.
 */
function endStreamsOnStandby(receiver: Receiver, streams: ChannelStreams, log: Logger): void {
  receiver.monitor.on('state', (state: ReceiverState, previous: ReceiverState) => {
    if (previous.power !== 'on' || state.power !== 'standby') return;
    const { count, channels } = viewersOf(streams);
    if (count === 0) return;
    log.info(`${receiver.name} went to standby, so the proxy ended ${channels.join(', ')} for ${count} viewer(s).`);
    for (const session of watchedSessions(streams)) void session.stop('standby').catch(() => undefined);
  });
}

/** Why a listener could not open, with its port: "port 18080 is in use by another program". */
function listenFailure(address: string, error: NodeJS.ErrnoException): string {
  const port = /(\d+)$/.exec(address)?.[1] ?? address;
  if (error.code === 'EADDRINUSE') return `port ${port} (${address}) is in use by another program`;
  if (error.code === 'EACCES') return `port ${port} (${address}) needs privileges this process does not have`;
  if (error.code === 'EADDRNOTAVAIL') return `${address} is not an address of this machine`;
  return `${address} cannot be opened (${error.message})`;
}
