/**
 * One client of a stream session, over any ClientSink (an HTTP response, or a local pipe). A client
 * whose backlog passes the bound is disconnected instead of slowing the session, the upstream or
 * the other clients.
 */
import { ClientSink } from './client-sink';
import { StreamError } from './stream-error';

export interface StreamClientOptions {
  id: number;
  /** Peer address (or consumer name) for logs. */
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

  constructor(private readonly sink: ClientSink, private readonly options: StreamClientOptions) {
    this.id = options.id;
    this.peer = options.peer;
    sink.onClose(() => this.leave());
  }

  get isGone(): boolean {
    return this.gone;
  }

  get started(): boolean {
    return this.sink.begun;
  }

  /** Bytes written but not yet taken by the peer. */
  get backlog(): number {
    return this.sink.writableLength;
  }

  send(data: Buffer): void {
    if (this.gone || data.length === 0) return;
    // The bound is on the backlog, not on one write: a joining client's first write (the cached
    // GOP) may be larger than the queue, and is bounded by the GOP cache itself.
    if (this.sink.writableLength > this.options.maxQueueBytes) {
      this.drop(`fell more than ${Math.round(this.options.maxQueueBytes / 1024)} KB behind`);
      return;
    }
    this.sink.write(data);
    this.bytesSent += data.length;
  }

  /** Ends the client: an error for one that has received nothing yet, else a clean end of stream. */
  end(error?: StreamError): void {
    if (this.gone) return;
    this.sink.end(error);
    this.leave();
  }

  private drop(why: string): void {
    if (this.gone) return;
    this.sink.destroy();
    this.leave(why);
  }

  private leave(why?: string): void {
    if (this.gone) return;
    this.gone = true;
    this.options.onGone(this, why);
  }
}
