/**
 * The core of homebridge-xg2g, shared by the Homebridge platform and the `xg2g` command: one
 * runtime per receiver and the stream proxy over them, all started and stopped together through one
 * AbortController. It never imports Homebridge.
 */
import { Config } from './config/types';
import { Logger } from './logger';
import { MqttService, startMqtt } from './mqtt';
import { ReceiverRuntime } from './receiver-runtime';
import { CLIENT_QUEUE_MAX_BYTES, HLS_IDLE_TIMEOUT_MS, PLUGIN_NAME } from './settings';
import { locateFfmpeg } from './stream/ffmpeg-locate';
import { Listener, listen } from './stream/listener';
import { ProxyMetrics } from './stream/metrics';
import { createRouter } from './stream/routes';
import { packageVersion } from './version';

const VERSION = packageVersion();

export interface AppOptions {
  /** Per-client send queue in bytes (tests make it small to see a slow client dropped quickly). */
  clientQueueBytes?: number;
  /** HLS idle timeout in ms (tests make it short). */
  hlsIdleMs?: number;
}

export class App {
  readonly receivers: ReceiverRuntime[] = [];
  readonly listeners: Listener[] = [];
  private readonly abort = new AbortController();
  private started = false;
  private mqtt: MqttService | undefined;

  constructor(private readonly config: Config, private readonly log: Logger, private readonly options: AppOptions = {}) {}

  /** The stop signal every part of the core listens to. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Base URL of the proxy listener, once started with the proxy enabled. */
  get proxyUrl(): string | undefined {
    return this.config.proxy.enabled ? this.listeners[0]?.url : undefined;
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('already started');
    this.started = true;
    const { proxy, api } = this.config;
    // The API listener serves the same routes (streams included), so it needs ffmpeg as well.
    const serving = proxy.enabled || api.listen !== '';
    const ffmpegPath = serving ? await this.findFfmpeg() : 'ffmpeg';
    for (const receiver of this.config.receivers) {
      this.receivers.push(new ReceiverRuntime({
        config: receiver, proxy, ffmpegPath, userAgent: `${PLUGIN_NAME}/${VERSION}`, log: this.log, signal: this.signal,
        clientQueueBytes: this.options.clientQueueBytes ?? CLIENT_QUEUE_MAX_BYTES, epg: this.config.epg.enabled,
        hlsIdleMs: this.options.hlsIdleMs ?? HLS_IDLE_TIMEOUT_MS,
      }));
    }
    // Channel lists load in the background: a receiver that is down must not hold up the proxy.
    for (const receiver of this.receivers) receiver.start();
    // Never throws and never waits for the broker: MQTT being down must not hold up the proxy.
    this.mqtt = await startMqtt({ config: this.config.mqtt, receivers: this.receivers, proxyEnabled: proxy.enabled, version: VERSION, log: this.log });

    const context = { receivers: this.receivers, token: proxy.token, publicUrl: proxy.publicUrl, version: VERSION };
    const router = createRouter(context, new ProxyMetrics(this.receivers.map((r) => ({ receiver: r.name, sessions: r.sessions }))), this.log);
    try {
      if (proxy.enabled) this.listeners.push(await listen(proxy.listen, router));
      if (api.listen && api.listen !== proxy.listen) this.listeners.push(await listen(api.listen, router));
    } catch (error) {
      await this.stop();
      throw new Error(`cannot open the proxy's port: ${(error as Error).message}`);
    }
    for (const l of this.listeners) this.log.info(`Serving streams and status on ${l.url}`);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.listeners.map((l) => l.close()));
    await Promise.all(this.receivers.map((r) => r.stop()));
    // After the receivers, so the retained topics of the sessions that just ended are cleared.
    await this.mqtt?.stop();
  }

  private async findFfmpeg(): Promise<string> {
    try {
      const found = await locateFfmpeg(this.config.proxy.ffmpegPath || undefined);
      this.log.info(`Using ffmpeg ${found.version} from ${found.source} (${found.path}).`);
      return found.path;
    } catch (error) {
      // Passthrough channels still work without ffmpeg; transcoded ones fail with a clear error.
      this.log.warn(`${(error as Error).message}. Channels that need AAC audio will not play until ffmpeg is installed.`);
      return 'ffmpeg';
    }
  }
}
