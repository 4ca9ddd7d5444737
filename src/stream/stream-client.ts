/**
 * One HTTP client of a stream session. Headers go out only with the first packet, so a session that
 * fails before any data can still answer with a proper 502/503. Node's writable buffer is the
 * client's queue: a client whose backlog passes the bound is disconnected instead of slowing the
 * session, the upstream or the other clients.
 */
import { ServerResponse } from 'node:http';
import { StreamError } from './stream-error';

export interface StreamClientOptions {
  id: number;
  /** Peer address for logs. */
  peer: string;
  maxQueueBytes: number;
  /** Called once when the client is gone, whatever the reason; `why` says when we dropped it. */
  onGone: (client: StreamClient, why?: string) => void;
}

export class StreamClient {
  readonly id: number;
  readonly peer: string;
  readonly joinedAt = Date.now();
  bytesSent = 0;
  private gone = false;

  constructor(private readonly response: ServerResponse, private readonly options: StreamClientOptions) {
    this.id = options.id;
    this.peer = options.peer;
    // 'close' fires both when the peer goes away and after we end the response.
    response.once('close', () => this.leave());
    response.on('error', () => this.leave());
  }

  get isGone(): boolean {
    return this.gone;
  }

  get started(): boolean {
    return this.response.headersSent;
  }

  /** Bytes written but not yet taken by the socket. */
  get backlog(): number {
    return this.response.writableLength;
  }

  send(data: Buffer): void {
    if (this.gone || data.length === 0) return;
    if (!this.response.headersSent) {
      this.response.writeHead(200, {
        'Content-Type': 'video/mp2t',
        'Cache-Control': 'no-cache, no-store',
        Connection: 'close',
      });
    }
    // The bound is on the backlog, not on one write: a joining client's first write (the cached
    // GOP) may be larger than the queue, and is bounded by the GOP cache itself.
    if (this.response.writableLength > this.options.maxQueueBytes) {
      this.drop(`fell more than ${Math.round(this.options.maxQueueBytes / 1024)} KB behind`);
      return;
    }
    this.response.write(data);
    this.bytesSent += data.length;
  }

  /** Ends the client: an error status if it has received nothing yet, else a clean end of stream. */
  end(error?: StreamError): void {
    if (this.gone) return;
    if (!this.response.headersSent && error) {
      const body = `${error.message}\n`;
      this.response.writeHead(error.httpStatus, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        ...(error.httpStatus === 503 ? { 'Retry-After': '10' } : {}),
      });
      this.response.end(body);
    } else {
      this.response.end();
    }
    this.leave();
  }

  private drop(why: string): void {
    if (this.gone) return;
    this.response.destroy();
    this.leave(why);
  }

  private leave(why?: string): void {
    if (this.gone) return;
    this.gone = true;
    this.options.onGone(this, why);
  }
}
