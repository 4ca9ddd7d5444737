/**
 * What a receiver's HomeKit camera shows, built from the core's parts and nothing of HomeKit's: a
 * still picture of the channel on screen (from the proxy's running session, else the box's own
 * /grab, else a generated placeholder), and live views that stream the channel on screen to a
 * viewer over SRTP as a local client of the channel's proxy session (so VLC, HLS and the Home app
 * watching one channel hold one tuner). The HomeKit delegate (homekit/) talks to this interface only.
 *
 * One feed per receiver with `cameraAccessory`; the App creates them and ends them with its signal.
 * `camera.maxStreams` is counted over every receiver through one shared LiveViewCounter.
 */
import { execFile, execFileSync } from 'node:child_process';
import type { CameraConfig } from '../config/types';
import { Logger } from '../logger';
import type { OpenWebIfClient } from '../receiver/client';
import type { ReceiverMonitor } from '../receiver/monitor';
import { FFMPEG_ENCODERS_TIMEOUT_MS } from '../settings';
import { ChannelStreams } from './channel-streams';
import { CameraLiveView } from './camera-live-view';
import { CameraSnapshots } from './camera-snapshot';

export type CameraAudioCodec = 'AAC-eld' | 'OPUS';

export interface LiveViewRequest {
  /** Where the viewer (the iPhone, the Apple TV) receives: its address and RTP ports. */
  target: { address: string; ipv6: boolean; videoPort: number; audioPort: number };
  video: {
    width: number; height: number; fps: number; maxBitrateKbps: number; payloadType: number; ssrc: number;
    /** SRTP master key (16 bytes) and salt (14 bytes), AES_CM_128_HMAC_SHA1_80. */
    srtpKey: Buffer; srtpSalt: Buffer;
    /** Largest RTP packet the viewer takes, in bytes (SRTP's tag included). */
    mtu: number;
  };
  audio: {
    codec: CameraAudioCodec; sampleRateKhz: number; channels: number; maxBitrateKbps: number; payloadType: number; ssrc: number;
    srtpKey: Buffer; srtpSalt: Buffer;
    /** Audio per RTP packet, in ms. */
    packetTimeMs: number;
  };
}

export interface LiveView {
  /** The ffmpeg(s) running for this view now (one; none between a zap's stop and start). */
  readonly pids: number[];
  /** Ends the view and its ffmpeg; resolves once ffmpeg has exited. Idempotent; no 'ended' after it. */
  stop(): Promise<void>;
  /** The view ended on its own (ffmpeg failed, the session ended, the app stops): a sentence. Once. */
  on(event: 'ended', listener: (reason: string) => void): this;
}

export interface CameraFeed {
  /**
   * A JPEG of the channel on screen, `width`×`height` (fit, aspect kept). Never rejects: the running
   * session's cached keyframe (no new tuner, no wait), else the box's `/grab?format=jpg&r=<width>`
   * (cached ≥ 10 s: repeated grabs stall weak boxes), else a generated image saying "in standby" /
   * "unreachable" / "no picture".
   */
  snapshot(width: number, height: number): Promise<Buffer>;
  /** Starts streaming the current channel to the target over SRTP; rejects with a sentence when over camera.maxStreams or the box is off/unreachable. */
  startLiveView(request: LiveViewRequest): Promise<LiveView>;
  /** Which audio codecs this ffmpeg can encode (AAC-ELD needs libfdk_aac): the delegate advertises them. */
  readonly audioCodecs: CameraAudioCodec[];
  readonly activeLiveViews: number;
  /** Ends every live view and waits for their ffmpeg (the App's signal does the same without waiting). */
  stop(): Promise<void>;
}

/** What a feed needs of its receiver (a `Receiver` is one). */
export interface CameraSource {
  readonly name: string;
  readonly client: Pick<OpenWebIfClient, 'grab'>;
  readonly monitor: Pick<ReceiverMonitor, 'state' | 'polled' | 'on' | 'off'>;
}

export interface CameraFeedOptions {
  receiver: CameraSource;
  streams: ChannelStreams;
  camera: CameraConfig;
  /** '' = no ffmpeg installed: snapshots come from /grab or a fixed picture, live views are refused. */
  ffmpegPath: string;
  log: Logger;
  /** The App's lifetime: every ffmpeg and timer of the feed ends with it. */
  signal: AbortSignal;
  /** Shared across receivers for camera.maxStreams. */
  liveViews: LiveViewCounter;
}

/** Live views running over every camera, against camera.maxStreams (CPU is the limit, not tuners). */
export class LiveViewCounter {
  private count = 0;

  constructor(readonly max: number) {}

  get active(): number {
    return this.count;
  }

  /** A slot for one view, or undefined when all are taken; `release` is idempotent. */
  take(): { release(): void } | undefined {
    if (this.count >= this.max) return undefined;
    this.count++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.count--;
      },
    };
  }
}

export function createCameraFeed(options: CameraFeedOptions): CameraFeed {
  return new Feed(options);
}

