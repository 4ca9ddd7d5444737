/**
 * One live view of a receiver's HomeKit camera: the channel on screen, streamed to one viewer.
 *
 * The view is a local client of the channel's proxy session (`sessions.join`), so VLC, HLS and the
 * Home app watching one channel hold one tuner and one upstream. What the session sends (PAT, PMT,
 * a keyframe first) is held until its PMT and the H.264 SPS say whether the video can be copied
 * (H.264, progressive, no larger and not much richer than asked) or must be encoded; then one
 * ffmpeg reads it on stdin and writes plain RTP for video and audio to two relays (camera-rtp.ts),
 * which add SRTP and send it to the viewer.
 *
 * A zap on the box (the monitor reports another channel) switches the view: the ffmpeg and the
 * session client end, and a new pair starts on the new channel with the same relays, so the viewer
 * keeps one continuous SRTP stream. ffmpeg is restarted rather than fed the new channel because
 * another TS in the same input breaks its timestamps (and its codec parameters may differ).
 *
 * Everything here (ffmpeg, relays, the monitor listener, the session client) ends with stop(), with
 * the view's own end, or with the owner's signal. Events: 'ended' (reason) once when the view ends
 * on its own; 'stopped' once after stop() (for the feed's count; not part of LiveView).
 */
import { EventEmitter } from 'node:events';
import { childLifetime } from '../clock';
import type { VideoEncoder } from '../config/types';
import { Logger, sentences } from '../logger';
import type { ReceiverMonitor, ReceiverState } from '../receiver/monitor';
import { parseServiceRef, ServiceRef } from '../receiver/service-ref';
import { CAMERA_AUDIO_KBPS_DEFAULT, CAMERA_COPY_BITRATE_SLACK, CAMERA_PROBE_MAX_BYTES, SRTP_AUTH_TAG_BYTES } from '../settings';
import type { LiveView, LiveViewRequest } from './camera-feed';
import { RtpRelay } from './camera-rtp';
import { ClientSink, localSink } from './client-sink';
import { cameraLiveArgs, CameraLiveOptions } from './ffmpeg-args';
import { FfmpegExit, FfmpegHandle, spawnFfmpeg, SpawnFfmpeg } from './ffmpeg-process';
import { FfmpegWatchdog } from './ffmpeg-watchdog';
import { findSps, SpsInfo } from './h264-sps';
import { SessionManager } from './sessions';
import { StreamClient } from './stream-client';
import { StreamError } from './stream-error';
import { TsInspector } from './ts-inspector';
import { Pmt } from './ts';

export interface CameraLiveViewOptions {
  receiverName: string;
  monitor: Pick<ReceiverMonitor, 'state' | 'on' | 'off'>;
  sessions: Pick<SessionManager, 'join' | 'find'>;
  request: LiveViewRequest;
  ffmpegPath: string;
  encoder: VideoEncoder;
  log: Logger;
  signal: AbortSignal;
  /** The channel on screen when the view starts (a service reference). */
  channelRef: string;
  spawn?: SpawnFfmpeg;
}

/** The smallest MTU taken from a request: below it RTP packets would be mostly headers. */
const MTU_MIN_BYTES = 400;

/** What the held start of a channel's stream says about copying its video. */
export interface VideoSource {
  codec: string;
  sps?: SpsInfo;
  /** The session's input bitrate, in kbit/s; 0 when not known yet. */
  kbps: number;
}

/**
 * Copy or encode: copy only what every viewer plays as it is — H.264, progressive, no larger than
 * asked, not much richer than the bitrate asked. In doubt (no SPS, no bitrate yet), encode.
 * Returns the reason for the log line.
 */
export function chooseVideo(source: VideoSource, asked: LiveViewRequest['video']): { copy: boolean; why: string } {
  const { sps } = source;
  if (source.codec !== 'h264') return { copy: false, why: `${source.codec} video` };
  if (!sps) return { copy: false, why: 'no H.264 parameters found' };
  if (sps.interlaced) return { copy: false, why: `interlaced ${sps.width}x${sps.height}` };
  if (sps.width > asked.width || sps.height > asked.height) return { copy: false, why: `${sps.width}x${sps.height} is larger than ${asked.width}x${asked.height}` };
  if (source.kbps <= 0) return { copy: false, why: 'the bitrate is not known yet' };
  if (source.kbps > asked.maxBitrateKbps * CAMERA_COPY_BITRATE_SLACK) return { copy: false, why: `${Math.round(source.kbps)} kbit/s is more than the ${asked.maxBitrateKbps} kbit/s asked` };
  return { copy: true, why: `H.264 ${sps.width}x${sps.height} at ${Math.round(source.kbps)} kbit/s fits` };
}

