/**
 * The sessions of one receiver: one per channel, created on the first client and forgotten when it
 * stops. Enforces the receiver's session limit (tuners) and re-emits every session event with its
 * session, so status, metrics, MQTT and HomeKit can follow streams from one place.
 *
 * Events: 'session-started' (session), 'session-stopped' (session, reason), 'session-failed'
 * (session, error), 'client-joined' (session, client), 'client-left' (session, client, why?).
 */
import { EventEmitter } from 'node:events';
import { channelId, ServiceRef } from '../receiver/service-ref';
import { ClientSink } from './client-sink';
import { Session } from './session';
import { StreamClient } from './stream-client';
import { StreamError } from './stream-error';

export interface SessionManagerOptions {
  /** Distinct channels at once; read on every new session (the tuner count may arrive late). */
  maxSessions: () => number;
  /** Builds a session for a channel (bound to the receiver and the proxy's configuration). */
  create: (ref: ServiceRef) => Session;
}

export class SessionManager extends EventEmitter {
  private readonly sessions = new Map<string, Session>();
  private stopped = false;

  constructor(private readonly options: SessionManagerOptions) {
    super();
  }

  /** Live sessions (a stopping session no longer counts: its tuner is already released). */
  list(): Session[] {
    return [...this.sessions.values()].filter((s) => s.state !== 'stopped');
  }

  find(ref: ServiceRef): Session | undefined {
    const session = this.sessions.get(channelId(ref));
    return session && session.state !== 'stopped' ? session : undefined;
  }

  /** Attaches a client to the channel's session, starting one if needed. */
  join(ref: ServiceRef, sink: ClientSink, peer: string): StreamClient | StreamError {
    if (this.stopped) return new StreamError('busy', 'the proxy is shutting down');
    let session = this.find(ref);
    if (!session) {
      const limit = this.options.maxSessions();
      const active = this.list().length;
      if (active >= limit) {
        const names = this.list().map((s) => s.channel.name).join(', ');
        const inUse = limit === 1 ? 'the only tuner is in use' : `all ${limit} tuners are in use`;
        return new StreamError('limit', `${inUse} (${names}); the limit is proxy.maxSessions`);
      }
      session = this.startSession(ref);
    }
    return session.addClient(sink, peer);
  }

  async stopAll(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.sessions.values()].map((s) => s.stop('shutdown')));
  }

  private startSession(ref: ServiceRef): Session {
    const session = this.options.create(ref);
    this.sessions.set(session.id, session);
    session.on('started', () => this.emit('session-started', session));
    session.on('client-joined', (client: StreamClient) => this.emit('client-joined', session, client));
    session.on('client-left', (client: StreamClient, why?: string) => this.emit('client-left', session, client, why));
    session.on('failure', (error: StreamError) => this.emit('session-failed', session, error));
    session.on('stopped', (reason: string) => {
      if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
      this.emit('session-stopped', session, reason);
    });
    session.start();
    return session;
  }
}
