/**
 * One channel being streamed: one upstream connection to the receiver, at most one ffmpeg, and every
 * HTTP client of that channel fed from it. It decides passthrough or transcode from the PMT, starts
 * on a keyframe, keeps the last GOP for joining clients, reconnects a dropped upstream while clients
 * stay attached, and ends itself shortly after its last client leaves, because tuners are scarce.
 *
 * Events (never 'error', so an unhandled one cannot crash the host):
 *   'started' ()                        first packet went out
 *   'client-joined' (client)            'client-left' (client, why?)
 *   'failure' (StreamError)             logged once; the session ends after it
 *   'stopped' (reason: string)
 */
import { EventEmitter } from 'node:events';
import type { AudioEngine, AudioMode } from '../config/types';
import { Logger, sentences } from '../logger';
import { Backoff } from '../retry';
import { ServiceRef } from '../receiver/service-ref';
import {
  BITRATE_WINDOW_MS, FFMPEG_BACKLOG_GRACE_MS, FFMPEG_BACKLOG_HARD_BYTES, FFMPEG_BACKLOG_SOFT_BYTES, FFMPEG_OUTPUT_STALL_MS, GOP_CACHE_MAX_BYTES, SESSION_LINGER_MS, STREAM_FIRST_OUTPUT_TIMEOUT_MS,
  UPSTREAM_FIRST_DATA_TIMEOUT_MS, UPSTREAM_HEALTHY_RESET_MS, UPSTREAM_RECONNECT_ATTEMPTS, UPSTREAM_RECONNECT_DELAY_MS,
  UPSTREAM_STALL_TIMEOUT_MS,
} from '../settings';
import { ClientSink } from './client-sink';
import { AudioOptions, remuxArgs } from './ffmpeg-args';
import { FfmpegProcess } from './ffmpeg-process';
import { GopCache, InspectedChunk } from './gop-cache';
import { KeyframeGate } from './keyframe-gate';
import { RateMeter } from './rate-meter';
import { StreamClient } from './stream-client';
import { StreamError } from './stream-error';
import { AudioSplice, splicedStreams } from './splice/audio-splice';
import { pmtNeedsTranscode } from './ts';
import { TsInspector } from './ts-inspector';
import { Upstream } from './upstream';

export type { AudioEngine, AudioMode } from '../config/types';
export type SessionMode = 'passthrough' | 'transcode';
export type SessionState = 'starting' | 'running' | 'stopped';

export interface SessionChannel {
  ref: ServiceRef;
  /** Mutable: a session started before the channel list loaded gets its name later. */
  name: string;
  /** Short stable id (channelId). */
  id: string;
}

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

export interface SessionOptions {
  channel: SessionChannel;
  receiverName: string;
  /** Resolved on every (re)connect: an `auto` backend may move a channel to the relay. */
  resolveUpstream: () => Promise<UpstreamTarget>;
  username?: string;
  password?: string;
  allowSelfSigned?: boolean;
  userAgent: string;
  audio: AudioOptions & { mode: AudioMode; engine: AudioEngine };
  /** '' when no ffmpeg was found: channels that need it fail with that reason. */
  ffmpegPath: string;
  maxClients: number;
  /** Per-client send queue, in bytes. */
  clientQueueBytes: number;
  timing?: StreamTiming;
  log: Logger;
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

/** Everything that belongs to one upstream connection; replaced as a whole on reconnect. */
interface Pipe {
  upstream: Upstream;
  inspector: TsInspector;
  gate: KeyframeGate;
  /** The transcoder of this pipe: the audio splice, or ffmpeg remuxing everything. */
  splice?: AudioSplice;
  ffmpeg?: FfmpegProcess;
  /** When this pipe first delivered output (Date.now()); undefined until then. */
  outputSince?: number;
  /** When ffmpeg last wrote output, and since when its input backlog is over the soft bound. */
  ffmpegOutputAt?: number;
  backlogSince?: number;
}

let nextClientId = 1;

export class Session extends EventEmitter {
  readonly startedAt = new Date();
  state: SessionState = 'starting';
  mode: SessionMode | null = null;
  codecsIn: string[] = [];
  codecsOut: string[] = [];
  bytesIn = 0;
  bytesOut = 0;
  restarts = 0;
  lastError: string | null = null;
  engine: AudioEngine | null = null;
  engineReason: string | null = null;

