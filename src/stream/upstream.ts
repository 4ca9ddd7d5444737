/**
 * One connection to the receiver's stream server (port 8001 or the 17999 relay). It turns the
 * box's habits into clear outcomes: the 200 comes before tuning, so "busy" is detected from what
 * follows (no TS within 5 s, EOF before any TS, a stray "HTTP/1.0 400" line); the relay refuses
 * early connects, so those are retried for a few seconds. Emits raw chunks; the session parses them.
 */
import { EventEmitter } from 'node:events';
import http, { ClientRequest, IncomingMessage } from 'node:http';
import https from 'node:https';
import {
  UPSTREAM_CONNECT_RETRY_DELAY_MS, UPSTREAM_CONNECT_RETRY_WINDOW_MS, UPSTREAM_FIRST_DATA_TIMEOUT_MS,
  UPSTREAM_STALL_TIMEOUT_MS,
} from '../settings';
import { Alarm, Clock, systemClock } from '../clock';
import { Backoff } from '../retry';
import { StreamError } from './stream-error';

export interface UpstreamOptions {
  /** Full URL of the stream, e.g. http://box:8001/1:0:19:283D:3FB:1:C00000:0:0:0: */
  url: URL;
  username?: string;
  password?: string;
  allowSelfSigned?: boolean;
  userAgent: string;
  /** Receiver name for error sentences. */
  receiverName: string;
  /** No TS this long after connecting means a busy tuner; silence this long later, a stall (ms). */
  firstDataMs?: number;
  stallMs?: number;
  clock?: Clock;
  /** Closes the connection when aborted (the owner's lifetime). */
  signal?: AbortSignal;
}

/** What a session needs of its upstream; tests of session states pass a fake through `OpenUpstream`. */
export interface UpstreamHandle extends EventEmitter {
  start(): void;
  close(): void;
  markData(): void;
}

export type OpenUpstream = (options: UpstreamOptions) => UpstreamHandle;

export const openUpstream: OpenUpstream = (options) => new Upstream(options);

/**
 * Events: 'data' (Buffer), 'end' (StreamError | undefined: undefined when closed by us).
 * `hasData` tells whether any TS arrived, which decides between "busy" and "dropped".
 */
export class Upstream extends EventEmitter implements UpstreamHandle {
  private request: ClientRequest | undefined;
  private response: IncomingMessage | undefined;
  private readonly clock: Clock;
  /** The deadline of the moment: first data (busy tuner), then silence (stall). */
  private readonly deadline: Alarm;
  private onDeadline: () => void = () => undefined;
  private readonly retry: Alarm;
  private lastDataAt = 0;
  private closed = false;
  private ended = false;
  /** The relay refuses connects for a while after the web interface answers: a few tries, a moment apart. */
  private readonly connectRetries = new Backoff({
    firstMs: UPSTREAM_CONNECT_RETRY_DELAY_MS, attempts: Math.ceil(UPSTREAM_CONNECT_RETRY_WINDOW_MS / UPSTREAM_CONNECT_RETRY_DELAY_MS),
  });
  bytes = 0;
  hasData = false;

