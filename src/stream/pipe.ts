/**
 * One connection to the receiver's stream and what turns it into a session's output: the TS
 * inspector, the keyframe gate and, when the audio must become AAC, the transcoder — the audio
 * splice, or ffmpeg remuxing everything. Its lifetime is an AbortController that is a child of the
 * session's: aborting it closes the connection and ends every ffmpeg it started. A session
 * replaces the whole pipe when it reconnects.
 *
 * It reports through callbacks rather than events, so nothing it says can go unhandled; after
 * onEnd it has already torn itself down.
 */
import { Clock, childLifetime } from '../clock';
import { Logger, sentences } from '../logger';
import type { AudioEngine, AudioMode } from '../config/types';
import { AudioOptions, remuxArgs } from './ffmpeg-args';
import { FfmpegHandle, SpawnFfmpeg } from './ffmpeg-process';
import { FfmpegWatchdog } from './ffmpeg-watchdog';
import { InspectedChunk } from './gop-cache';
import { KeyframeGate } from './keyframe-gate';
import { AudioSplice, splicedStreams } from './splice/audio-splice';
import { StreamError } from './stream-error';
import { Pmt } from './ts';
import { TsInspector } from './ts-inspector';
import { OpenUpstream, UpstreamHandle } from './upstream';

export type SessionMode = 'passthrough' | 'transcode';

/** How a channel's stream is fetched and transcoded: the same for a session and each of its pipes. */
export interface StreamAccess {
  receiverName: string;
  username?: string;
  password?: string;
  allowSelfSigned?: boolean;
  userAgent: string;
  audio: AudioOptions & { mode: AudioMode; engine: AudioEngine };
  /** '' when no ffmpeg was found: channels that need it fail with that reason. */
  ffmpegPath: string;
}

export interface PipeOptions extends StreamAccess {
  url: URL;
  /** Service id to follow in the TS. */
  program: number | undefined;
  /** Read when needed: a session started before the channel list loaded gets its name later. */
  channel: { readonly name: string };
  firstDataMs: number;
  stallMs: number;
  clock: Clock;
  /** The session's lifetime: the pipe ends with it. */
  signal: AbortSignal;
  log: Logger;
  spawn: SpawnFfmpeg;
  openUpstream: OpenUpstream;
  /** The session's mode, decided once from the first PMT and kept across reconnects. */
  mode(pmt: Pmt): SessionMode;
  /** An earlier pipe of the session fell back to the remux: this one starts with it. */
  remuxOnly: boolean;
  onEngine(engine: AudioEngine, fallbackReason?: string): void;
  /** Every chunk read from the receiver, for the session's byte and bitrate counts. */
  onInput(bytes: number): void;
  onOutput(chunk: Buffer, inspected?: InspectedChunk): void;
  onEnd(error: StreamError): void;
}

export class Pipe {
  readonly inspector: TsInspector;
  readonly gate: KeyframeGate;
  private readonly lifetime: AbortController;
  private readonly upstream: UpstreamHandle;
  private splice: AudioSplice | undefined;
  private ffmpeg: FfmpegHandle | undefined;
  private transcode: boolean | undefined;
  private readonly watchdog = new FfmpegWatchdog();
  private ended = false;

  constructor(private readonly options: PipeOptions) {
    this.lifetime = childLifetime(options.signal);
    this.inspector = new TsInspector(options.program);
    this.gate = new KeyframeGate(this.inspector);
    this.upstream = options.openUpstream({
      url: options.url,
      username: options.username,
      password: options.password,
      allowSelfSigned: options.allowSelfSigned,
      userAgent: options.userAgent,
      receiverName: options.receiverName,
      firstDataMs: options.firstDataMs,
      stallMs: options.stallMs,
      clock: options.clock,
      signal: this.lifetime.signal,
    });
    this.upstream.on('data', (chunk: Buffer) => this.onData(chunk));
    this.upstream.on('end', (error?: StreamError) => {
      if (error) this.end(error);
    });
  }

  start(): void {
    this.upstream.start();
  }

  get ffmpegPids(): number[] {
    if (this.splice) return this.splice.pids;
    return this.ffmpeg?.running && this.ffmpeg.pid !== undefined ? [this.ffmpeg.pid] : [];
  }

  /** Why nothing came out in time, as precisely as the pipe's state tells. */
  noOutputError(seconds: number): StreamError {
    if (!this.gate.isOpen) {
      return new StreamError('upstream', `${this.options.receiverName} sent data for ${this.options.channel.name} but no playable picture within ${seconds} s`);
    }
    const audio = this.inspector.pmt?.streams.filter((s) => s.needsTranscode).map((s) => s.codec).join(', ') || 'audio';
    return new StreamError('ffmpeg', `ffmpeg produced no output for ${this.options.channel.name} within ${seconds} s: the channel announces ${audio} audio that it may not carry`);
  }