  private readonly clients = new Set<StreamClient>();
  /** Clients that have not received a clean start (PAT, PMT, keyframe) yet. */
  private readonly waiting = new Set<StreamClient>();
  private readonly cache = new GopCache(GOP_CACHE_MAX_BYTES);
  private readonly meterIn = new RateMeter(BITRATE_WINDOW_MS);
  private readonly meterOut = new RateMeter(BITRATE_WINDOW_MS);
  private pipe: Pipe | undefined;
  private delivered = false;
  private readonly reconnects: Backoff;
  private lingerTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  private readonly timing: StreamTiming;

  constructor(private readonly options: SessionOptions) {
    super();
    this.timing = options.timing ?? STREAM_TIMING;
    this.reconnects = new Backoff({ firstMs: this.timing.reconnectDelayMs, attempts: UPSTREAM_RECONNECT_ATTEMPTS });
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
    const { ffmpeg, splice } = this.pipe ?? {};
    if (splice) return splice.pids;
    return ffmpeg?.running && ffmpeg.pid !== undefined ? [ffmpeg.pid] : [];
  }

  start(): void {
    void this.connect();
  }

  /** Adds a client; a StreamError (503) when the channel already has its maximum. */
  addClient(sink: ClientSink, peer: string): StreamClient | StreamError {
    if (this.state === 'stopped') return new StreamError('busy', `the stream of ${this.channel.name} is ending; try again`);
    if (this.clients.size >= this.options.maxClients) {
      return new StreamError('limit', `${this.channel.name} already has ${this.options.maxClients} clients, the limit set by proxy.maxClients`);
    }
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
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
    this.state = 'stopped';
    for (const timer of [this.lingerTimer, this.reconnectTimer, this.startTimer]) if (timer) clearTimeout(timer);
    const pipe = this.pipe;
    this.pipe = undefined;
    pipe?.upstream.close();
    for (const client of [...this.clients]) client.end(error);
    await Promise.all([pipe?.ffmpeg?.stop(), pipe?.splice?.stop()]);
    this.emit('stopped', reason);
  }

  private async connect(): Promise<void> {
    let target: UpstreamTarget;
    try {
      target = await this.options.resolveUpstream();
    } catch (error) {
      this.onPipeEnd(new StreamError('unreachable', `cannot find the stream of ${this.channel.name}: ${(error as Error).message}`));
      return;
    }
    if (this.state === 'stopped') return;
    const upstream = new Upstream({
      url: target.url,
      username: this.options.username,
      password: this.options.password,
      allowSelfSigned: this.options.allowSelfSigned,
      userAgent: this.options.userAgent,
      receiverName: this.options.receiverName,
      firstDataMs: this.timing.firstDataMs,
      stallMs: this.timing.stallMs,
    });
    const inspector = new TsInspector(target.program ?? this.channel.ref.sid);
    const pipe: Pipe = { upstream, inspector, gate: new KeyframeGate(inspector) };
    this.pipe = pipe;
    upstream.on('data', (chunk: Buffer) => this.onUpstreamData(pipe, chunk));
    upstream.on('end', (error?: StreamError) => {
      if (this.pipe === pipe && error) this.onPipeEnd(error);
    });
    // TS may arrive that never carries a PMT or a keyframe (a broken or scrambled service), or
    // ffmpeg may never produce output (audio announced but absent): every attempt has a deadline.
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = setTimeout(() => {
      if (this.pipe !== pipe || pipe.outputSince !== undefined) return;
      pipe.upstream.close();
      this.onPipeEnd(this.noOutputError(pipe));
    }, this.timing.firstOutputMs);
    upstream.start();
  }

  /** Why a pipe produced nothing in time, as precisely as its state tells. */
  private noOutputError(pipe: Pipe): StreamError {
    const seconds = this.timing.firstOutputMs / 1000;
    if (!pipe.gate.isOpen) {
      return new StreamError('upstream', `${this.options.receiverName} sent data for ${this.channel.name} but no playable picture within ${seconds} s`);
    }
    const audio = pipe.inspector.pmt?.streams.filter((s) => s.needsTranscode).map((s) => s.codec).join(', ') || 'audio';
    return new StreamError('ffmpeg', `ffmpeg produced no output for ${this.channel.name} within ${seconds} s: the channel announces ${audio} audio that it may not carry`);
  }

