/**
 * One channel being streamed: one upstream connection at a time (a Pipe: inspector, keyframe gate,
 * transcoder), and every HTTP client of the channel fed from it. New clients start on a keyframe
 * from the GOP cache; a dropped upstream is replaced while clients stay attached; the session ends
 * shortly after its last client leaves, because tuners are scarce.
 *
 * It is a small state machine on an injected clock:
 *
 *   connecting ──first output──▶ streaming ──pipe fails, clients left, budget──▶ waiting ──delay──▶ connecting
 *        │                           │                                          (else: stopped)
 *        └──no output in time / pipe fails before any output──▶ stopped ◀──stop() / last client gone + linger
 *
 * Everything it owns — pipes, their sockets and ffmpeg processes, its timers — hangs on one
 * AbortController, its lifetime; stop() aborts it and waits for the processes to exit.
 *
 * Events (never 'error', so an unhandled one cannot crash the host):
 *   'started' ()                        first packet went out
 *   'client-joined' (client)            'client-left' (client, why?)
 *   'failure' (StreamError)             logged once; the session ends after it
 *   'stopped' (reason: string)
 */
import { EventEmitter } from 'node:events';
import { Alarm, Clock, systemClock } from '../clock';
import type { AudioEngine } from '../config/types';
import { Logger, sentences } from '../logger';
import { Backoff } from '../retry';
import type { Channel } from '../receiver/channels';
import {
  BITRATE_WINDOW_MS, GOP_CACHE_MAX_BYTES, SESSION_LINGER_MS, STREAM_FIRST_OUTPUT_TIMEOUT_MS, UPSTREAM_FIRST_DATA_TIMEOUT_MS,
  UPSTREAM_HEALTHY_RESET_MS, UPSTREAM_RECONNECT_ATTEMPTS, UPSTREAM_RECONNECT_DELAY_MS, UPSTREAM_STALL_TIMEOUT_MS,
} from '../settings';
import { ClientSink } from './client-sink';
import { spawnFfmpeg, SpawnFfmpeg } from './ffmpeg-process';
import { GopCache, InspectedChunk } from './gop-cache';
import { Pipe, SessionMode, StreamAccess } from './pipe';
import { RateMeter } from './rate-meter';
import { StreamClient } from './stream-client';
import { StreamError } from './stream-error';
import { Pmt, pmtNeedsTranscode } from './ts';
import { openUpstream, OpenUpstream } from './upstream';

export type { AudioEngine, AudioMode } from '../config/types';
export type { SessionMode } from './pipe';
export type SessionState = 'starting' | 'running' | 'stopped';
/** The state machine's own states; `state` is what status and MQTT show. */
export type SessionPhase = 'connecting' | 'streaming' | 'waiting' | 'stopped';

/**
 * The channel a session streams: the model's reference, name and id (a session may also stream a
 * reference outside the configured bouquets). The name is set again once the channel list loads.
 */
export type SessionChannel = Pick<Channel, 'ref' | 'name' | 'id'>;

export interface UpstreamTarget {
  url: URL;
  /** Service id to select from the TS; the ref's sid when the box did not say. */
  program?: number;
}

/** Every deadline of a stream, in ms (the defaults are settings.ts's; tests shorten them). */
export interface StreamTiming {
  /** No TS this long after connecting: the tuner is busy. */
  firstDataMs: number;
  /** No packet out this long after connecting: no PMT, no keyframe, or ffmpeg silent. */
  firstOutputMs: number;
  /** Silence this long once streaming: a stall. */
  stallMs: number;
  reconnectDelayMs: number;
  /** Streaming this long without trouble restores the reconnect budget. */
  healthyResetMs: number;
}

export const STREAM_TIMING: StreamTiming = {
  firstDataMs: UPSTREAM_FIRST_DATA_TIMEOUT_MS,
  firstOutputMs: STREAM_FIRST_OUTPUT_TIMEOUT_MS,
  stallMs: UPSTREAM_STALL_TIMEOUT_MS,
  reconnectDelayMs: UPSTREAM_RECONNECT_DELAY_MS,
  healthyResetMs: UPSTREAM_HEALTHY_RESET_MS,
};

