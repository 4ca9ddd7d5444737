// The camera's decisions and command lines on their own: copy or encode, the live view's ffmpeg
// arguments for every encoder (hardware ones cannot run here, so their arguments are what is
// tested), the SPS reader against streams ffmpeg made, and the audio codecs an ffmpeg offers.
import { execFileSync } from 'node:child_process';
import { chooseVideo, liveOptions } from '../../src/stream/camera-live-view';
import { probeAudioCodecs } from '../../src/stream/camera-feed';
import { cameraAudioEncodeArgs, cameraLiveArgs, cameraVideoEncodeArgs, frameArgs } from '../../src/stream/ffmpeg-args';
import { findSps } from '../../src/stream/h264-sps';
import { TsInspector } from '../../src/stream/ts-inspector';
import type { Pmt } from '../../src/stream/ts';
import type { VideoEncoder } from '../../src/config/types';
import { liveRequest } from './helpers';

const asked = liveRequest(5000, 5002, { width: 1280, height: 720, maxBitrateKbps: 2000 }).video;
const progressive720 = { width: 1280, height: 720, interlaced: false, profile: 100, level: 40 };

describe('copy or encode', () => {
  it('copies progressive H.264 no larger and not much richer than asked', () => {
    expect(chooseVideo({ codec: 'h264', sps: progressive720, kbps: 2500 }, asked)).toMatchObject({ copy: true });
  });

  it.each([
    ['MPEG-2 video', { codec: 'mpeg2video', kbps: 2000 }, /mpeg2video video/],
    ['no SPS', { codec: 'h264', kbps: 2000 }, /no H\.264 parameters/],
    ['interlaced 1080i', { codec: 'h264', sps: { ...progressive720, width: 1920, height: 1080, interlaced: true }, kbps: 2000 }, /interlaced 1920x1080/],
    ['larger than asked', { codec: 'h264', sps: { ...progressive720, width: 1920, height: 1080 }, kbps: 2000 }, /1920x1080 is larger than 1280x720/],
    ['an unknown bitrate', { codec: 'h264', sps: progressive720, kbps: 0 }, /not known yet/],
    ['a broadcast bitrate for a phone', { codec: 'h264', sps: progressive720, kbps: 8000 }, /8000 kbit\/s is more than the 2000/],
  ])('encodes %s', (_name, source, why) => {
    const choice = chooseVideo(source, asked);
    expect(choice.copy).toBe(false);
    expect(choice.why).toMatch(why);
  });
});

