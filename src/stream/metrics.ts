/**
 * Prometheus metrics of the proxy. Totals are counted here from session events from the start, in
 * plain maps, so they survive the sessions they came from; prom-client (about 12 MB resident with
 * its dependencies) is only loaded on the first scrape, because most setups never scrape and an idle
 * process should not carry it. Each ProxyMetrics gets a registry of its own, so two proxies in one
 * process (tests, several receivers) never clash. Live figures are read from the sessions at scrape
 * time.
 */
import type { Counter, Gauge, Registry } from 'prom-client';
import type { Session } from './session';
import type { HlsManager } from './hls';
import type { SessionManager } from './sessions';
import type { StreamError } from './stream-error';

export interface MetricsSource {
  receiver: string;
  sessions: SessionManager;
  /** HLS sessions, for the video encoders of MPEG-2 channels (proxy.hls.transcodeVideo). */
  hls?: Pick<HlsManager, 'ffmpegPids'>;
}

export interface MetricsText {
  body: string;
  contentType: string;
}

type Labels = Record<string, string>;

/** A counter's value per label set, kept until prom-client is loaded to render it. */
class Tally {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  add(labels: Labels, by = 1): void {
    const key = JSON.stringify(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }

  /** Sets `counter` to these values: called from the counter's collect, at scrape time. */
  copyTo(counter: Counter<string>): void {
    counter.reset();
    for (const { labels, value } of this.values.values()) counter.inc(labels, value);
  }
}

export class ProxyMetrics {
  private readonly sessionsStarted = new Tally();
  private readonly failures = new Tally();
  private readonly dropped = new Tally();
  private readonly clientsJoined = new Tally();
  private readonly bytesIn = new Tally();
  private readonly bytesOut = new Tally();
  /** Bytes of sessions already counted into the totals, so each byte is counted once. */
  private readonly counted = new WeakMap<Session, { in: number; out: number }>();
  private registry: Promise<Registry> | undefined;

  constructor(private readonly sources: MetricsSource[]) {
    for (const { receiver, sessions } of sources) {
      sessions.on('session-started', () => this.sessionsStarted.add({ receiver }));
      sessions.on('session-failed', (_s: Session, error: StreamError) => this.failures.add({ receiver, kind: error.kind }));
      sessions.on('client-joined', () => this.clientsJoined.add({ receiver }));
      sessions.on('client-left', (_s: Session, _c: unknown, why?: string) => { if (why) this.dropped.add({ receiver }); });
      sessions.on('session-stopped', (session: Session) => this.countBytes(receiver, session));
    }
  }

  /** The Prometheus text exposition of every metric, and its content type. */
  async render(): Promise<MetricsText> {
    this.registry ??= this.createRegistry();
    const registry = await this.registry;
    return { body: await registry.metrics(), contentType: registry.contentType };
  }

  private async createRegistry(): Promise<Registry> {
    const prom = await import('prom-client');
    const registry = new prom.Registry();
    const registers = [registry];
    const counter = (name: string, help: string, labelNames: string[], tally: Tally, before?: () => void): Counter<string> =>
      new prom.Counter({
        name, help, labelNames, registers,
        collect(this: Counter<string>) {
          before?.();
          tally.copyTo(this);
        },
      });
    counter('xg2g_sessions_started_total', 'Stream sessions that sent their first packet.', ['receiver'], this.sessionsStarted);
    counter('xg2g_session_failures_total', 'Stream sessions that ended with an error, by kind.', ['receiver', 'kind'], this.failures);
    counter('xg2g_clients_dropped_total', 'Clients disconnected for falling behind.', ['receiver'], this.dropped);
    counter('xg2g_clients_total', 'Stream clients that connected.', ['receiver'], this.clientsJoined);
    // Collecting on the first byte counter brings both totals up to date before either is read.
    counter('xg2g_stream_bytes_in_total', 'Bytes received from the receiver.', ['receiver'], this.bytesIn, () => this.collectBytes());
    counter('xg2g_stream_bytes_out_total', 'Bytes of stream output produced (one copy, before fan-out).', ['receiver'], this.bytesOut);
    const sources = this.sources;
    new prom.Gauge({
      name: 'xg2g_sessions_active', help: 'Channels being streamed now.', labelNames: ['receiver', 'mode'], registers,
      collect(this: Gauge<'receiver' | 'mode'>) {
        this.reset();
        for (const { receiver, sessions } of sources) {
          for (const mode of ['passthrough', 'transcode', 'starting']) {
            this.set({ receiver, mode }, sessions.list().filter((s) => (s.mode ?? 'starting') === mode).length);
          }
        }
      },
    });
    new prom.Gauge({
      name: 'xg2g_clients_active', help: 'Clients receiving a stream now.', labelNames: ['receiver'], registers,
      collect(this: Gauge<'receiver'>) {
        for (const { receiver, sessions } of sources) this.set({ receiver }, sessions.list().reduce((n, s) => n + s.clientCount, 0));
      },
    });
    new prom.Gauge({
      name: 'xg2g_ffmpeg_processes', help: 'ffmpeg processes running for the proxy.', registers,
      collect(this: Gauge) {
        const perReceiver = ({ sessions, hls }: MetricsSource): number => sessions.list().reduce((m, s) => m + s.ffmpegPids.length, 0) + (hls?.ffmpegPids().length ?? 0);
        this.set(sources.reduce((n, source) => n + perReceiver(source), 0));
      },
    });
    return registry;
  }

  private collectBytes(): void {
    for (const { receiver, sessions } of this.sources) for (const session of sessions.list()) this.countBytes(receiver, session);
  }

  private countBytes(receiver: string, session: Session): void {
    const seen = this.counted.get(session) ?? { in: 0, out: 0 };
    this.bytesIn.add({ receiver }, session.bytesIn - seen.in);
    this.bytesOut.add({ receiver }, session.bytesOut - seen.out);
    this.counted.set(session, { in: session.bytesIn, out: session.bytesOut });
  }
}
