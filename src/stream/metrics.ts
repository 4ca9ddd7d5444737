/**
 * Prometheus metrics of the proxy (prom-client), on a registry of its own so two proxies in one
 * process (tests, several receivers) never clash. Live figures are read from the sessions at scrape
 * time; totals are counted from session events, so they survive the sessions they came from.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { Session } from './session';
import { SessionManager } from './sessions';
import { StreamError } from './stream-error';

export interface MetricsSource {
  receiver: string;
  sessions: SessionManager;
}

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly bytesIn: Counter<'receiver'>;
  private readonly bytesOut: Counter<'receiver'>;
  /** Bytes of sessions already counted into the counters, so each byte is counted once. */
  private readonly counted = new WeakMap<Session, { in: number; out: number }>();

  constructor(private readonly sources: MetricsSource[]) {
    const registers = [this.registry];
    const sessionsStarted = new Counter({ name: 'xg2g_sessions_started_total', help: 'Stream sessions that sent their first packet.', labelNames: ['receiver'], registers });
    const failures = new Counter({ name: 'xg2g_session_failures_total', help: 'Stream sessions that ended with an error, by kind.', labelNames: ['receiver', 'kind'], registers });
    const dropped = new Counter({ name: 'xg2g_clients_dropped_total', help: 'Clients disconnected for falling behind.', labelNames: ['receiver'], registers });
    const clientsJoined = new Counter({ name: 'xg2g_clients_total', help: 'Stream clients that connected.', labelNames: ['receiver'], registers });
    // Collecting on the first byte counter brings both up to date before either is read.
    const collectAll = (): void => this.collectBytes();
    this.bytesIn = new Counter({ name: 'xg2g_stream_bytes_in_total', help: 'Bytes received from the receiver.', labelNames: ['receiver'], registers, collect: collectAll });
    this.bytesOut = new Counter({ name: 'xg2g_stream_bytes_out_total', help: 'Bytes of stream output produced (one copy, before fan-out).', labelNames: ['receiver'], registers });
    new Gauge({
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
    new Gauge({
      name: 'xg2g_clients_active', help: 'Clients receiving a stream now.', labelNames: ['receiver'], registers,
      collect(this: Gauge<'receiver'>) {
        for (const { receiver, sessions } of sources) this.set({ receiver }, sessions.list().reduce((n, s) => n + s.clientCount, 0));
      },
    });
    new Gauge({
      name: 'xg2g_ffmpeg_processes', help: 'ffmpeg processes running for the proxy.', registers,
      collect(this: Gauge) {
        this.set(sources.reduce((n, { sessions }) => n + sessions.list().filter((s) => s.ffmpegPid !== undefined).length, 0));
      },
    });
    for (const { receiver, sessions } of sources) {
      sessions.on('session-started', () => sessionsStarted.inc({ receiver }));
      sessions.on('session-failed', (_s: Session, error: StreamError) => failures.inc({ receiver, kind: error.kind }));
      sessions.on('client-joined', () => clientsJoined.inc({ receiver }));
      sessions.on('client-left', (_s: Session, _c: unknown, why?: string) => { if (why) dropped.inc({ receiver }); });
      sessions.on('session-stopped', (session: Session) => this.countBytes(receiver, session));
    }
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private collectBytes(): void {
    for (const { receiver, sessions } of this.sources) for (const session of sessions.list()) this.countBytes(receiver, session);
  }

  private countBytes(receiver: string, session: Session): void {
    const seen = this.counted.get(session) ?? { in: 0, out: 0 };
    this.bytesIn.inc({ receiver }, session.bytesIn - seen.in);
    this.bytesOut.inc({ receiver }, session.bytesOut - seen.out);
    this.counted.set(session, { in: session.bytesIn, out: session.bytesOut });
  }
}