export class CameraLiveView extends EventEmitter implements LiveView {
  private readonly lifetime: AbortController;
  private readonly video: RtpRelay;
  private readonly audio: RtpRelay;
  private ports: { video: number; audio: number } | undefined;
  private run: LiveRun | undefined;
  /** Zaps run one after another: each waits for the previous ffmpeg to exit. */
  private switching: Promise<void> = Promise.resolve();
  private finished = false;
  private stopping: Promise<void> | undefined;
  /** The channel the view should show: the box's, as the monitor last reported it. */
  private wanted: string;
  /** Why the view ended on its own; undefined while it runs or after stop(). */
  endedWith: string | undefined;
  private readonly onState = (state: ReceiverState): void => {
    const ref = state.channel?.ref;
    if (!ref || state.power !== 'on' || this.finished || ref === this.wanted) return;
    this.wanted = ref;
    this.switching = this.switching.then(() => this.switchTo(ref)).catch((error: unknown) => this.end(sentences(`The live view of ${this.options.receiverName} could not follow the new channel: ${(error as Error).message}`)));
  };

  constructor(private readonly options: CameraLiveViewOptions) {
    super();
    this.wanted = options.channelRef;
    this.lifetime = childLifetime(options.signal);
    const { request } = options;
    const { signal } = this.lifetime;
    const fail = (error: Error): void => this.end(sentences(`The live view of ${options.receiverName} could not send to ${request.target.address}: ${error.message}`));
    const target = request.target;
    this.video = new RtpRelay({
      address: target.address, ipv6: target.ipv6, port: target.videoPort, srtpKey: request.video.srtpKey, srtpSalt: request.video.srtpSalt,
      clockRate: 90_000, signal, onError: fail, onPacket: () => this.run?.output(),
    });
    this.audio = new RtpRelay({
      address: target.address, ipv6: target.ipv6, port: target.audioPort, srtpKey: request.audio.srtpKey, srtpSalt: request.audio.srtpSalt,
      // RFC 7587: Opus's RTP clock is 48 kHz whatever the sample rate.
      clockRate: request.audio.codec === 'OPUS' ? 48_000 : request.audio.sampleRateKhz * 1000, signal, onError: fail, onPacket: () => this.run?.output(),
    });
    signal.addEventListener('abort', () => this.end('The live view ended because the plugin is shutting down.'), { once: true });
  }

  get pids(): number[] {
    const pid = this.run?.pid;
    return pid === undefined ? [] : [pid];
  }

  /**
   * Opens the relays and joins the channel's session; rejects with a sentence when it cannot (or
   * when the view ended at once: a radio channel, a session that failed on the spot).
   */
  async start(): Promise<void> {
    try {
      this.ports = { video: await this.video.open(), audio: await this.audio.open() };
      const run = this.newRun(parseServiceRef(this.options.channelRef));
      // Set before joining: the session may hand over (and end) the run within join().
      this.run = run;
      const refusal = run.join();
      if (refusal) throw new Error(sentences(`The live view of ${this.options.receiverName} cannot start: ${refusal.message}`));
    } catch (error) {
      this.finished = true;
      this.run = undefined;
      this.close();
      throw error;
    }
    if (this.endedWith) throw new Error(this.endedWith);
    this.options.monitor.on('state', this.onState);
  }

  stop(): Promise<void> {
    if (!this.stopping) {
      this.finished = true;
      this.stopping = this.shutdown().then(() => void this.emit('stopped'));
    }
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const run = this.run;
    this.run = undefined;
    this.close();
    await run?.stop();
  }

  private close(): void {
    this.options.monitor.off('state', this.onState);
    this.lifetime.abort();
    this.video.close();
    this.audio.close();
  }

  /** The view ends on its own: everything stops, and 'ended' says why, once. */
  private end(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.endedWith = reason;
    this.options.log.info(reason);
    this.stopping = this.shutdown();
    this.emit('ended', reason);
  }

