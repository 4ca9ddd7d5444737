// Test helpers for the simulator: a raw HTTP client that sees exact bytes, and a tiny PAT/PMT reader.
import { connect, type Socket } from 'node:net';

export interface RawResult {
  /** Everything received, header included. */
  bytes: Buffer;
  /** True when the server closed the connection (as opposed to us stopping at maxBytes/timeout). */
  ended: boolean;
  error?: NodeJS.ErrnoException;
}

/** Sends a hand-written request and collects the answer until `maxBytes`, EOF, error or `timeoutMs`. */
export function rawRequest(
  baseUrl: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string | undefined>; maxBytes?: number; timeoutMs?: number } = {},
): Promise<RawResult> {
  const u = new URL(baseUrl);
  const headers = { Host: u.host, 'User-Agent': 'xg2g-test', ...opts.headers };
  const head =
    `${opts.method ?? 'GET'} ${path} HTTP/1.1\r\n` +
    Object.entries(headers)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const sock = connect(Number(u.port), u.hostname);
    const finish = (ended: boolean, error?: NodeJS.ErrnoException): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ bytes: Buffer.concat(chunks), ended, error });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 15_000);
    sock.on('connect', () => sock.write(head));
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      total += d.length;
      if (total >= maxBytes) finish(false);
    });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (e: NodeJS.ErrnoException) => finish(true, e));
  });
}

/** A streaming connection kept open while the test looks at the simulator. */
export class StreamClient {
  private readonly chunks: Buffer[] = [];
  private total = 0;
  private waiters: Array<() => void> = [];
  ended = false;
  private readonly sock: Socket;

  constructor(baseUrl: string, path: string) {
    const u = new URL(baseUrl);
    this.sock = connect(Number(u.port), u.hostname);
    this.sock.on('connect', () => this.sock.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: xg2g-test\r\n\r\n`));
    this.sock.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.total += d.length;
      this.wake();
    });
    const end = (): void => {
      this.ended = true;
      this.wake();
    };
    this.sock.on('close', end);
    this.sock.on('error', end);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Resolves with everything received once at least `n` bytes arrived; rejects on EOF or timeout. */
  async waitFor(n: number, timeoutMs = 15_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.total < n) {
      if (this.ended) throw new Error(`stream ended after ${this.total} bytes, wanted ${n}`);
      if (Date.now() > deadline) throw new Error(`only ${this.total} of ${n} bytes before the timeout`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.bytes;
  }

  /** Resolves when the server closed the connection. */
  async waitEnd(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('stream did not end');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Polls `cond` until it holds (loopback events settle within milliseconds; the limit only stops a hang). */
export async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const STREAM_HEADER = 'HTTP/1.0 200 OK\r\nConnection: Close\r\nContent-Type: video/mpeg\r\nServer: streamserver\r\n\r\n';

export function pidOf(pkt: Buffer, at = 0): number {
  return ((pkt[at + 1] & 0x1f) << 8) | pkt[at + 2];
}

function sectionPayload(ts: Buffer, pid: number): Buffer | undefined {
  for (let pos = 0; pos + 188 <= ts.length; pos += 188) {
    if (ts[pos] !== 0x47 || pidOf(ts, pos) !== pid || !(ts[pos + 1] & 0x40)) continue;
    const afc = (ts[pos + 3] >> 4) & 3;
    let p = pos + 4;
    if (afc & 2) p += 1 + ts[p];
    p += 1 + ts[p]; // pointer field
    const len = ((ts[p + 1] & 0x0f) << 8) | ts[p + 2];
    return ts.subarray(p, p + 3 + len);
  }
  return undefined;
}

export interface PmtStream {
  type: number;
  pid: number;
  descriptorTags: number[];
  language?: string;
}

/** Program number and elementary streams of the first program in the PAT (single-section tables only). */
export function readPmt(ts: Buffer): { program: number; streams: PmtStream[] } | undefined {
  const pat = sectionPayload(ts, 0);
  if (!pat) return undefined;
  const program = (pat[8] << 8) | pat[9];
  const pmtPid = ((pat[10] & 0x1f) << 8) | pat[11];
  const pmt = sectionPayload(ts, pmtPid);
  if (!pmt) return undefined;
  const sectionEnd = pmt.length - 4;
  const infoLen = ((pmt[10] & 0x0f) << 8) | pmt[11];
  const streams: PmtStream[] = [];
  for (let i = 12 + infoLen; i + 5 <= sectionEnd; ) {
    const type = pmt[i];
    const pid = ((pmt[i + 1] & 0x1f) << 8) | pmt[i + 2];
    const esLen = ((pmt[i + 3] & 0x0f) << 8) | pmt[i + 4];
    const tags: number[] = [];
    let language: string | undefined;
    for (let d = i + 5; d + 2 <= i + 5 + esLen; d += 2 + pmt[d + 1]) {
      tags.push(pmt[d]);
      if (pmt[d] === 0x0a) language = pmt.subarray(d + 2, d + 5).toString('latin1');
    }
    streams.push({ type, pid, descriptorTags: tags, language });
    i += 5 + esLen;
  }
  return { program, streams };
}
