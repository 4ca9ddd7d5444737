// Test helpers for the HomeKit camera feed: a stack with a camera on its receiver, JPEG checks,
// free UDP ports, a receiving ffmpeg that decrypts SRTP from an SDP file, and a live-view request.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CameraFeed, LiveViewRequest } from '../../src/stream/camera-feed';
import { Stack, StackOptions, startStack, until } from '../helpers/stack';

const run = promisify(execFile);

/** A stack whose receiver has the camera, polled every second so zaps and standby show quickly. */
export async function startCameraStack(options: StackOptions = {}): Promise<Stack> {
  const stack = await startStack({ ...options, receiver: { cameraAccessory: true, refreshInterval: 1, ...options.receiver } });
  await until(() => stack.app.receivers[0].monitor.state.power === 'on' && stack.app.receivers[0].channels().size > 0, 10_000, 'the box to be polled');
  return stack;
}

export function feedOf(stack: Stack): CameraFeed {
  const feed = stack.app.cameraFeeds.get(stack.app.receivers[0]);
  if (!feed) throw new Error('the receiver has no camera feed');
  return feed;
}

/** Starts with SOI (FF D8) and ends with EOI (FF D9). */
export function isJpeg(data: Buffer): boolean {
  return data.length > 4 && data[0] === 0xff && data[1] === 0xd8 && data[data.length - 2] === 0xff && data[data.length - 1] === 0xd9;
}

/** Width and height of an image as ffprobe reads it. */
export async function imageSize(data: Buffer, dir: string): Promise<{ width: number; height: number }> {
  const file = join(dir, `picture-${randomBytes(4).toString('hex')}.jpg`);
  writeFileSync(file, data);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json', file]);
  const [stream] = (JSON.parse(stdout) as { streams: Array<{ width: number; height: number }> }).streams;
  return stream;
}

/**
 * Two free even UDP ports on 127.0.0.1 whose next port is free too (ffmpeg's RTP receiver takes
 * port+1 for RTCP). Bound and released: another process could take them meanwhile, which the
 * loopback-only tests accept.
 */
export async function freePortPairs(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const a = createSocket('udp4');
    const port = await new Promise<number>((resolve) => a.bind(0, '127.0.0.1', () => resolve(a.address().port)));
    const even = port % 2 === 0 ? port : port + 1;
    const sockets = [a];
    let ok = true;
    for (const p of [even, even + 1].filter((p) => p !== port)) {
      const s = createSocket('udp4');
      ok = ok && await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.bind(p, '127.0.0.1', () => resolve(true));
      });
      sockets.push(s);
    }
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => { try { s.close(() => resolve()); } catch { resolve(); } })));
    if (ok && !ports.includes(even)) ports.push(even);
  }
  return ports;
}

export function liveRequest(videoPort: number, audioPort: number, video: Partial<LiveViewRequest['video']> = {}): LiveViewRequest {
  return {
    target: { address: '127.0.0.1', ipv6: false, videoPort, audioPort },
    video: { width: 640, height: 360, fps: 25, maxBitrateKbps: 800, payloadType: 99, ssrc: 0x9abcdef0, srtpKey: randomBytes(16), srtpSalt: randomBytes(14), mtu: 1378, ...video },
    audio: { codec: 'OPUS', sampleRateKhz: 24, channels: 1, maxBitrateKbps: 24, payloadType: 110, ssrc: 0x12345678, srtpKey: randomBytes(16), srtpSalt: randomBytes(14), packetTimeMs: 20 },
  };
}

/** The SDP a HomeKit controller would build for `request`: SRTP per media with its key and salt. */
export function sdpFor(request: LiveViewRequest): string {
  const inline = (key: Buffer, salt: Buffer): string => Buffer.concat([key, salt]).toString('base64');
  const { target, video, audio } = request;
  return [
    'v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=xg2g camera test', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=video ${target.videoPort} RTP/SAVP ${video.payloadType}`, `a=rtpmap:${video.payloadType} H264/90000`,
    `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${inline(video.srtpKey, video.srtpSalt)}`,
    `m=audio ${target.audioPort} RTP/SAVP ${audio.payloadType}`, `a=rtpmap:${audio.payloadType} opus/48000/2`,
    `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${inline(audio.srtpKey, audio.srtpSalt)}`, '',
  ].join('\n');
}

/** A receiving ffmpeg: reads the SDP, decrypts, records `seconds` of both media into `out` (Matroska). */
export function receive(sdpFile: string, out: string, seconds: number): { done: Promise<{ code: number | null; stderr: string }>; kill(): void } {
  const child = spawn('ffmpeg', [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'file,udp,rtp,srtp',
    '-i', sdpFile, '-t', String(seconds), '-map', '0', '-c', 'copy', '-y', '-f', 'matroska', out,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  return { done, kill: () => void child.kill('SIGKILL') };
}

/** ffprobe's streams of a recording with the frames it read per stream. */
export async function probeRecording(file: string): Promise<Array<{ codec_type: string; codec_name: string; width?: number; height?: number; nb_read_frames?: string }>> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,width,height,nb_read_frames', '-of', 'json', file]);
  return (JSON.parse(stdout) as { streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number; nb_read_frames?: string }> }).streams;
}

/** Process ids of the live views' ffmpeg (children of this process sending RTP), from /proc. */
export async function cameraFfmpegs(): Promise<number[]> {
  let pids: number[] = [];
  try {
    const { stdout } = await run('pgrep', ['-P', String(process.pid), 'ffmpeg']);
    pids = stdout.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('rtp');
    } catch {
      return false;
    }
  });
}
