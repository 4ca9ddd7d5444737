/**
 * The enigma2 streaming port (8001) and the descrambling relay (17999), on a raw `net` server so
 * every byte is under control: the 200 header goes out before "tuning", a busy tuner answers with
 * EOF or a stray 400 line after that header, and the relay refuses early connects, HEAD and
 * requests without a User-Agent, as the real ones do.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { tryParseServiceRef } from '../receiver/service-ref';
import { SIM_CAPTURE_TICK_MS, SIM_REQUEST_HEAD_MAX_BYTES } from '../settings';
import type { SimChannel, SimProfile } from './channels';
import { startLiveLoop, type CaptureInfo } from './media';
import { flatQuery, type ActiveStream, type SimContext } from './state';

export const STREAM_OK_HEADER = 'HTTP/1.0 200 OK\r\nConnection: Close\r\nContent-Type: video/mpeg\r\nServer: streamserver\r\n\r\n';
const BAD_REQUEST = 'HTTP/1.0 400 Bad Request\r\n';
const UNAUTHORIZED = 'HTTP/1.0 401 Authorization Required\r\nWWW-Authenticate: Basic realm="streamserver"\r\n\r\n';
/** Above this much unsent data a capture client is treated as stalled and skips ticks. */
const CAPTURE_MAX_BUFFERED = 4 * 1024 * 1024;

export interface StreamListenerOptions {
  kind: 'stream' | 'relay';
  ctx: SimContext;
  host: string;
  port: number;
  /** Relay only: the listener opens this long after start. */
  openDelayMs: number;
  auth?: { username: string; password: string };
  busyBehaviour: 'eof' | 'http400';
  randomStart: boolean;
  ffmpegPath: string;
  findChannel(ref: string): SimChannel | undefined;
  /** Path of a profile's cached file (waits for the cache). */
  profilePath(profile: SimProfile): Promise<string>;
  captures: Map<string, CaptureInfo>;
}

interface RequestHead {
  method: string;
  target: string;
  headers: Record<string, string | string[] | undefined>;
}

function parseHead(text: string): RequestHead | undefined {
  const lines = text.split(/\r?\n/);
  const [method, target] = lines[0].split(' ');
  if (!method || !target) return undefined;
  const headers: Record<string, string | string[] | undefined> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    const prev = headers[name];
    headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return { method, target, headers };
}