export interface SessionOptions extends StreamAccess {
  channel: SessionChannel;
  /** Resolved on every (re)connect: an `auto` backend may move a channel to the relay. */
  resolveUpstream: () => Promise<UpstreamTarget>;
  maxClients: number;
  /** Per-client send queue, in bytes. */
  clientQueueBytes: number;
  timing?: StreamTiming;
  log: Logger;
  /** For tests of the states: time, the upstream connection and ffmpeg, replaced by fakes. */
  clock?: Clock;
  openUpstream?: OpenUpstream;
  spawnFfmpeg?: SpawnFfmpeg;
}

export interface SessionStatus {
  id: string;
  channel: { name: string; ref: string };
  state: SessionState;
  mode: SessionMode | null;
  codecsIn: string[];
  codecsOut: string[];
  clients: number;
  bytesIn: number;
  bytesOut: number;
  bitrateIn: number;
  bitrateOut: number;
  startedAt: string;
  restarts: number;
  lastError: string | null;
  ffmpegPid: number | null;
  /** How the audio is transcoded; null in passthrough. */
  engine: AudioEngine | null;
  /** Why the full remux runs although the splice was asked for; null otherwise. */
  engineReason: string | null;
}

let nextClientId = 1;

export class Session extends EventEmitter {
  readonly startedAt = new Date();
  phase: SessionPhase = 'connecting';
  mode: SessionMode | null = null;
  codecsIn: string[] = [];
  codecsOut: string[] = [];
  bytesIn = 0;
  bytesOut = 0;
  restarts = 0;
  lastError: string | null = null;
  engine: AudioEngine | null = null;
  engineReason: string | null = null;