  private async switchTo(ref: string): Promise<void> {
    // A later zap supersedes this one; the channel may also be the one shown already.
    if (this.finished || ref !== this.wanted || ref === this.run?.ref.ref) return;
    const old = this.run;
    this.run = undefined;
    await old?.stop();
    if (this.finished || ref !== this.wanted) return;
    const run = this.newRun(parseServiceRef(ref));
    // The new ffmpeg's RTP clock and sequence numbers start anywhere: the relays continue them.
    this.video.newRun();
    this.audio.newRun();
    this.run = run;
    const refusal = run.join();
    if (refusal) return this.end(sentences(`The live view of ${this.options.receiverName} ended at the change of channel: ${refusal.message}`));
    this.options.log.info(`The live view of ${this.options.receiverName} follows the box to ${run.name}.`);
  }

  private newRun(ref: ServiceRef): LiveRun {
    const run: LiveRun = new LiveRun(ref, this.options, this.ports!, this.lifetime.signal, (reason) => {
      if (this.run === run) this.end(reason);
    });
    return run;
  }
}

/**
 * One channel of a view: its session client and the ffmpeg that reads it. It ends (calling `onEnd`)
 * when the session ends, when it falls behind, when ffmpeg fails; stop() ends it without a call.
 */
class LiveRun {
  private client: StreamClient | undefined;
  private ffmpeg: FfmpegHandle | undefined;
  private readonly watchdog = new FfmpegWatchdog();
  private probe: TsInspector;
  private sps: SpsInfo | undefined;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private over = false;

  constructor(
    readonly ref: ServiceRef,
    private readonly options: CameraLiveViewOptions,
    private readonly ports: { video: number; audio: number },
    private readonly signal: AbortSignal,
    private readonly onEnd: (reason: string) => void,
  ) {
    this.probe = new TsInspector(ref.sid);
  }

  get name(): string {
    return this.options.sessions.find(this.ref)?.channel.name ?? (this.ref.name || this.ref.ref);
  }

  get pid(): number | undefined {
    return this.ffmpeg?.running ? this.ffmpeg.pid : undefined;
  }

  /** Joins the channel's session (starting it when nobody watches); the refusal when it cannot. */
  join(): StreamError | undefined {
    const joined = this.options.sessions.join(this.ref, this.sink(), 'HomeKit camera');
    if (joined instanceof StreamError) {
      this.over = true;
      return joined;
    }
    this.client = joined;
    return undefined;
  }

  /** The relay saw a packet of this run's ffmpeg. */
  output(): void {
    this.watchdog.output(Date.now());
  }

  /** Leaves the session and ends ffmpeg; resolves once it has exited. */
  async stop(): Promise<void> {
    this.over = true;
    this.client?.end();
    await this.ffmpeg?.stop();
  }

  private finish(reason: string): void {
    if (this.over) return;
    void this.stop();
    this.onEnd(reason);
  }

  private receive(data: Buffer): void {
    if (this.over) return;
    if (this.ffmpeg) return this.feed(data);
    this.held.push(data);
    this.heldBytes += data.length;
    const knew = this.probe.pmt !== undefined;
    this.probe.push(data);
    const pmt = this.probe.pmt;
    if (!pmt) {
      if (this.heldBytes >= CAMERA_PROBE_MAX_BYTES) this.finish(`The live view of ${this.options.receiverName} ended: the stream of ${this.name} carries no program table (PMT).`);
      return;
    }
    const video = this.probe.video;
    // H.264 needs its SPS (in the keyframe the session sends first) before copy can be decided;
    // only new bytes are searched (the next keyframe repeats an SPS a chunk boundary cut).
    if (video?.codec === 'h264' && !this.sps) {
      this.sps = findSps(knew ? data : Buffer.concat(this.held), video.pid);
      if (!this.sps && this.heldBytes < CAMERA_PROBE_MAX_BYTES) return;
    }
    const start = Buffer.concat(this.held);
    this.held = [];
    this.heldBytes = 0;
    this.startFfmpeg(pmt);
    if (this.ffmpeg) this.feed(start);
  }

