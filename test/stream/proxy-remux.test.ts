// The proxy against the simulator with real ffmpeg and ffprobe: AC-3 and MP2 channels come out as
// AAC-LC with the video copied; an AAC channel passes through unchanged without any ffmpeg.
import { execFileSync } from 'node:child_process';
import { probe } from '../helpers/ffprobe';
import { DAS_ERSTE_HD, DAS_ERSTE_SD, fetchBytes, SERVUS_AAC, Stack, startStack, streamUrl } from '../helpers/stack';

/** ffmpeg processes this test process started for remuxing (the simulator's own are copy loops). */
function remuxProcesses(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes('ffmpeg') && l.includes('pipe:0')).map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe('proxy remux', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sim: { randomStart: false }, proxy: { audio: { bitrate: '128k', channels: 2 } } });
  });
  afterAll(() => stack?.stop());

  it('turns an AC-3 5.1 + stereo channel into AAC-LC stereo at the configured bitrate, video copied', async () => {
    const direct = await probe((await fetchBytes(`${stack.sim.streamUrl}/${DAS_ERSTE_HD}`, 800_000)).body);
    const fetched = await fetchBytes(streamUrl(stack, DAS_ERSTE_HD), 800_000);
    expect(fetched.status).toBe(200);
    expect(fetched.headers['content-type']).toBe('video/mp2t');
    expect(fetched.headers['content-length']).toBeUndefined();
    const out = await probe(fetched.body);

    const videoIn = direct.find((s) => s.codec_type === 'video')!;
    const videoOut = out.filter((s) => s.codec_type === 'video');
    expect(videoOut).toHaveLength(1);
    expect(videoOut[0]).toMatchObject({ codec_name: videoIn.codec_name, width: videoIn.width, height: videoIn.height });
    expect(direct.filter((s) => s.codec_type === 'audio').map((s) => s.codec_name)).toEqual(['ac3', 'ac3']);

    const audio = out.filter((s) => s.codec_type === 'audio');
    expect(audio.map((s) => s.tags?.language)).toEqual(['deu', 'eng']);
    for (const track of audio) {
      expect(track).toMatchObject({ codec_name: 'aac', profile: 'LC', channels: 2 });
      const bitrate = Number(track.bit_rate);
      expect(bitrate).toBeGreaterThan(100_000);
      expect(bitrate).toBeLessThan(160_000);
    }
  });

  it('transcodes the MP2 audio of an SD channel and copies its MPEG-2 video', async () => {
    const fetched = await fetchBytes(streamUrl(stack, DAS_ERSTE_SD), 600_000);
    expect(fetched.status).toBe(200);
    const out = await probe(fetched.body);
    expect(out.filter((s) => s.codec_type === 'video').map((s) => s.codec_name)).toEqual(['mpeg2video']);
    expect(out.filter((s) => s.codec_type === 'audio').map((s) => s.codec_name)).toEqual(['aac']);
  });

  it('passes an AAC channel through byte for byte without starting ffmpeg', async () => {
    const before = remuxProcesses();
    const proxied = fetchBytes(streamUrl(stack, SERVUS_AAC), 400_000);
    // While it streams: passthrough, no ffmpeg of ours.
    let sawSession = false;
    for (let i = 0; i < 100 && !sawSession; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const session = stack.app.streams[0].sessions.list().find((s) => s.channel.ref.ref === SERVUS_AAC);
      if (session?.mode) {
        sawSession = true;
        expect(session.mode).toBe('passthrough');
        expect(session.ffmpegPid).toBeUndefined();
        expect(remuxProcesses()).toEqual(before);
      }
    }
    expect(sawSession).toBe(true);
    const out = (await proxied).body;
    const direct = (await fetchBytes(`${stack.sim.streamUrl}/${SERVUS_AAC}`, 1_200_000)).body;

    // The proxy puts PAT and PMT in front of the first keyframe; everything after is the
    // receiver's bytes unchanged (the simulator sends the same bytes to every connection here).
    const body = out.subarray(2 * 188);
    const at = direct.indexOf(body.subarray(0, 188 * 20));
    expect(at).toBeGreaterThanOrEqual(0);
    const overlap = Math.min(body.length, direct.length - at);
    expect(overlap).toBeGreaterThan(300_000);
    expect(body.subarray(0, overlap).equals(direct.subarray(at, at + overlap))).toBe(true);
    const streams = await probe(out);
    expect(streams.filter((s) => s.codec_type === 'audio').map((s) => s.codec_name)).toEqual(['aac']);
  });
});