  /** Ends the connection and every ffmpeg; resolves when they have exited. Idempotent. */
  async close(): Promise<void> {
    this.ended = true;
    this.lifetime.abort();
    await Promise.all([this.ffmpeg?.stop(), this.splice?.stop()]);
  }

  /** Fails the pipe: tears it down and tells the session once. */
  private end(error: StreamError): void {
    if (this.ended) return;
    void this.close();
    this.options.onEnd(error);
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    this.options.onInput(chunk.length);
    this.inspector.pushEach(chunk, this.onPackets);
  }

  /** A run of whole packets from the receiver, already inspected (bound once: it runs per read). */
  private readonly onPackets = (packets: Buffer): void => {
    if (this.ended) return;
    this.upstream.markData();
    // The transcoder starts as soon as the PMT is known: its start-up overlaps the wait for a keyframe.
    if (this.transcode === undefined && this.inspector.pmt) {
      this.transcode = this.options.mode(this.inspector.pmt) === 'transcode';
      if (this.transcode) this.startTranscoder();
      if (this.ended) return;
    }
    const passed = this.gate.pass(packets);
    if (passed.length === 0) return;
    if (this.splice) this.options.onOutput(this.splice.push(passed));
    else if (this.ffmpeg) this.feedFfmpeg(passed);
    // Passthrough output is the input: the inspector already found its keyframes and PAT/PMT.
    else this.options.onOutput(passed, { psi: this.inspector, lastKeyframe: this.gate.lastKeyframe });
  };

  private startTranscoder(): void {
    const { options, inspector } = this;
    if (options.ffmpegPath === '') {
      this.end(new StreamError('ffmpeg', `${options.channel.name} needs its audio converted to AAC, and ffmpeg is not installed: install ffmpeg (e.g. "apt install ffmpeg") or set proxy.ffmpegPath`));
      return;
    }
    const reencodeAac = options.audio.mode === 'always';
    const spliceable = inspector.pmtPid !== undefined && splicedStreams(inspector.pmt!, reencodeAac).length > 0;
    if (options.audio.engine === 'ffmpeg' || options.remuxOnly || !spliceable) {
      this.startRemux();
      return;
    }
    options.onEngine('splice');
    this.splice = new AudioSplice({
      pmtPid: inspector.pmtPid!,
      pmt: inspector.pmt!,
      reencodeAac,
      ffmpegPath: options.ffmpegPath,
      audio: options.audio,
      label: options.channel.name,
      log: options.log,
      clock: options.clock,
      spawn: options.spawn,
      signal: this.lifetime.signal,
      onFailure: (error) => this.end(error),
      onUnsupported: (reason) => this.fallBackToRemux(reason),
    });
  }

  /** The splice cannot handle this channel's audio: ffmpeg remuxes the rest of the stream instead. */
  private fallBackToRemux(reason: string): void {
    if (this.ended || !this.splice) return;
    const why = `${reason}; using the full ffmpeg remux instead`;
    this.options.log.warn(sentences(`${this.options.channel.name}: ${why}`));
    void this.splice.stop();
    this.splice = undefined;
    this.startRemux(why);
  }

  private startRemux(fallbackReason?: string): void {
    const { options } = this;
    options.onEngine('ffmpeg', fallbackReason);
    const ffmpeg = options.spawn(options.ffmpegPath, remuxArgs({ program: this.inspector.pmt?.program, audio: options.audio }), {
      label: options.channel.name,
      log: (line) => options.log.warn(line),
      signal: this.lifetime.signal,
    });
    this.ffmpeg = ffmpeg;
    ffmpeg.stdout.on('data', (chunk: Buffer) => {
      this.watchdog.output(options.clock.now());
      if (!this.ended) options.onOutput(chunk);
    });
    ffmpeg.on('exit', (exit: { stopped: boolean; code: number | null }) => {
      if (!exit.stopped) this.end(new StreamError('ffmpeg', `ffmpeg stopped while remuxing ${options.channel.name} (exit code ${exit.code})`));
    });
  }

  private feedFfmpeg(packets: Buffer): void {
    const { stdin } = this.ffmpeg!;
    const why = this.watchdog.check(stdin.writableLength, this.options.clock.now());
    if (why) {
      this.end(new StreamError('ffmpeg', `ffmpeg ${why} ${this.options.channel.name}`));
      return;
    }
    stdin.write(packets);
  }
}
