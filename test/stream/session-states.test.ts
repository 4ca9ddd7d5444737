// The session's state machine, on a fake clock with a fake upstream and fake ffmpeg: every state
// and deadline (start, no output, ffmpeg exit, upstream drop, reconnect and its budget, last
// client, stop) checked by events and by the clock's time, without sleeping or real processes.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger } from '../../src/logger';
import { parseServiceRef } from '../../src/receiver/service-ref';
import { SESSION_LINGER_MS, UPSTREAM_RECONNECT_ATTEMPTS } from '../../src/settings';
import { ClientSink } from '../../src/stream/client-sink';
import { FfmpegExit, FfmpegHandle, FfmpegProcessOptions } from '../../src/stream/ffmpeg-process';
import { Session, SessionOptions, StreamTiming } from '../../src/stream/session';
import { StreamError } from '../../src/stream/stream-error';
import { UpstreamHandle, UpstreamOptions } from '../../src/stream/upstream';
import { CNEWS } from '../helpers/fake-receiver';
import { FakeClock } from '../helpers/fake-clock';
import { SAMPLES } from '../helpers/samples';

const CAPTURE = readFileSync(join(SAMPLES, CNEWS.file));
const TIMING: StreamTiming = { firstDataMs: 5_000, firstOutputMs: 10_000, stallMs: 5_000, reconnectDelayMs: 1_000, healthyResetMs: 60_000 };

class FakeUpstream extends EventEmitter implements UpstreamHandle {
  started = false;
  closed = false;
  constructor(readonly options: UpstreamOptions) {
    super();
    options.signal?.addEventListener('abort', () => this.close(), { once: true });
  }
  start(): void { this.started = true; }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('end', undefined);
  }
  markData(): void { /* the fake has no deadlines of its own */ }
  /** The capture, in 64 KB chunks. */
  sendCapture(): void {
    for (let i = 0; i < CAPTURE.length; i += 65_536) this.emit('data', CAPTURE.subarray(i, i + 65_536));
  }
  fail(kind: StreamError['kind'], message: string): void { this.emit('end', new StreamError(kind, message)); }
}

/** An ffmpeg that copies stdin to stdout, like a remux that changes nothing. */
class FakeFfmpeg extends EventEmitter implements FfmpegHandle {
  static nextPid = 90_000;
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly pid = FakeFfmpeg.nextPid++;
  running = true;
  private exit: FfmpegExit | undefined;
  constructor(readonly args: string[], options: FfmpegProcessOptions) {
    super();
    this.stdin.pipe(this.stdout);
    options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }
  crash(code: number): void { this.finish(false, code); }
  async stop(): Promise<FfmpegExit> { return this.finish(true, null); }
  async wait(): Promise<FfmpegExit> { return this.exit ?? new Promise((resolve) => this.once('exit', resolve)); }
  private finish(stopped: boolean, code: number | null): FfmpegExit {
    if (this.exit) return this.exit;
    this.running = false;
    this.exit = { code, signal: null, stopped, stderr: '' };
    this.emit('exit', this.exit);
    return this.exit;
  }
}

class FakeSink implements ClientSink {
  written = 0;
  ended: StreamError | null | undefined;
  private closeListener: (() => void) | undefined;
  get writableLength(): number { return 0; }
  get begun(): boolean { return this.written > 0; }
  write(data: Buffer): void { this.written += data.length; }
  end(error?: StreamError): void {
    this.ended = error ?? null;
    this.closeListener?.();
  }
  destroy(): void { this.end(); }
  onClose(listener: () => void): void { this.closeListener = listener; }
  /** The viewer goes away. */
  leave(): void { this.closeListener?.(); }
}

interface Rig {
  session: Session;
  clock: FakeClock;
  upstreams: FakeUpstream[];
  ffmpegs: FakeFfmpeg[];
  events: string[];
}