/**
 * Which audio codecs an ffmpeg encodes for HomeKit, from `ffmpeg -encoders`: AAC-ELD needs
 * libfdk_aac (absent from Debian's build), Opus needs libopus. Asked once per binary; the App
 * awaits this before it creates the feeds, so the feeds' synchronous look-up finds it answered.
 */
export function probeAudioCodecs(ffmpegPath: string): Promise<CameraAudioCodec[]> {
  let known = probes.get(ffmpegPath);
  if (!known) {
    known = new Promise((resolve) => {
      if (ffmpegPath === '') return resolve(codecsOf(''));
      execFile(ffmpegPath, ['-hide_banner', '-encoders'], { timeout: FFMPEG_ENCODERS_TIMEOUT_MS, windowsHide: true }, (error, stdout) => {
        resolve(codecsOf(error ? '' : stdout));
      });
    });
    void known.then((codecs) => answered.set(ffmpegPath, codecs));
    probes.set(ffmpegPath, known);
  }
  return known;
}

const probes = new Map<string, Promise<CameraAudioCodec[]>>();
const answered = new Map<string, CameraAudioCodec[]>();

/** The answer of probeAudioCodecs, asked synchronously when nobody awaited it first (tests, tools). */
function audioCodecsNow(ffmpegPath: string): CameraAudioCodec[] {
  let codecs = answered.get(ffmpegPath);
  if (!codecs) {
    let listing = '';
    try {
      if (ffmpegPath !== '') listing = execFileSync(ffmpegPath, ['-hide_banner', '-encoders'], { timeout: FFMPEG_ENCODERS_TIMEOUT_MS, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // No listing: Opus is assumed below, and a live view says what went wrong if it was not there.
    }
    codecs = codecsOf(listing);
    answered.set(ffmpegPath, codecs);
  }
  return codecs;
}

/**
 * AAC-ELD first when libfdk_aac is there (every HomeKit controller takes it), then Opus. Opus is
 * always offered: HomeKit needs at least one codec, and without ffmpeg no live view starts anyway.
 */
function codecsOf(encoders: string): CameraAudioCodec[] {
  const has = (name: string): boolean => new RegExp(`^\\s*A\\S*\\s+${name}\\s`, 'm').test(encoders);
  return has('libfdk_aac') ? ['AAC-eld', 'OPUS'] : ['OPUS'];
}

class Feed implements CameraFeed {
  private readonly snapshots: CameraSnapshots;
  private readonly views = new Set<CameraLiveView>();
  readonly audioCodecs: CameraAudioCodec[];

  constructor(private readonly options: CameraFeedOptions) {
    const { receiver, streams, ffmpegPath, log, signal } = options;
    this.audioCodecs = audioCodecsNow(ffmpegPath);
    this.snapshots = new CameraSnapshots({ receiver, sessions: streams.sessions, ffmpegPath, log, signal });
  }

  get activeLiveViews(): number {
    return this.views.size;
  }

  snapshot(width: number, height: number): Promise<Buffer> {
    return this.snapshots.take(width, height);
  }

  async startLiveView(request: LiveViewRequest): Promise<LiveView> {
    const { receiver, streams, camera, ffmpegPath, log, signal, liveViews } = this.options;
    const name = receiver.name;
    if (signal.aborted) throw new Error(`The live view of ${name} cannot start: the plugin is shutting down.`);
    if (ffmpegPath === '') throw new Error(`The live view of ${name} needs ffmpeg, which is not installed: install ffmpeg (e.g. "apt install ffmpeg") or set proxy.ffmpegPath.`);
    const state = receiver.monitor.state;
    if (!state.reachable) throw new Error(`${name} is not reachable, so there is no live picture; check that it is on and on the network.`);
    if (state.power !== 'on') throw new Error(`${name} is in standby, so there is no live picture; turn it on first.`);
    if (!state.channel) throw new Error(`${name} shows no channel, so there is no live picture.`);
    if (request.audio.codec === 'AAC-eld' && !this.audioCodecs.includes('AAC-eld')) {
      throw new Error(`The live view of ${name} asked for AAC-ELD audio, which this ffmpeg cannot encode (it has no libfdk_aac).`);
    }
    const slot = liveViews.take();
    if (!slot) {
      throw new Error(`The live view of ${name} was refused: ${liveViews.max} live view(s) already run, the limit set by camera.maxStreams (each costs an encoder's CPU).`);
    }
    const view = new CameraLiveView({
      receiverName: name, monitor: receiver.monitor, sessions: streams.sessions, request, ffmpegPath,
      encoder: camera.videoEncoder, log, signal,
      // The monitor's ref is a string; the view follows it (and its zaps) from here on.
      channelRef: state.channel.ref,
    });
    this.views.add(view);
    // However the view ends (its own end, stop(), a failed start), its slot is free again.
    view.once('ended', () => this.forget(view, slot));
    view.once('stopped', () => this.forget(view, slot));
    try {
      await view.start();
    } catch (error) {
      this.forget(view, slot);
      throw error;
    }
    return view;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.views].map((v) => v.stop()));
  }

  private forget(view: CameraLiveView, slot: { release(): void }): void {
    this.views.delete(view);
    slot.release();
  }
}