  private onUpstreamData(pipe: Pipe, chunk: Buffer): void {
    if (this.pipe !== pipe) return;
    this.bytesIn += chunk.length;
    this.meterIn.add(chunk.length);
    const packets = pipe.inspector.push(chunk);
    if (packets.length === 0) return;
    pipe.upstream.markData();
    // The transcoder starts as soon as the PMT is known: its start-up overlaps the wait for a keyframe.
    if (this.mode === null && pipe.inspector.pmt) this.chooseMode(pipe);
    if (this.mode === 'transcode' && !pipe.ffmpeg && !pipe.splice && pipe.inspector.pmt) {
      this.startTranscoder(pipe);
      if (this.pipe !== pipe) return;
    }
    const passed = pipe.gate.pass(packets);
    if (passed.length === 0) return;
    if (pipe.splice) this.deliver(pipe, pipe.splice.push(passed));
    else if (pipe.ffmpeg) this.feedFfmpeg(pipe, passed);
    // Passthrough output is the input: the inspector already found its keyframes and PAT/PMT.
    else this.deliver(pipe, passed, { psi: pipe.inspector, lastKeyframe: pipe.gate.lastKeyframe });
  }

  private startTranscoder(pipe: Pipe): void {
    if (this.options.ffmpegPath === '') {
      pipe.upstream.close();
      this.onPipeEnd(new StreamError('ffmpeg', `${this.channel.name} needs its audio converted to AAC, and ffmpeg is not installed: install ffmpeg (e.g. "apt install ffmpeg") or set proxy.ffmpegPath`));
      return;
    }
    const { inspector } = pipe;
    const reencodeAac = this.options.audio.mode === 'always';
    const spliceable = inspector.pmtPid !== undefined && splicedStreams(inspector.pmt!, reencodeAac).length > 0;
    if (this.options.audio.engine === 'ffmpeg' || this.engineReason !== null || !spliceable) {
      this.engine = 'ffmpeg';
      this.startFfmpeg(pipe);
      return;
    }
    this.engine = 'splice';
    pipe.splice = new AudioSplice({
      pmtPid: inspector.pmtPid!,
      pmt: inspector.pmt!,
      reencodeAac,
      ffmpegPath: this.options.ffmpegPath,
      audio: this.options.audio,
      label: this.channel.name,
      log: this.options.log,
      onFailure: (error) => {
        if (this.pipe !== pipe) return;
        pipe.upstream.close();
        this.onPipeEnd(error);
      },
      onUnsupported: (reason) => this.fallBackToRemux(pipe, reason),
    });
  }

  /** The splice cannot handle this channel's audio: ffmpeg remuxes the rest of the stream instead. */
  private fallBackToRemux(pipe: Pipe, reason: string): void {
    if (this.pipe !== pipe || !pipe.splice) return;
    this.engineReason = `${reason}; using the full ffmpeg remux instead`;
    this.options.log.warn(sentences(`${this.channel.name}: ${this.engineReason}`));
    void pipe.splice.stop();
    pipe.splice = undefined;
    this.engine = 'ffmpeg';
    this.startFfmpeg(pipe);
  }

  private chooseMode(pipe: Pipe): void {
    const pmt = pipe.inspector.pmt!;
    const { mode } = this.options.audio;
    const transcode = mode === 'always' || (mode === 'auto' && pmtNeedsTranscode(pmt));
    const av = pmt.streams.filter((s) => s.kind === 'video' || s.kind === 'audio');
    this.mode = transcode ? 'transcode' : 'passthrough';
    this.codecsIn = av.map((s) => s.codec);
    this.codecsOut = transcode
      ? [...av.filter((s) => s.kind === 'video').slice(0, 1).map((s) => s.codec), ...av.filter((s) => s.kind === 'audio').map(() => this.options.audio.codec)]
      : this.codecsIn;
    this.options.log.info(`Streaming ${this.channel.name}: ${this.codecsIn.join(', ')} → ${this.mode === 'transcode' ? this.codecsOut.join(', ') : 'passthrough'}.`);
  }

