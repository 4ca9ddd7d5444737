/**
 * The simulator's media: encodes each stream profile once into a cache folder (encoding live would
 * starve a 2-core machine), serves a cached profile live through a `-c copy` ffmpeg loop with
 * continuous timestamps, reads real TS captures so they can be replayed byte-for-byte, and makes
 * the screenshots of `/grab`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import {
  SIM_CACHE_ENV,
  SIM_CACHE_SUBDIR,
  SIM_CACHE_VERSION,
  SIM_CAPTURE_FALLBACK_BPS,
  SIM_FFMPEG_KILL_GRACE_MS,
  SIM_GRAB_TIMEOUT_MS,
  SIM_PROFILE_DURATION_S,
  SIM_PROFILE_GOP_S,
  SIM_RANDOM_START_MAX_S,
} from '../settings';
import type { SimChannel, SimProfile } from './channels';

export const TS_PACKET = 188;
const FPS = 25;
export const PROFILES: SimProfile[] = ['hd', 'sd', 'aac', 'radio'];

export function defaultCacheDir(): string {
  return process.env[SIM_CACHE_ENV] || join(tmpdir(), SIM_CACHE_SUBDIR);
}

export function profileFile(cacheDir: string, profile: SimProfile): string {
  return join(cacheDir, `v${SIM_CACHE_VERSION}-${profile}.ts`);
}

/** ffmpeg arguments that encode one profile (lavfi test sources, so no input files are needed). */
function encodeArgs(profile: SimProfile, out: string): string[] {
  const t = String(SIM_PROFILE_DURATION_S);
  const gop = String(SIM_PROFILE_GOP_S * FPS);
  const sine = (hz: number): string[] => ['-f', 'lavfi', '-i', `sine=frequency=${hz}:sample_rate=48000`];
  const video = (size: string): string[] => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${FPS}`];
  const h264 = [
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', gop, '-keyint_min', gop,
    '-sc_threshold', '0', '-b:v', '2000k', '-maxrate', '2000k', '-bufsize', '4000k',
  ];
  const head = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'];
  // DVB signalling: AC-3 as stream_type 0x06 + descriptor 0x6A, as European broadcasters send it.
  const tail = ['-t', t, '-mpegts_flags', 'system_b', '-mpegts_service_id', '1', '-f', 'mpegts', out];
  switch (profile) {
    case 'hd':
      return [
        ...head, ...video('1280x720'), ...sine(440), ...sine(660),
        '-map', '0:v', '-map', '1:a', '-map', '2:a', ...h264,
        '-c:a', 'ac3', '-b:a:0', '448k', '-ac:a:0', '6', '-b:a:1', '192k', '-ac:a:1', '2',
        '-metadata:s:a:0', 'language=deu', '-metadata:s:a:1', 'language=eng', ...tail,
      ];
    case 'sd':
      return [
        ...head, ...video('720x576'), ...sine(440),
        '-map', '0:v', '-map', '1:a', '-c:v', 'mpeg2video', '-g', gop, '-b:v', '2500k', '-maxrate', '2500k',
        '-bufsize', '2000k', '-c:a', 'mp2', '-b:a', '192k', '-ac', '2', '-metadata:s:a:0', 'language=deu', ...tail,
      ];
    case 'aac':
      return [
        ...head, ...video('1280x720'), ...sine(550),
        '-map', '0:v', '-map', '1:a', ...h264, '-c:a', 'aac', '-profile:a', 'aac_low', '-b:a', '128k', '-ac', '2',
        '-metadata:s:a:0', 'language=deu', ...tail,
      ];
    case 'radio':
      return [
        ...head, ...sine(330), '-map', '0:a', '-c:a', 'mp2', '-b:a', '192k', '-ac', '2',
        '-metadata:s:a:0', 'language=deu', ...tail,
      ];
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited with code ${code}: ${err.trim()}`));
    });
  });
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).size > 0;
  } catch {
    return false;
  }
}

const pending = new Map<string, Promise<string>>();

/**
 * Make sure every profile is encoded in `cacheDir` and return the folder. Safe to call from several
 * processes at once: each encodes into its own temporary file and renames it into place atomically.
 */
export function ensureStreamCache(opts: { cacheDir?: string; ffmpegPath?: string } = {}): Promise<string> {
  const dir = opts.cacheDir ?? defaultCacheDir();
  const ffmpeg = opts.ffmpegPath ?? 'ffmpeg';
  const key = `${dir}\0${ffmpeg}`;
  let p = pending.get(key);
  if (!p) {
    p = (async () => {
      await fs.mkdir(dir, { recursive: true });
      // One at a time: each encode already uses both cores.
      for (const profile of PROFILES) {
        const file = profileFile(dir, profile);
        if (await exists(file)) continue;
        const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
        try {
          await run(ffmpeg, encodeArgs(profile, tmp));
          await fs.rename(tmp, file);
        } finally {
          await fs.rm(tmp, { force: true });
        }
      }
      return dir;
    })();
    pending.set(key, p);
    // A failed attempt must not be remembered: the next caller retries.
    p.catch(() => pending.delete(key));
  }
  return p;
}

/** Drops the first `bytes` bytes of a stream. */
class SkipBytes extends Transform {
  constructor(private remaining: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.remaining >= chunk.length) {
      this.remaining -= chunk.length;
      cb();
      return;
    }
    const out = this.remaining > 0 ? chunk.subarray(this.remaining) : chunk;
    this.remaining = 0;
    cb(null, out);
  }
}

export interface LiveLoop {
  readonly pid: number | undefined;
  /** The TS output (already trimmed to the random start). */
  readonly output: NodeJS.ReadableStream;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
  stop(): Promise<void>;
}