describe('live view arguments', () => {
  const pmt: Pmt = { program: 10301, pcrPid: 256, streams: [
    { pid: 256, streamType: 0x1b, kind: 'video', codec: 'h264', language: '', needsTranscode: false, descriptors: [] },
    { pid: 257, streamType: 0x06, kind: 'audio', codec: 'ac3', language: 'deu', needsTranscode: true, descriptors: [] },
  ] };
  const request = liveRequest(5000, 5002, { width: 640, height: 360, fps: 30, maxBitrateKbps: 299, ssrc: 0xfedcba98, mtu: 1378 });

  it('copies video to the video relay and encodes Opus to the audio relay, packets sized for SRTP\'s tag', () => {
    const args = cameraLiveArgs(liveOptions(request, pmt, { video: 40000, audio: 40002 }, true, 'libx264'));
    const text = args.join(' ');
    expect(text).toContain('-map 0:p:10301:v:0 -c:v copy -an -sn -dn -payload_type 99');
    // HomeKit's SSRC is unsigned; ffmpeg's option is a signed int of the same bits.
    expect(text).toContain(`-ssrc ${0xfedcba98 | 0} -f rtp rtp://127.0.0.1:40000?rtcpport=40000&pkt_size=1368`);
    expect(text).toContain('-map 0:p:10301:a:0 -c:a libopus -application lowdelay -frame_duration 20 -ar 24000 -ac 1 -b:a 24k');
    expect(text).toContain(`-payload_type 110 -ssrc ${0x12345678} -f rtp rtp://127.0.0.1:40002?rtcpport=40002&pkt_size=1368`);
    expect(text).not.toContain('srtp');
  });

  it('leaves the audio output out for a channel without audio', () => {
    const silent = { ...pmt, streams: pmt.streams.filter((s) => s.kind === 'video') };
    const args = cameraLiveArgs(liveOptions(request, silent, { video: 40000, audio: 40002 }, false, 'libx264'));
    expect(args.filter((a) => a === '-f' ).length).toBe(2);
    expect(args.join(' ')).not.toContain('40002');
  });

  it('encodes with libx264 for low latency at the size, rate and bitrate asked', () => {
    const args = cameraVideoEncodeArgs({ encoder: 'libx264', width: 640, height: 360, fps: 30, kbps: 299 }).join(' ');
    expect(args).toBe('-vf yadif=mode=send_frame:parity=auto:deint=interlaced,scale=640:360:force_original_aspect_ratio=decrease:force_divisible_by=2,format=yuv420p'
      + ' -c:v libx264 -preset ultrafast -tune zerolatency -profile:v main -level:v 3.1 -sc_threshold 0 -fpsmax 30 -g 60 -b:v 299k -maxrate 299k -bufsize 299k');
    expect(cameraVideoEncodeArgs({ encoder: 'libx264', width: 1920, height: 1080, fps: 30, kbps: 2000 })).toEqual(expect.arrayContaining(['-level:v', '4.0']));
  });

  it.each<[VideoEncoder, RegExp]>([
    ['h264_vaapi', /^-vf yadif=.*,scale=.*,format=nv12,hwupload -c:v h264_vaapi -profile:v main -level 31 -bf 0 -fpsmax 25 -g 50 -b:v 800k/],
    ['h264_qsv', /^-vf yadif=.*,scale=.*,format=nv12 -c:v h264_qsv -preset veryfast -profile:v main -level 31 -low_power 0 -bf 0 -fpsmax 25/],
    ['h264_nvenc', /^-vf yadif=.*,format=yuv420p -c:v h264_nvenc -preset p1 -tune ll -zerolatency 1 -profile:v main -level 3\.1 -bf 0 -fpsmax 25/],
    ['h264_v4l2m2m', /^-vf yadif=.*,format=yuv420p -c:v h264_v4l2m2m -fpsmax 25 -g 50 -b:v 800k -maxrate 800k -bufsize 800k$/],
  ])('gives %s its hardware arguments', (encoder, expected) => {
    expect(cameraVideoEncodeArgs({ encoder, width: 640, height: 360, fps: 25, kbps: 800 }).join(' ')).toMatch(expected);
  });

  it('opens the VAAPI render node before the input, only when encoding with it', () => {
    const vaapi = cameraLiveArgs(liveOptions(request, pmt, { video: 1, audio: 2 }, false, 'h264_vaapi'));
    expect(vaapi.slice(0, 2)).toEqual(['-vaapi_device', '/dev/dri/renderD128']);
    expect(vaapi.indexOf('-vaapi_device')).toBeLessThan(vaapi.indexOf('-i'));
    expect(cameraLiveArgs(liveOptions(request, pmt, { video: 1, audio: 2 }, true, 'h264_vaapi'))).not.toContain('-vaapi_device');
  });

  it('encodes AAC-ELD with libfdk_aac and a global header, and fits Opus frames to the packet time', () => {
    expect(cameraAudioEncodeArgs({ codec: 'AAC-eld', sampleRateHz: 16000, channels: 1, kbps: 24, packetTimeMs: 30 }).join(' '))
      .toBe('-c:a libfdk_aac -profile:a aac_eld -flags +global_header -ar 16000 -ac 1 -b:a 24k -af aresample=rematrix_maxval=1.0');
    expect(cameraAudioEncodeArgs({ codec: 'OPUS', sampleRateHz: 16000, channels: 1, kbps: 24, packetTimeMs: 30 })).toEqual(expect.arrayContaining(['-frame_duration', '20']));
    expect(cameraAudioEncodeArgs({ codec: 'OPUS', sampleRateHz: 16000, channels: 1, kbps: 24, packetTimeMs: 60 })).toEqual(expect.arrayContaining(['-frame_duration', '60']));
  });

  it('decodes one still picture fit into the size asked', () => {
    expect(frameArgs(640, 360, 1).join(' ')).toContain('-map 0:p:1:v:0 -frames:v 1 -vf yadif=mode=send_frame:parity=auto:deint=interlaced,scale=640:360:force_original_aspect_ratio=decrease');
  });
});

describe('the H.264 SPS', () => {
  /** A second of H.264 in MPEG-TS made by ffmpeg, and its video PID. */
  function sample(size: string, x264: string): { ts: Buffer; pid: number } {
    const ts = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25`, '-t', '0.2', '-c:v', 'libx264', '-preset', 'ultrafast', '-x264-params', x264, '-f', 'mpegts', 'pipe:1']);
    const inspector = new TsInspector();
    inspector.push(ts);
    return { ts, pid: inspector.video!.pid };
  }

  it('reads size, cropping and progressive scan', () => {
    // 1080 is not a multiple of 16: the SPS crops 1088 to it.
    const { ts, pid } = sample('1920x1080', 'keyint=25');
    expect(findSps(ts, pid)).toMatchObject({ width: 1920, height: 1080, interlaced: false });
  });

  it('reads interlaced coding', () => {
    const { ts, pid } = sample('720x576', 'interlaced=1');
    expect(findSps(ts, pid)).toMatchObject({ width: 720, height: 576, interlaced: true });
  });
});

describe('audio codecs', () => {
  it('offers Opus always, and AAC-ELD only with libfdk_aac', async () => {
    const listing = execFileSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' });
    const codecs = await probeAudioCodecs('ffmpeg');
    expect(codecs).toEqual(/\blibfdk_aac\b/.test(listing) ? ['AAC-eld', 'OPUS'] : ['OPUS']);
    expect(await probeAudioCodecs('')).toEqual(['OPUS']);
  });
});