  private startFfmpeg(pipe: Pipe): void {
    const ffmpeg = new FfmpegProcess(this.options.ffmpegPath, remuxArgs({ program: pipe.inspector.pmt?.program, audio: this.options.audio }), {
      label: this.channel.name,
      log: (line) => this.options.log.warn(line),
    });
    pipe.ffmpeg = ffmpeg;
    ffmpeg.child.stdout.on('data', (chunk: Buffer) => {
      pipe.ffmpegOutputAt = Date.now();
      if (this.pipe === pipe) this.deliver(pipe, chunk);
    });
    ffmpeg.on('exit', (exit: { stopped: boolean; code: number | null }) => {
      if (exit.stopped || this.pipe !== pipe) return;
      pipe.upstream.close();
      this.onPipeEnd(new StreamError('ffmpeg', `ffmpeg stopped while remuxing ${this.channel.name} (exit code ${exit.code})`));
    });
  }

  private feedFfmpeg(pipe: Pipe, packets: Buffer): void {
    const stdin = pipe.ffmpeg!.child.stdin;
    const now = Date.now();
    // ffmpeg must keep up with a live source: a burst is fine, a backlog that stays is not.
    const backlog = stdin.writableLength;
    if (backlog <= FFMPEG_BACKLOG_SOFT_BYTES) pipe.backlogSince = undefined;
    else pipe.backlogSince ??= now;
    const behind = backlog > FFMPEG_BACKLOG_HARD_BYTES || (pipe.backlogSince !== undefined && now - pipe.backlogSince > FFMPEG_BACKLOG_GRACE_MS);
    // Output that stopped while input flows: ffmpeg hangs (or was stopped); a new one takes over.
    const silent = pipe.ffmpegOutputAt !== undefined && now - pipe.ffmpegOutputAt > FFMPEG_OUTPUT_STALL_MS;
    if (behind || silent) {
      pipe.upstream.close();
      const why = behind ? 'cannot keep up with' : `stopped producing output for ${FFMPEG_OUTPUT_STALL_MS / 1000} s on`;
      this.onPipeEnd(new StreamError('ffmpeg', `ffmpeg ${why} ${this.channel.name}`));
      return;
    }
    stdin.write(packets);
  }

  /**
   * Sends output packets to every client: started clients get everything, waiting ones from a
   * keyframe. `inspected` when the chunk was inspected already (passthrough); other output is
   * inspected by the GOP cache.
   */
  private deliver(pipe: Pipe, chunk: Buffer, inspected?: InspectedChunk): void {
    const packets = this.cache.push(chunk, inspected);
    if (packets.length === 0) return;
    this.bytesOut += packets.length;
    this.meterOut.add(packets.length);
    if (!this.delivered) {
      this.delivered = true;
      this.state = 'running';
      this.emit('started');
    }
    const now = Date.now();
    if (pipe.outputSince === undefined) {
      pipe.outputSince = now;
      if (this.startTimer) clearTimeout(this.startTimer);
    }
    // Only a stretch of healthy streaming earns the reconnect budget back (see the setting).
    if (now - pipe.outputSince >= this.timing.healthyResetMs) this.reconnects.reset();
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

  /** The upstream or ffmpeg ended with an error: reconnect if clients were being served, else fail. */
  private onPipeEnd(error: StreamError): void {
    if (this.state === 'stopped') return;
    const pipe = this.pipe;
    this.pipe = undefined;
    void pipe?.ffmpeg?.stop();
    void pipe?.splice?.stop();
    this.lastError = error.message;
    const delay = this.delivered && this.clients.size > 0 && error.kind !== 'auth' ? this.reconnects.next() : undefined;
    if (delay === undefined) {
      this.options.log.warn(sentences(`Stopped streaming ${this.channel.name}: ${error.message}`));
      this.emit('failure', error);
      void this.stop('error', error);
      return;
    }
    this.restarts++;
    this.options.log.warn(`${error.message}; reconnecting to ${this.channel.name} (${this.reconnects.used} of ${this.reconnects.limit}).`);
    // A fresh pipe starts with PAT, PMT and a keyframe again; a new mode decision is not needed.
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state !== 'stopped') void this.connect();
    }, delay);
  }

  private onClientGone(client: StreamClient, why?: string): void {
    this.clients.delete(client);
    this.waiting.delete(client);
    if (why) this.options.log.warn(`Disconnected ${client.peer} from ${this.channel.name}: it ${why}.`);
    this.emit('client-left', client, why);
    if (this.clients.size === 0 && this.state !== 'stopped' && !this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        if (this.clients.size === 0) void this.stop('idle');
      }, SESSION_LINGER_MS);
    }
  }
}