export interface LiveLoopOptions {
  file: string;
  ffmpegPath: string;
  serviceId: number;
  serviceName: string;
  provider: string;
  randomStart: boolean;
  onExit?: (code: number | null) => void;
}

/** Serve a cached profile as an endless live TS stream (`-re -stream_loop -1 -c copy`). */
export async function startLiveLoop(o: LiveLoopOptions): Promise<LiveLoop> {
  const size = (await fs.stat(o.file)).size;
  const args = [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', o.file,
    '-map', '0', '-c', 'copy', '-mpegts_service_id', String(o.serviceId), '-mpegts_flags', 'system_b',
    '-metadata', `service_name=${o.serviceName}`, '-metadata', `service_provider=${o.provider}`,
    '-f', 'mpegts', 'pipe:1',
  ];
  const child: ChildProcess = spawn(o.ffmpegPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const bytesPerS = size / SIM_PROFILE_DURATION_S;
  const maxPackets = Math.floor((bytesPerS * SIM_RANDOM_START_MAX_S) / TS_PACKET);
  // A real tune lands anywhere in the GOP: drop whole packets so the stream starts mid-GOP.
  const skip = o.randomStart ? Math.floor(Math.random() * (maxPackets + 1)) * TS_PACKET : 0;
  const output = new SkipBytes(skip);
  child.stdout?.pipe(output);
  // 'exit', not 'close': 'close' also waits for stdout to drain, which never happens once the
  // client is gone and nobody reads the pipe any more.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  child.on('exit', (code) => o.onExit?.(code));
  child.on('error', () => o.onExit?.(null));
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid,
    output,
    stop(): Promise<void> {
      if (!stopping) {
        stopping = (async () => {
          output.destroy();
          child.stdout?.destroy();
          if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), SIM_FFMPEG_KILL_GRACE_MS);
            await exited;
            clearTimeout(timer);
          }
        })();
      }
      return stopping;
    },
  };
}

export interface CaptureInfo {
  file: string;
  data: Buffer;
  /** Real-time rate from the PCRs, in bytes per second. */
  bytesPerS: number;
  /** First program number in the PAT, if any. */
  sid?: number;
}

/** Read a capture and derive its real-time byte rate from the first PCR PID. */
export async function readCapture(file: string): Promise<CaptureInfo> {
  const data = await fs.readFile(file);
  if (data.length < TS_PACKET || data[0] !== 0x47) {
    throw new Error(`capture ${file} is not an MPEG-TS file (no sync byte at offset 0)`);
  }
  let pcrPid = -1;
  let first: { pcr: number; pos: number } | undefined;
  let last: { pcr: number; pos: number } | undefined;
  let sid: number | undefined;
  for (let pos = 0; pos + TS_PACKET <= data.length; pos += TS_PACKET) {
    if (data[pos] !== 0x47) continue;
    const pid = ((data[pos + 1] & 0x1f) << 8) | data[pos + 2];
    const afc = (data[pos + 3] >> 4) & 0x3;
    let payload = pos + 4;
    if (afc & 0x2) {
      const afLen = data[pos + 4];
      if (afLen >= 7 && data[pos + 5] & 0x10 && (pcrPid === -1 || pcrPid === pid)) {
        pcrPid = pid;
        const b = pos + 6;
        const base = data[b] * 2 ** 25 + data[b + 1] * 2 ** 17 + data[b + 2] * 2 ** 9 + data[b + 3] * 2 + (data[b + 4] >> 7);
        const ext = ((data[b + 4] & 1) << 8) | data[b + 5];
        const pcr = base * 300 + ext;
        if (!first) first = { pcr, pos };
        last = { pcr, pos };
      }
      payload += 1 + afLen;
    }
    if (pid === 0 && sid === undefined && data[pos + 1] & 0x40 && afc & 0x1 && payload < pos + TS_PACKET) {
      const table = payload + 1 + data[payload];
      const sectionLen = ((data[table + 1] & 0x0f) << 8) | data[table + 2];
      const end = Math.min(table + 3 + sectionLen - 4, pos + TS_PACKET);
      for (let i = table + 8; i + 4 <= end; i += 4) {
        const program = (data[i] << 8) | data[i + 1];
        if (program !== 0) {
          sid = program;
          break;
        }
      }
    }
  }
  let bytesPerS = SIM_CAPTURE_FALLBACK_BPS;
  if (first && last && last.pcr > first.pcr) {
    bytesPerS = (last.pos - first.pos) / ((last.pcr - first.pcr) / 27_000_000);
  }
  return { file, data, bytesPerS, sid };
}

/**
 * The `/grab` screenshot: one JPEG of a test pattern `width` pixels wide in 16:9 (one lavfi frame,
 * a few tens of ms: the cached streams need not be ready), or black when nothing is on screen.
 */
export function grabPicture(ffmpegPath: string, channel: SimChannel | undefined, width: number): Promise<Buffer> {
  const w = Math.max(16, width & ~1);
  const h = Math.max(16, Math.round((w * 9) / 16) & ~1);
  const source = channel && channel.width > 0 ? `testsrc2=size=${w}x${h}:rate=1` : `color=c=black:size=${w}x${h}:rate=1`;
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', source, '-frames:v', '1', '-q:v', '5', '-f', 'mjpeg', 'pipe:1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), SIM_GRAB_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && chunks.length > 0) resolve(Buffer.concat(chunks));
      else reject(new Error(`ffmpeg could not make the /grab picture (exit code ${code})`));
    });
  });
}