  private readonly lifetime = new AbortController();
  private readonly clock: Clock;
  private readonly timing: StreamTiming;
  private readonly clients = new Set<StreamClient>();
  /** Clients that have not received a clean start (PAT, PMT, keyframe) yet. */
  private readonly waiting = new Set<StreamClient>();
  private readonly cache = new GopCache(GOP_CACHE_MAX_BYTES);
  private readonly meterIn = new RateMeter(BITRATE_WINDOW_MS);
  private readonly meterOut = new RateMeter(BITRATE_WINDOW_MS);
  private readonly reconnects: Backoff;
  /** No output from the current pipe in time; time to reconnect; time to end without clients. */
  private readonly firstOutputAlarm: Alarm;
  private readonly reconnectAlarm: Alarm;
  private readonly lingerAlarm: Alarm;
  private pipe: Pipe | undefined;
  /** When the current pipe first delivered output (clock ms). */
  private pipeOutputSince: number | undefined;
  private delivered = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: SessionOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.timing = options.timing ?? STREAM_TIMING;
    this.reconnects = new Backoff({ firstMs: this.timing.reconnectDelayMs, attempts: UPSTREAM_RECONNECT_ATTEMPTS });
    const { signal } = this.lifetime;
    this.firstOutputAlarm = new Alarm(this.clock, () => this.onNoOutput(), signal);
    this.reconnectAlarm = new Alarm(this.clock, () => void this.connect(), signal);
    this.lingerAlarm = new Alarm(this.clock, () => {
      if (this.clients.size === 0) void this.stop('idle');
    }, signal);
  }

  /** What status and MQTT show: starting until the first packet, then running, until stopped. */
  get state(): SessionState {
    return this.phase === 'stopped' ? 'stopped' : this.delivered ? 'running' : 'starting';
  }

  get id(): string {
    return this.options.channel.id;
  }

  get channel(): SessionChannel {
    return this.options.channel;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** The first ffmpeg of the session (the remux, or the splice's first encoder). */
  get ffmpegPid(): number | undefined {
    return this.ffmpegPids[0];
  }

  get ffmpegPids(): number[] {
    return this.pipe?.ffmpegPids ?? [];
  }

  /**
   * PAT, PMT and the GOP so far from its keyframe (what a joining client gets first), read without
   * joining: the HomeKit camera decodes a still picture from it. Undefined without a clean start.
   */
  keyframeStart(): Buffer | undefined {
    return this.cache.snapshot();
  }

  start(): void {
    void this.connect();
  }

  /** Adds a client; a StreamError (503) when the channel already has its maximum. */
  addClient(sink: ClientSink, peer: string): StreamClient | StreamError {
    if (this.phase === 'stopped') return new StreamError('busy', `the stream of ${this.channel.name} is ending; try again`);
    if (this.clients.size >= this.options.maxClients) {
      return new StreamError('limit', `${this.channel.name} already has ${this.options.maxClients} clients, the limit set by proxy.maxClients`);
    }
    this.lingerAlarm.cancel();
    const client = new StreamClient(sink, {
      id: nextClientId++,
      peer,
      maxQueueBytes: this.options.clientQueueBytes,
      onGone: (c, why) => this.onClientGone(c, why),
    });
    this.clients.add(client);
    const snapshot = this.cache.snapshot();
    if (snapshot) client.send(snapshot);
    else this.waiting.add(client);
    this.emit('client-joined', client);
    return client;
  }

  status(): SessionStatus {
    return {
      id: this.id,
      channel: { name: this.channel.name, ref: this.channel.ref.ref },
      state: this.state,
      mode: this.mode,
      codecsIn: this.codecsIn,
      codecsOut: this.codecsOut,
      clients: this.clients.size,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      bitrateIn: this.meterIn.bitsPerSecond(),
      bitrateOut: this.meterOut.bitsPerSecond(),
      startedAt: this.startedAt.toISOString(),
      restarts: this.restarts,
      lastError: this.lastError,
      ffmpegPid: this.ffmpegPid ?? null,
      engine: this.mode === 'transcode' ? this.engine : null,
      engineReason: this.engineReason,
    };
  }

  /** Ends everything the session owns: upstream, ffmpeg, timers, clients. Idempotent. */
  stop(reason: string, error?: StreamError): Promise<void> {
    if (!this.stopping) this.stopping = this.shutdown(reason, error);
    return this.stopping;
  }

  private async shutdown(reason: string, error?: StreamError): Promise<void> {
    this.phase = 'stopped';
    const pipe = this.pipe;
    this.pipe = undefined;
    this.lifetime.abort();
    for (const client of [...this.clients]) client.end(error);
    await pipe?.close();
    this.emit('stopped', reason);
  }

  private async connect(): Promise<void> {
    this.phase = 'connecting';
    let target: UpstreamTarget;
    try {
      target = await this.options.resolveUpstream();
    } catch (error) {
      this.onPipeEnd(new StreamError('unreachable', `cannot find the stream of ${this.channel.name}: ${(error as Error).message}`));
      return;
    }
    if (this.lifetime.signal.aborted) return;
    const { options } = this;
    const { receiverName, username, password, allowSelfSigned, userAgent, audio, ffmpegPath } = options;
    const pipe: Pipe = new Pipe({
      receiverName, username, password, allowSelfSigned, userAgent, audio, ffmpegPath,
      url: target.url,
      program: target.program ?? this.channel.ref.sid,
      channel: this.channel,
      firstDataMs: this.timing.firstDataMs,
      stallMs: this.timing.stallMs,
      clock: this.clock,
      signal: this.lifetime.signal,
      log: options.log,
      spawn: options.spawnFfmpeg ?? spawnFfmpeg,
      openUpstream: options.openUpstream ?? openUpstream,
      mode: (pmt) => this.mode ?? this.chooseMode(pmt),
      remuxOnly: this.engineReason !== null,
      onEngine: (engine, reason) => {
        this.engine = engine;
        if (reason) this.engineReason = reason;
      },
      onInput: (bytes) => {
        this.bytesIn += bytes;
        this.meterIn.add(bytes);
      },
      onOutput: (chunk, inspected) => {
        if (this.pipe === pipe) this.deliver(chunk, inspected);
      },
      onEnd: (error) => {
        if (this.pipe === pipe) this.onPipeEnd(error);
      },
    });
    this.pipe = pipe;
    this.pipeOutputSince = undefined;
    // TS may arrive that never carries a PMT or a keyframe (a broken or scrambled service), or
    // ffmpeg may never produce output (audio announced but absent): every attempt has a deadline.
    this.firstOutputAlarm.arm(this.timing.firstOutputMs);
    pipe.start();
  }

  private onNoOutput(): void {
    if (!this.pipe || this.pipeOutputSince !== undefined) return;
    this.onPipeEnd(this.pipe.noOutputError(this.timing.firstOutputMs / 1000));
  }

  private chooseMode(pmt: Pmt): SessionMode {
    const { mode } = this.options.audio;
    const transcode = mode === 'always' || (mode === 'auto' && pmtNeedsTranscode(pmt));
    const av = pmt.streams.filter((s) => s.kind === 'video' || s.kind === 'audio');
    this.mode = transcode ? 'transcode' : 'passthrough';
    this.codecsIn = av.map((s) => s.codec);
    this.codecsOut = transcode
      ? [...av.filter((s) => s.kind === 'video').slice(0, 1).map((s) => s.codec), ...av.filter((s) => s.kind === 'audio').map(() => this.options.audio.codec)]
      : this.codecsIn;
    this.options.log.info(`Streaming ${this.channel.name}: ${this.codecsIn.join(', ')} → ${this.mode === 'transcode' ? this.codecsOut.join(', ') : 'passthrough'}.`);
    return this.mode;
  }

  /**
   * Sends output packets to every client: started clients get everything, waiting ones from a
   * keyframe. `inspected` when the chunk was inspected already (passthrough); other output is
   * inspected by the GOP cache.
   */
  private deliver(chunk: Buffer, inspected?: InspectedChunk): void {
    const packets = this.cache.push(chunk, inspected);
    if (packets.length === 0) return;
    this.bytesOut += packets.length;
    this.meterOut.add(packets.length);
    if (this.pipeOutputSince === undefined) {
      this.pipeOutputSince = this.clock.now();
      this.phase = 'streaming';
      this.firstOutputAlarm.cancel();
    }
    if (!this.delivered) {
      this.delivered = true;
      this.emit('started');
    }
    // Only a stretch of healthy streaming earns the reconnect budget back (see the setting).
    if (this.clock.now() - this.pipeOutputSince >= this.timing.healthyResetMs) this.reconnects.reset();
    const keyframe = this.cache.lastKeyframeOffset;
    const header = keyframe >= 0 && this.waiting.size > 0 ? this.cache.header() : undefined;
    for (const client of [...this.clients]) {
      if (!this.waiting.has(client)) {
        client.send(packets);
      } else if (header) {
        this.waiting.delete(client);
        client.send(Buffer.concat([header, packets.subarray(keyframe)]));
      }
    }
  }

  /** The pipe failed: reconnect if clients were being served and the budget allows, else fail. */
  private onPipeEnd(error: StreamError): void {
    if (this.phase === 'stopped') return;
    const pipe = this.pipe;
    this.pipe = undefined;
    this.firstOutputAlarm.cancel();
    void pipe?.close();
    this.lastError = error.message;
    const delay = this.delivered && this.clients.size > 0 && error.kind !== 'auth' ? this.reconnects.next() : undefined;
    if (delay === undefined) {
      this.options.log.warn(sentences(`Stopped streaming ${this.channel.name}: ${error.message}`));
      this.emit('failure', error);
      void this.stop('error', error);
      return;
    }
    this.restarts++;
    this.phase = 'waiting';
    this.options.log.warn(`${error.message}; reconnecting to ${this.channel.name} (${this.reconnects.used} of ${this.reconnects.limit}).`);
    // A fresh pipe starts with PAT, PMT and a keyframe again; the mode decision stays.
    this.reconnectAlarm.arm(delay);
  }

  private onClientGone(client: StreamClient, why?: string): void {
    this.clients.delete(client);
    this.waiting.delete(client);
    if (why) this.options.log.warn(`Disconnected ${client.peer} from ${this.channel.name}: it ${why}.`);
    this.emit('client-left', client, why);
    if (this.clients.size === 0 && this.phase !== 'stopped' && !this.lingerAlarm.armed) this.lingerAlarm.arm(SESSION_LINGER_MS);
  }
}