function header(h: RequestHead, name: string): string {
  const v = h.headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

export function checkBasicAuth(value: string, auth: { username: string; password: string }): boolean {
  const m = /^Basic\s+(\S+)$/i.exec(value);
  if (!m) return false;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  return decoded === `${auth.username}:${auth.password}`;
}

export class StreamListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private openTimer: NodeJS.Timeout | undefined;
  private closed = false;
  port = 0;

  constructor(private readonly o: StreamListenerOptions) {
    this.server = createServer((s) => this.onConnection(s));
  }

  /** Binds (or, for a delayed relay, reserves the port number and binds later). */
  async start(): Promise<void> {
    if (this.o.openDelayMs > 0) {
      this.port = this.o.port || (await this.reservePort());
      this.openTimer = setTimeout(() => {
        this.openTimer = undefined;
        if (this.closed) return;
        this.listen(this.port).catch((err: Error) => this.o.ctx.log(`simulator ${this.o.kind}: cannot open port ${this.port}: ${err.message}`));
      }, this.o.openDelayMs);
      return;
    }
    await this.listen(this.o.port);
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.o.host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        if (addr && typeof addr === 'object') this.port = addr.port;
        resolve();
      });
    });
  }

  /** A free port number, found by binding and releasing it, so the URL is known before the listener opens. */
  private reservePort(): Promise<number> {
    return new Promise((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, this.o.host, () => {
        const addr = probe.address();
        const port = addr && typeof addr === 'object' ? addr.port : 0;
        probe.close(() => resolve(port));
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = undefined;
    for (const s of this.sockets) s.destroy();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(sock: Socket): void {
    const { ctx } = this.o;
    if (this.closed || ctx.state.power === 'deep') {
      sock.destroy();
      return;
    }
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const text = buf.toString('latin1');
      const end = text.search(/\r?\n\r?\n/);
      if (end < 0) {
        if (buf.length > SIM_REQUEST_HEAD_MAX_BYTES) sock.destroy();
        return;
      }
      sock.off('data', onData);
      const head = parseHead(text.slice(0, end));
      if (!head) {
        sock.end(`${BAD_REQUEST}\r\n`);
        return;
      }
      this.handle(sock, head);
    };
    sock.on('data', onData);
  }

  private handle(sock: Socket, head: RequestHead): void {
    const { ctx, kind } = this.o;
    const url = new URL(head.target.startsWith('/') ? head.target : `/${head.target}`, 'http://sim');
    ctx.record({
      listener: kind,
      method: head.method,
      path: url.pathname,
      query: flatQuery(url.searchParams),
      headers: head.headers,
      at: Date.now(),
    });
    if (kind === 'relay') {
      // The relay only understands GET from a named client; anything else is dropped unanswered.
      if (head.method !== 'GET' || header(head, 'user-agent') === '') {
        sock.destroy();
        return;
      }
    } else if (head.method !== 'GET') {
      sock.end(`${BAD_REQUEST}\r\n`);
      return;
    }
    if (this.o.auth && !checkBasicAuth(header(head, 'authorization'), this.o.auth)) {
      sock.end(UNAUTHORIZED);
      return;
    }
    // The box answers 200 before it knows whether tuning will work.
    sock.write(STREAM_OK_HEADER);
    const channel = this.resolve(head.target);
    if (!channel || (!channel.profile && !channel.capture) || !ctx.tuners.acquire(channel.ref)) {
      this.busy(sock);
      return;
    }
    void this.serve(sock, channel);
  }

  /** Refs arrive raw (`/1:0:19:…`) or URL-encoded (`/1%3A0%3A19…`); IPTV refs hold a literal `%3a`. */
  private resolve(target: string): SimChannel | undefined {
    const raw = target.replace(/^\//, '').replace(/\?.*$/, '');
    const candidates = [raw];
    try {
      candidates.push(decodeURIComponent(raw));
    } catch {
      // not percent-encoded
    }
    for (const c of candidates) {
      const ref = tryParseServiceRef(c);
      const ch = ref && this.o.findChannel(ref.ref);
      if (ch) return ch;
    }
    return undefined;
  }

  private busy(sock: Socket): void {
    if (this.o.busyBehaviour === 'http400') sock.end(BAD_REQUEST);
    else sock.end();
  }

  private async serve(sock: Socket, channel: SimChannel): Promise<void> {
    const { ctx, kind } = this.o;
    let released = false;
    let stopFeed: () => Promise<void> = async () => undefined;
    const entry: ActiveStream = {
      ref: channel.ref,
      listener: kind,
      client: sock.remoteAddress ?? '',
      socket: sock,
      stop: async () => {
        if (!released) {
          released = true;
          ctx.streams.delete(entry);
          ctx.tuners.release(channel.ref);
        }
        sock.destroy();
        await stopFeed();
      },
    };
    ctx.streams.add(entry);
    sock.on('close', () => void entry.stop());

    if (channel.capture) {
      const cap = this.o.captures.get(channel.capture);
      if (!cap) {
        this.busy(sock);
        await entry.stop();
        return;
      }
      stopFeed = this.feedCapture(sock, cap);
      return;
    }
    try {
      const file = await this.o.profilePath(channel.profile as SimProfile);
      if (released) return;
      const sid = tryParseServiceRef(channel.ref)?.sid || 1;
      const loop = await startLiveLoop({
        file,
        ffmpegPath: this.o.ffmpegPath,
        serviceId: sid,
        serviceName: channel.name,
        provider: channel.provider,
        randomStart: this.o.randomStart,
        onExit: (code) => {
          if (!released) ctx.log(`simulator ${kind}: ffmpeg for ${channel.name} ended unexpectedly (exit code ${code})`);
          void entry.stop();
        },
      });
      stopFeed = () => loop.stop();
      entry.pid = loop.pid;
      if (released) {
        await loop.stop();
        return;
      }
      loop.output.pipe(sock);
    } catch (err) {
      ctx.log(`simulator ${kind}: cannot stream ${channel.name}: ${(err as Error).message}`);
      this.busy(sock);
      await entry.stop();
    }
  }

  /** Replays a capture's bytes unchanged, looped, at the capture's own real-time rate. */
  private feedCapture(sock: Socket, cap: CaptureInfo): () => Promise<void> {
    const started = Date.now();
    let sent = 0;
    const tick = (): void => {
      if (sock.destroyed || sock.writableLength > CAPTURE_MAX_BUFFERED) return;
      const due = Math.floor((cap.bytesPerS * (Date.now() - started)) / 1000);
      while (sent < due) {
        const off = sent % cap.data.length;
        const n = Math.min(due - sent, cap.data.length - off);
        sock.write(cap.data.subarray(off, off + n));
        sent += n;
      }
    };
    const timer = setInterval(tick, SIM_CAPTURE_TICK_MS);
    return async () => clearInterval(timer);
  }
}
