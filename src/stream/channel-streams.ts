/**
 * The stream side of one receiver: a session per channel being watched (one upstream each, shared
 * by every viewer), HLS on top of them, where each channel is fetched from and with which login.
 * The HTTP routes work through this object only; it reads the receiver's channel list and tuner
 * count through `source`, never its monitor or control.
 */
import { ProxyConfig, ReceiverConfig } from '../config/types';
import { Logger } from '../logger';
import type { ChannelList } from '../receiver/channels';
import type { OpenWebIfClient } from '../receiver/client';
import type { ReceiverSummary } from '../receiver/receiver';
import { channelId, ServiceRef } from '../receiver/service-ref';
import { MAX_SESSIONS_FALLBACK } from '../settings';
import { createUpstreamResolver } from './backend';
import { HlsManager } from './hls';
import { ProxyReceiver } from './proxy-types';
import { Session, StreamTiming } from './session';
import { SessionManager } from './sessions';

/** What the streams need from their receiver (a `Receiver` is one). */
export interface StreamSource {
  readonly config: ReceiverConfig;
  /** For `streamTarget: auto`, which asks the box where each channel streams from. */
  readonly client: Pick<OpenWebIfClient, 'streamTarget'>;
  channels(): ChannelList;
  summary(): ReceiverSummary;
  on(event: 'loaded', listener: () => void): unknown;
}

export interface ChannelStreamsOptions {
  source: StreamSource;
  proxy: ProxyConfig;
  ffmpegPath: string;
  userAgent: string;
  log: Logger;
  clientQueueBytes: number;
  /** End an HLS session after this long without a request (ms). */
  hlsIdleMs: number;
  streamTiming?: StreamTiming;
}

export class ChannelStreams implements ProxyReceiver {
  readonly name: string;
  readonly sessions: SessionManager;
  readonly hls: HlsManager;

  constructor(private readonly options: ChannelStreamsOptions) {
    const { source, proxy, log } = options;
    this.name = source.config.name;
    const resolve = createUpstreamResolver(source.config.streamTarget, source.config.host, source.client);
    this.sessions = new SessionManager({
      maxSessions: () => proxy.maxSessions ?? source.summary().tuners ?? MAX_SESSIONS_FALLBACK,
      create: (ref) => this.createSession(ref, resolve),
    });
    this.hls = new HlsManager({
      idleMs: options.hlsIdleMs,
      log,
      join: (ref, sink, peer) => this.sessions.join(ref, sink, peer),
      channelName: (ref) => this.channelName(ref),
      config: proxy.hls, ffmpegPath: options.ffmpegPath,
    });
    // A session started before the channel list loaded gets its channel's name once it has.
    source.on('loaded', () => {
      for (const session of this.sessions.list()) session.channel.name = this.channelName(session.channel.ref);
    });
  }

  channels(): ChannelList {
    return this.options.source.channels();
  }

  summary(): ReceiverSummary {
    return this.options.source.summary();
  }

  async stop(): Promise<void> {
    await this.hls.stopAll();
    await this.sessions.stopAll();
  }

  private channelName(ref: ServiceRef): string {
    return this.channels().byRef(ref)?.name ?? (ref.name || ref.ref);
  }

  private createSession(ref: ServiceRef, resolve: ReturnType<typeof createUpstreamResolver>): Session {
    const { source, proxy, ffmpegPath, userAgent, log, clientQueueBytes, streamTiming } = this.options;
    const { config } = source;
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
