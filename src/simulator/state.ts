/**
 * The simulated box's mutable state: power, current channel, volume, the tuners held by streams,
 * the open streaming connections and the request log. Shared by the web interface and the
 * streaming listeners so each sees what the other did.
 */
import type { Socket } from 'node:net';
import { SIM_REQUEST_LOG_MAX } from '../settings';

export interface SimulatorState {
  power: 'on' | 'standby' | 'deep';
  channelRef: string;
  volume: number;
  muted: boolean;
  recording: boolean;
}

export type Listener = 'web' | 'stream' | 'relay';

export interface RecordedRequest {
  listener: Listener;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  at: number;
}

export type WebFault = null | 'hang' | 'html' | 'garbage' | 'refuse';

export interface ActiveStream {
  ref: string;
  listener: 'stream' | 'relay';
  pid?: number;
  client: string;
  socket: Socket;
  stop(): Promise<void>;
}

/** Each distinct service streamed holds one tuner; connections to the same service share it. */
export class TunerPool {
  private readonly held = new Map<string, number>();
  constructor(private readonly size: number) {}

  acquire(ref: string): boolean {
    const n = this.held.get(ref);
    if (n !== undefined) {
      this.held.set(ref, n + 1);
      return true;
    }
    if (this.held.size >= this.size) return false;
    this.held.set(ref, 1);
    return true;
  }

  release(ref: string): void {
    const n = this.held.get(ref);
    if (n === undefined) return;
    if (n <= 1) this.held.delete(ref);
    else this.held.set(ref, n - 1);
  }

  /** Services currently holding a tuner, in acquisition order. */
  services(): string[] {
    return [...this.held.keys()];
  }
}

/** Everything the listeners share. */
export class SimContext {
  fault: WebFault = null;
  readonly requests: RecordedRequest[] = [];
  readonly keys: number[] = [];
  readonly streams = new Set<ActiveStream>();
  readonly tuners: TunerPool;

  constructor(
    readonly state: SimulatorState,
    tunerCount: number,
    readonly log: (line: string) => void,
  ) {
    this.tuners = new TunerPool(tunerCount);
  }

  record(r: RecordedRequest): void {
    this.requests.push(r);
    if (this.requests.length > SIM_REQUEST_LOG_MAX) this.requests.splice(0, this.requests.length - SIM_REQUEST_LOG_MAX);
  }

  /** Ends every open streaming connection (deep standby, reboot, close). */
  async stopStreams(): Promise<void> {
    await Promise.all([...this.streams].map((s) => s.stop()));
  }
}

/** A URL's query as a flat record; the first value wins, as OpenWebIF's getUrlArg reads it. */
export function flatQuery(search: URLSearchParams): Record<string, string> {
  const q: Record<string, string> = {};
  for (const [k, v] of search) if (!(k in q)) q[k] = v;
  return q;
}
