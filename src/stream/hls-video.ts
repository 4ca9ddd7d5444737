/**
 * The video encode of an HLS session whose channel sends MPEG-2 video (SD channels): Apple devices
 * play only H.264 over HLS, so one ffmpeg reads the channel's TS as the session receives it (audio
 * already AAC), encodes the video to H.264 with a keyframe at every segment boundary and copies the
 * audio, and its MPEG-TS goes to the segmenter. The ffmpeg belongs to the HLS session: it ends with
 * the session's lifetime signal, and the session waits for it on stop. A backlog on its stdin that
 * stays (the host is too slow for a software encode) or output that stops fails the session with
 * a sentence saying so, once.
 */
import { Clock, childLifetime, systemClock } from '../clock';
import type { VideoEncoder } from '../config/types';
import { Logger } from '../logger';
import { HLS_SEGMENT_S } from '../settings';
import { hlsVideoArgs } from './ffmpeg-args';
import { FfmpegExit, FfmpegHandle, SpawnFfmpeg, spawnFfmpeg } from './ffmpeg-process';
import { FfmpegWatchdog } from './ffmpeg-watchdog';
import { StreamError } from './stream-error';

export interface HlsVideoOptions {
  ffmpegPath: string;
  encoder: VideoEncoder;
  /** Service id of the channel in the TS. */
  program?: number;
  /** Channel name, for log lines and errors. */
  label: string;
  log: Logger;
  /** The HLS session's lifetime: aborting it ends the ffmpeg. */
  signal: AbortSignal;
  clock?: Clock;
  spawn?: SpawnFfmpeg;
  /** H.264 + AAC MPEG-TS from ffmpeg, in whatever chunks the pipe gives. */
  onOutput(chunk: Buffer): void;
  /** Called at most once, after which the encoder has already stopped itself. */
  onFailure(error: StreamError): void;
}

export class HlsVideoEncoder {
  private readonly lifetime: AbortController;
  private readonly ffmpeg: FfmpegHandle;
  private readonly watchdog = new FfmpegWatchdog();
  private readonly clock: Clock;
  private failed = false;

  constructor(private readonly options: HlsVideoOptions) {
    this.clock = options.clock ?? systemClock;
    this.lifetime = childLifetime(options.signal);
    const spawn = options.spawn ?? spawnFfmpeg;
    this.ffmpeg = spawn(options.ffmpegPath, hlsVideoArgs({ encoder: options.encoder, program: options.program, segmentS: HLS_SEGMENT_S }), {
      label: `${options.label} (H.264 for HLS)`,
      log: (line) => options.log.warn(line),
      signal: this.lifetime.signal,
    });
    this.ffmpeg.stdout.on('data', (chunk: Buffer) => {
      this.watchdog.output(this.clock.now());
      if (!this.failed) options.onOutput(chunk);
    });
    this.ffmpeg.on('exit', (exit: FfmpegExit) => {
      if (exit.stopped) return;
      const hint = options.encoder === 'libx264' ? '' : `; if this host has no ${options.encoder} hardware, set proxy.hls.videoEncoder to libx264 (encodes on the CPU)`;
      this.fail(`ffmpeg stopped while encoding the video of ${options.label} to H.264 (exit code ${exit.code})${hint}`);
    });
  }

  /** The ffmpeg's process id while it runs. */
  get pid(): number | undefined {
    return this.ffmpeg.running ? this.ffmpeg.pid : undefined;
  }

  /** Feeds whole TS packets; a backlog that stays or output that stopped fails the encoder instead. */
  write(packets: Buffer): void {
    if (this.failed) return;
    const why = this.watchdog.check(this.ffmpeg.stdin.writableLength, this.clock.now());
    if (why) {
      const advice = this.options.encoder === 'libx264' ? ': this host is too slow to encode video in software; set proxy.hls.videoEncoder to a hardware encoder, or play the channel in VLC' : '';
      this.fail(`ffmpeg ${why} encoding the video of ${this.options.label}${advice}`);
      return;
    }
    this.ffmpeg.stdin.write(packets);
  }

  /** Ends the ffmpeg; resolves once it has exited. Idempotent. */
  async stop(): Promise<void> {
    this.lifetime.abort();
    await this.ffmpeg.wait();
  }

  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    void this.stop();
    this.options.onFailure(new StreamError('ffmpeg', message));
  }
}