function rig(overrides: Partial<SessionOptions> = {}): Rig {
  const clock = new FakeClock();
  const upstreams: FakeUpstream[] = [];
  const ffmpegs: FakeFfmpeg[] = [];
  const events: string[] = [];
  const session = new Session({
    channel: { ref: parseServiceRef('1:0:19:226A:438:1:C00000:0:0:0:'), name: 'CNEWS', id: 'cnews' },
    receiverName: 'Box',
    resolveUpstream: async () => ({ url: new URL('http://box:8001/1:0:19:226A:438:1:C00000:0:0:0:') }),
    userAgent: 'test',
    audio: { mode: 'never', engine: 'ffmpeg', codec: 'aac', bitrate: '192k', channels: 2 },
    ffmpegPath: 'ffmpeg',
    maxClients: 4,
    clientQueueBytes: 4 * 1024 * 1024,
    timing: TIMING,
    log: silentLogger,
    clock,
    openUpstream: (options) => {
      const upstream = new FakeUpstream(options);
      upstreams.push(upstream);
      return upstream;
    },
    spawnFfmpeg: (_path, args, options) => {
      const ffmpeg = new FakeFfmpeg(args, options);
      ffmpegs.push(ffmpeg);
      return ffmpeg;
    },
    ...overrides,
  });
  session.on('started', () => events.push('started'));
  session.on('failure', (e: StreamError) => events.push(`failure: ${e.message}`));
  session.on('stopped', (reason: string) => events.push(`stopped: ${reason}`));
  return { session, clock, upstreams, ffmpegs, events };
}

/** Lets the session's resolveUpstream promise settle (it is the only await before a connect). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A viewer asks, the session connects; nothing has come from the receiver yet. */
async function connected(r: Rig): Promise<FakeSink> {
  const sink = new FakeSink();
  r.session.addClient(sink, 'viewer');
  r.session.start();
  await settle();
  return sink;
}

/** Connected, and the receiver has sent the capture: the viewer is watching. */
async function started(r: Rig): Promise<FakeSink> {
  const sink = await connected(r);
  r.upstreams.at(-1)!.sendCapture();
  await settle();
  return sink;
}

it('starts: connects, goes out on the first keyframe, and is running', async () => {
  const r = rig();
  const sink = await started(r);
  expect(r.upstreams).toHaveLength(1);
  expect(r.upstreams[0].started).toBe(true);
  expect(r.events).toEqual(['started']);
  expect(r.session.phase).toBe('streaming');
  expect(r.session.state).toBe('running');
  expect(sink.written).toBeGreaterThan(0);
  expect(r.session.status()).toMatchObject({ mode: 'passthrough', bytesIn: CAPTURE.length, engine: null });
});

it('fails exactly at the first-output deadline when no picture comes, and ends the upstream', async () => {
  const r = rig();
  const sink = await connected(r);
  r.upstreams[0].emit('data', CAPTURE.subarray(0, 188 * 10)); // data, but no PMT and no keyframe
  r.clock.advance(TIMING.firstOutputMs - 1);
  expect(r.events).toEqual([]);
  r.clock.advance(1);
  await settle();
  expect(r.events).toEqual([
    'failure: Box sent data for CNEWS but no playable picture within 10 s',
    'stopped: error',
  ]);
  expect(r.upstreams[0].closed).toBe(true);
  expect(sink.ended?.httpStatus).toBe(502);
  expect(r.clock.pending).toBe(0);
});

it('reconnects after an upstream drop, after the reconnect delay, keeping its client', async () => {
  const r = rig();
  const sink = await started(r);
  r.upstreams[0].fail('dropped', 'the stream from Box ended');
  expect(r.session.phase).toBe('waiting');
  expect(r.session.restarts).toBe(1);
  r.clock.advance(TIMING.reconnectDelayMs - 1);
  await settle();
  expect(r.upstreams).toHaveLength(1);
  r.clock.advance(1);
  await settle();
  expect(r.upstreams).toHaveLength(2);
  expect(r.session.phase).toBe('connecting');
  const before = sink.written;
  r.upstreams[1].sendCapture();
  expect(r.session.phase).toBe('streaming');
  expect(sink.written).toBeGreaterThan(before);
  expect(sink.ended).toBeUndefined();
  expect(r.session.status().lastError).toBe('the stream from Box ended');
});