  constructor(private readonly options: UpstreamOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.deadline = new Alarm(this.clock, () => this.onDeadline());
    this.retry = new Alarm(this.clock, () => {
      if (!this.ended) this.connect();
    });
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  /** Where it connects, without credentials: safe for logs and status. */
  get safeUrl(): string {
    const url = new URL(this.options.url.href);
    url.username = '';
    url.password = '';
    return url.href;
  }

  start(): void {
    this.connect();
  }

  /** Ends the connection; emits 'end' with no error. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.finish(undefined);
  }

  /** Called by the session once it has found real TS packets in the data (not just bytes). */
  markData(): void {
    this.lastDataAt = this.clock.now();
    if (this.hasData) return;
    this.hasData = true;
    // One alarm for the whole stream rather than one per chunk: when it fires, it checks when data
    // last came and waits for the rest of the stall time if that was recent.
    const stallMs = this.options.stallMs ?? UPSTREAM_STALL_TIMEOUT_MS;
    const check = (): void => {
      const silentMs = this.clock.now() - this.lastDataAt;
      if (silentMs < stallMs) this.armTimer(stallMs - silentMs, check);
      else this.fail('stalled', `${this.options.receiverName} stopped sending the stream (no data for ${stallMs / 1000} s)`);
    };
    this.armTimer(stallMs, check);
  }

  private connect(): void {
    const { url, username, password, allowSelfSigned, userAgent } = this.options;
    const headers: Record<string, string> = { 'User-Agent': userAgent, Accept: '*/*' };
    if (username) headers.Authorization = 'Basic ' + Buffer.from(`${username}:${password ?? ''}`).toString('base64');
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(url, {
      method: 'GET',
      agent: false,
      headers,
      ...(url.protocol === 'https:' ? { rejectUnauthorized: !allowSelfSigned } : {}),
    });
    this.request = request;
    request.on('response', (response) => this.onResponse(response));
    request.on('error', (error: NodeJS.ErrnoException) => this.onRequestError(error));
    request.end();
    const firstDataMs = this.options.firstDataMs ?? UPSTREAM_FIRST_DATA_TIMEOUT_MS;
    this.armTimer(firstDataMs, () => this.fail('busy', `${this.options.receiverName} sent no stream within ${firstDataMs / 1000} s: the tuner is probably busy or the channel could not be tuned`));
  }

  private onRequestError(error: NodeJS.ErrnoException): void {
    if (this.ended) return;
    const refused = error.code === 'ECONNREFUSED';
    // The relay opens its port later than the web interface: retry refused connects for a while.
    const retryIn = refused && !this.hasData ? this.connectRetries.next() : undefined;
    if (retryIn !== undefined) {
      this.retry.arm(retryIn);
      return;
    }
    if (error.code?.startsWith('HPE_')) {
      // Node's HTTP parser refused the answer (headers too large, not HTTP): it did connect.
      this.fail('upstream', `${this.options.receiverName}'s stream server sent an answer that is not valid HTTP (${error.code})`);
    } else if (this.hasData) {
      this.fail('dropped', `the stream from ${this.options.receiverName} broke off (${error.code ?? error.message})`);
    } else {
      const where = `${this.options.url.hostname}:${this.options.url.port || 80}`;
      this.fail('unreachable', `cannot connect to the stream server of ${this.options.receiverName} at ${where} (${error.code ?? error.message})`);
    }
  }

  private onResponse(response: IncomingMessage): void {
    this.response = response;
    if (response.statusCode === 401) {
      response.resume();
      this.fail('auth', `${this.options.receiverName}'s stream server refused the user name or password (HTTP 401)`);
      return;
    }
    if (response.statusCode !== 200) {
      response.resume();
      this.fail('upstream', `${this.options.receiverName}'s stream server answered HTTP ${response.statusCode}`);
      return;
    }
    response.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      this.emit('data', chunk);
    });
    // A reset connection may close without 'end'; onEof runs once whichever comes first.
    response.on('end', () => this.onEof());
    response.on('error', () => this.onEof());
    response.on('close', () => this.onEof());
  }

  private onEof(): void {
    if (this.ended) return;
    if (this.hasData) this.fail('dropped', `the stream from ${this.options.receiverName} ended`);
    else this.fail('busy', `${this.options.receiverName} closed the stream before sending any picture: the tuner is busy or the channel could not be tuned`);
  }

  private armTimer(ms: number, onTimeout: () => void): void {
    this.onDeadline = onTimeout;
    this.deadline.arm(ms);
  }

  private fail(kind: StreamError['kind'], message: string): void {
    this.finish(new StreamError(kind, message));
  }

  private finish(error: StreamError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.deadline.cancel();
    this.retry.cancel();
    this.response?.destroy();
    this.request?.destroy();
    this.emit('end', error);
  }
}