  private startFfmpeg(pmt: Pmt): void {
    const { request, receiverName, log } = this.options;
    const video = pmt.streams.find((s) => s.kind === 'video');
    if (!video) return this.finish(`The live view of ${receiverName} ended: ${this.name} is a radio channel, with no picture to show.`);
    const session = this.options.sessions.find(this.ref);
    const source: VideoSource = { codec: video.codec, sps: this.sps, kbps: (session?.status().bitrateIn ?? 0) / 1000 };
    const choice = chooseVideo(source, request.video);
    const args = cameraLiveArgs(liveOptions(request, pmt, this.ports, choice.copy, this.options.encoder));
    log.info(`Live view of ${receiverName} (${this.name}) to ${request.target.address}: ${choice.copy ? 'video copied' : `video encoded with ${this.options.encoder} to fit ${request.video.width}x${request.video.height}`} (${choice.why}).`);
    const ffmpeg = (this.options.spawn ?? spawnFfmpeg)(this.options.ffmpegPath, args, {
      label: `the live view of ${receiverName}`, log: (line) => log.warn(line), signal: this.signal,
    });
    this.ffmpeg = ffmpeg;
    this.watchdog.expectOutput(Date.now());
    ffmpeg.on('exit', (exit: FfmpegExit) => {
      if (exit.stopped || this.over) return;
      const hint = choice.copy || this.options.encoder === 'libx264' ? '' : `; if this host has no ${this.options.encoder} hardware, set camera.videoEncoder to libx264`;
      this.finish(`The live view of ${receiverName} ended: ffmpeg stopped while streaming ${this.name} (exit code ${exit.code})${hint}.`);
    });
  }

  private feed(data: Buffer): void {
    const why = this.watchdog.check(this.ffmpeg!.stdin.writableLength, Date.now());
    if (why) return this.finish(`The live view of ${this.options.receiverName} ended: ffmpeg ${why} ${this.name}${this.options.encoder === 'libx264' ? ' (this host may be too slow to encode video; a smaller picture or camera.videoEncoder with hardware helps)' : ''}.`);
    this.ffmpeg!.stdin.write(data);
  }

  /** The session's bytes go to receive(); its backlog is ffmpeg's stdin, bounded by the session. */
  private sink(): ClientSink {
    const { receiverName, monitor } = this.options;
    return localSink({
      receive: (data) => this.receive(data),
      // The session drops a client whose backlog passes its bound: here, ffmpeg's unread input.
      backlog: () => this.ffmpeg?.stdin.writableLength ?? 0,
      ended: (error) => {
        const why = error ? error.message : monitor.state.power === 'standby' ? `${receiverName} went to standby` : `the stream of ${this.name} ended`;
        this.finish(sentences(`The live view of ${receiverName} ended: ${why}`));
      },
      dropped: () => this.finish(`The live view of ${receiverName} ended: ffmpeg fell behind the stream of ${this.name}.`),
    });
  }
}

/** The ffmpeg options of a view from HomeKit's request, the channel's PMT and the relays' ports. */
export function liveOptions(request: LiveViewRequest, pmt: Pmt, ports: { video: number; audio: number }, copy: boolean, encoder: VideoEncoder): CameraLiveOptions {
  const { video, audio } = request;
  const hasAudio = pmt.streams.some((s) => s.kind === 'audio');
  return {
    program: pmt.program,
    video: {
      copy, encoder,
      width: even(video.width), height: even(video.height),
      fps: Math.max(1, Math.min(60, Math.round(video.fps) || 30)),
      kbps: Math.max(100, Math.round(video.maxBitrateKbps) || 300),
      payloadType: video.payloadType, ssrc: video.ssrc, port: ports.video,
      packetBytes: Math.max(MTU_MIN_BYTES, video.mtu) - SRTP_AUTH_TAG_BYTES,
    },
    audio: hasAudio ? {
      codec: audio.codec,
      sampleRateHz: Math.round(audio.sampleRateKhz * 1000) || 16_000,
      channels: Math.max(1, Math.min(2, audio.channels || 1)),
      kbps: audio.maxBitrateKbps > 0 ? Math.round(audio.maxBitrateKbps) : CAMERA_AUDIO_KBPS_DEFAULT,
      packetTimeMs: audio.packetTimeMs || 20,
      payloadType: audio.payloadType, ssrc: audio.ssrc, port: ports.audio,
      packetBytes: Math.max(MTU_MIN_BYTES, video.mtu) - SRTP_AUTH_TAG_BYTES,
    } : undefined,
  };
}

function even(n: number): number {
  return Math.max(16, Math.round(n) & ~1);
}