it('gives up when the reconnect budget is spent, with the last error', async () => {
  const r = rig();
  await started(r);
  for (let attempt = 1; attempt <= UPSTREAM_RECONNECT_ATTEMPTS; attempt++) {
    r.upstreams.at(-1)!.fail('dropped', `drop ${attempt}`);
    r.clock.advance(60_000);
    await settle();
  }
  expect(r.upstreams).toHaveLength(UPSTREAM_RECONNECT_ATTEMPTS + 1);
  r.upstreams.at(-1)!.fail('dropped', 'the last drop');
  await settle();
  expect(r.events.slice(-2)).toEqual(['failure: the last drop', 'stopped: error']);
  expect(r.session.restarts).toBe(UPSTREAM_RECONNECT_ATTEMPTS);
});

it('reconnects when the remuxing ffmpeg exits: the upstream is closed, a new one and a new ffmpeg take over', async () => {
  const r = rig({ audio: { mode: 'always', engine: 'ffmpeg', codec: 'aac', bitrate: '192k', channels: 2 } });
  await started(r);
  expect(r.ffmpegs).toHaveLength(1);
  expect(r.session.status()).toMatchObject({ mode: 'transcode', engine: 'ffmpeg', ffmpegPid: r.ffmpegs[0].pid });
  r.ffmpegs[0].crash(1);
  expect(r.upstreams[0].closed).toBe(true);
  expect(r.session.status().lastError).toBe('ffmpeg stopped while remuxing CNEWS (exit code 1)');
  r.clock.advance(TIMING.reconnectDelayMs);
  await settle();
  r.upstreams[1].sendCapture();
  expect(r.ffmpegs).toHaveLength(2);
  expect(r.ffmpegs[1].running).toBe(true);
  expect(r.session.restarts).toBe(1);
});

it('fails at once, without reconnecting, when no client ever got a packet', async () => {
  const r = rig();
  const sink = await connected(r);
  r.upstreams[0].fail('busy', 'the tuner is busy');
  await settle();
  expect(r.events).toEqual(['failure: the tuner is busy', 'stopped: error']);
  expect(sink.ended?.httpStatus).toBe(503);
});

it('ends exactly SESSION_LINGER_MS after its last client leaves, unless one comes back', async () => {
  const r = rig();
  const first = await started(r);
  first.leave();
  r.clock.advance(SESSION_LINGER_MS - 1);
  const second = new FakeSink();
  r.session.addClient(second, 'viewer 2');
  r.clock.advance(SESSION_LINGER_MS * 4);
  expect(r.session.phase).toBe('streaming');
  second.leave();
  r.clock.advance(SESSION_LINGER_MS - 1);
  expect(r.events).toEqual(['started']);
  r.clock.advance(1);
  await settle();
  expect(r.events).toEqual(['started', 'stopped: idle']);
  expect(r.upstreams[0].closed).toBe(true);
});

it('stop() ends the upstream, every ffmpeg, every client and every timer', async () => {
  const r = rig({ audio: { mode: 'always', engine: 'ffmpeg', codec: 'aac', bitrate: '192k', channels: 2 } });
  const sink = await started(r);
  await r.session.stop('shutdown');
  expect(r.events).toEqual(['started', 'stopped: shutdown']);
  expect(r.upstreams[0].closed).toBe(true);
  expect(r.ffmpegs.every((f) => !f.running)).toBe(true);
  expect(sink.ended).toBeNull();
  expect(r.clock.pending).toBe(0);
  expect(r.session.state).toBe('stopped');
  expect(r.session.addClient(new FakeSink(), 'late')).toBeInstanceOf(StreamError);
});
