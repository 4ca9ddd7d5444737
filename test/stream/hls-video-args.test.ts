// The ffmpeg command that turns an MPEG-2 channel's TS into H.264 + AAC for Apple HLS (hlsVideoArgs):
// libx264 as asked, a keyframe at every segment boundary, audio copied, TS on stdout; and the usual
// arguments of each hardware encoder. Those cannot run on a machine without the hardware, so only
// their argument lists are checked here (libx264's runs for real in test/players/apple-hls.test.ts).
import { VideoEncoder } from '../../src/config/types';
import { hlsVideoArgs } from '../../src/stream/ffmpeg-args';

/** The value after `flag` (the first occurrence). */
function after(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

it('encodes with libx264 veryfast, High@4.0, deinterlaced, a keyframe per segment, audio copied, TS to stdout', () => {
  const args = hlsVideoArgs({ encoder: 'libx264', program: 28106, segmentS: 2 });
  expect(args.slice(0, 3)).toEqual(['-nostdin', '-hide_banner', '-loglevel']);
  expect(args.join(' ')).toContain('-f mpegts -i pipe:0');
  expect(after(args, '-map')).toBe('0:p:28106:v:0');
  expect(args[args.lastIndexOf('-map') + 1]).toBe('0:p:28106:a?');
  expect(after(args, '-vf')).toBe('yadif=mode=send_frame:parity=auto:deint=interlaced,format=yuv420p');
  expect(after(args, '-c:v')).toBe('libx264');
  expect(after(args, '-preset')).toBe('veryfast');
  expect(after(args, '-profile:v')).toBe('high');
  expect(after(args, '-level')).toBe('4.0');
  expect(after(args, '-crf')).toBe('23');
  expect(after(args, '-maxrate')).toBe('5000k');
  expect(after(args, '-force_key_frames')).toBe('expr:gte(t,n_forced*2)');
  expect(after(args, '-c:a')).toBe('copy');
  expect(args.slice(-3)).toEqual(['-f', 'mpegts', 'pipe:1']);
  expect(args).not.toContain('-vaapi_device');
});

it('takes the first program when none is named', () => {
  const args = hlsVideoArgs({ encoder: 'libx264', segmentS: 4 });
  expect(after(args, '-map')).toBe('0:v:0');
  expect(after(args, '-force_key_frames')).toBe('expr:gte(t,n_forced*4)');
});

it('gives VA-API its render node before the input and uploads NV12 frames after deinterlacing', () => {
  const args = hlsVideoArgs({ encoder: 'h264_vaapi', segmentS: 2 });
  expect(args.slice(0, 2)).toEqual(['-vaapi_device', '/dev/dri/renderD128']);
  expect(args.indexOf('-vaapi_device')).toBeLessThan(args.indexOf('-i'));
  expect(after(args, '-vf')).toBe('yadif=mode=send_frame:parity=auto:deint=interlaced,format=nv12,hwupload');
  expect(after(args, '-c:v')).toBe('h264_vaapi');
  expect(after(args, '-profile:v')).toBe('high');
  expect(after(args, '-level')).toBe('40');
  expect(after(args, '-b:v')).toBe('4000k');
});

it('gives Quick Sync NV12 frames, its veryfast preset and IDR keyframes', () => {
  const args = hlsVideoArgs({ encoder: 'h264_qsv', segmentS: 2 });
  expect(after(args, '-vf')).toBe('yadif=mode=send_frame:parity=auto:deint=interlaced,format=nv12');
  expect(after(args, '-c:v')).toBe('h264_qsv');
  expect(after(args, '-preset')).toBe('veryfast');
  expect(after(args, '-forced_idr')).toBe('1');
  expect(after(args, '-level')).toBe('40');
});

it('asks NVENC for IDR keyframes at High@4.0', () => {
  const args = hlsVideoArgs({ encoder: 'h264_nvenc', segmentS: 2 });
  expect(after(args, '-c:v')).toBe('h264_nvenc');
  expect(after(args, '-forced-idr')).toBe('1');
  expect(after(args, '-profile:v')).toBe('high');
  expect(after(args, '-level')).toBe('4.0');
});

it('gives the V4L2 encoder (Raspberry Pi) a bitrate and a GOP, and no options it lacks', () => {
  const args = hlsVideoArgs({ encoder: 'h264_v4l2m2m', segmentS: 2 });
  expect(after(args, '-c:v')).toBe('h264_v4l2m2m');
  expect(after(args, '-b:v')).toBe('4000k');
  expect(after(args, '-g')).toBe('50');
  expect(args).not.toContain('-profile:v');
  expect(args).not.toContain('-preset');
});

it.each<VideoEncoder>(['libx264', 'h264_vaapi', 'h264_qsv', 'h264_nvenc', 'h264_v4l2m2m'])('%s: deinterlaces, forces segment keyframes, copies audio, writes TS', (encoder) => {
  const args = hlsVideoArgs({ encoder, segmentS: 2 });
  expect(after(args, '-vf')).toMatch(/^yadif=/);
  expect(after(args, '-force_key_frames')).toBe('expr:gte(t,n_forced*2)');
  expect(after(args, '-c:a')).toBe('copy');
  expect(args.filter((a) => a === '-c:v')).toHaveLength(1);
  expect(args.slice(-3)).toEqual(['-f', 'mpegts', 'pipe:1']);
});
