// The HLS video encode's ownership and failures, with ffmpeg replaced by a fake (the real one runs
// in test/players/apple-hls.test.ts): it ends with its owner's signal, a crash or a backlog that
// stays is reported once as a sentence, and nothing is written to an ffmpeg that has failed.
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { Clock } from '../../src/clock';
import { silentLogger } from '../../src/logger';
import { FFMPEG_BACKLOG_GRACE_MS } from '../../src/settings';
import { FfmpegExit, FfmpegHandle, FfmpegProcessOptions } from '../../src/stream/ffmpeg-process';
import { HlsVideoEncoder } from '../../src/stream/hls-video';
import { StreamError } from '../../src/stream/stream-error';

class FakeFfmpeg extends EventEmitter implements FfmpegHandle {
  readonly stdin = new PassThrough({ highWaterMark: 1 });
  readonly stdout = new PassThrough();
  readonly pid = 91_000;
  private exit: FfmpegExit | undefined;
  constructor(readonly args: string[], options: FfmpegProcessOptions) {
    super();
    options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }
  get running(): boolean { return this.exit === undefined; }
  crash(code: number): void { this.finish(false, code); }
  async stop(): Promise<FfmpegExit> { return this.finish(true, null); }
  async wait(): Promise<FfmpegExit> { return this.exit ?? new Promise((resolve) => this.once('exit', resolve)); }
  private finish(stopped: boolean, code: number | null): FfmpegExit {
    if (this.exit) return this.exit;
    this.exit = { code, signal: null, stopped, stderr: '' };
    this.emit('exit', this.exit);
    return this.exit;
  }
}

function setUp(encoder: 'libx264' | 'h264_vaapi' = 'libx264') {
  let now = 0;
  const clock: Clock = { now: () => now, setTimeout: () => undefined, clearTimeout: () => undefined };
  const owner = new AbortController();
  const spawned: FakeFfmpeg[] = [];
  const failures: StreamError[] = [];
  const output: Buffer[] = [];
  const video = new HlsVideoEncoder({
    ffmpegPath: 'ffmpeg', encoder, program: 28106, label: 'Das Erste', log: silentLogger, signal: owner.signal, clock,
    spawn: (_path, args, options) => {
      const fake = new FakeFfmpeg(args, options);
      spawned.push(fake);
      return fake;
    },
    onOutput: (chunk) => output.push(chunk),
    onFailure: (error) => failures.push(error),
  });
  return { video, owner, ffmpeg: spawned[0], failures, output, advance: (ms: number) => void (now += ms) };
}

it('starts one ffmpeg with the encode\'s arguments, passes its output on and ends with its owner', async () => {
  const { video, owner, ffmpeg, failures, output } = setUp();
  expect(ffmpeg.args).toContain('libx264');
  expect(ffmpeg.args).toContain('0:p:28106:v:0');
  expect(video.pid).toBe(91_000);
  ffmpeg.stdout.write(Buffer.from([0x47]));
  await new Promise((resolve) => setImmediate(resolve));
  expect(output).toHaveLength(1);
  owner.abort();
  expect(ffmpeg.running).toBe(false);
  expect(video.pid).toBeUndefined();
  await video.stop();
  expect(failures).toEqual([]);
});

it('reports a crash once, naming the encoder to change for a hardware one', () => {
  const { ffmpeg, failures } = setUp('h264_vaapi');
  ffmpeg.crash(1);
  expect(failures.map((f) => [f.kind, f.message])).toEqual([[
    'ffmpeg',
    'ffmpeg stopped while encoding the video of Das Erste to H.264 (exit code 1); if this host has no h264_vaapi hardware, set proxy.hls.videoEncoder to libx264 (encodes on the CPU)',
  ]]);
});

it('gives up on an ffmpeg that cannot keep up, once, says what to do, and writes nothing more to it', () => {
  const { video, ffmpeg, failures, advance } = setUp();
  // Nothing reads stdin: the backlog grows past the soft bound and stays.
  const chunk = Buffer.alloc(1024 * 1024, 0x47);
  for (let i = 0; i < 6; i++) video.write(chunk);
  advance(FFMPEG_BACKLOG_GRACE_MS + 1);
  video.write(chunk);
  video.write(chunk);
  expect(failures).toHaveLength(1);
  expect(failures[0].message).toBe('ffmpeg cannot keep up with encoding the video of Das Erste: this host is too slow to encode video in software; set proxy.hls.videoEncoder to a hardware encoder, or play the channel in VLC');
  expect(ffmpeg.running).toBe(false);
});
