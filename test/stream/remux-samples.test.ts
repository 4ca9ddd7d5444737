// Every real broadcast capture through the remux pipeline (keyframe gate → ffmpeg): AAC-LC audio
// out, video copied, languages kept, and for the multi-program Rai mux only the requested program.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { remuxArgs } from '../../src/stream/ffmpeg-args';
import { FfmpegProcess } from '../../src/stream/ffmpeg-process';
import { KeyframeGate } from '../../src/stream/keyframe-gate';
import { TsInspector } from '../../src/stream/ts-inspector';
import { probe } from '../helpers/ffprobe';
import { SAMPLES } from '../helpers/samples';

const AUDIO = { codec: 'aac' as const, bitrate: '192k', channels: 2 };

/** Feeds a capture through the gate into ffmpeg the way a session does, in socket-sized chunks. */
async function remux(name: string, program?: number): Promise<{ output: Buffer; inspector: TsInspector }> {
  const file = readFileSync(join(SAMPLES, name));
  const inspector = new TsInspector(program);
  const gate = new KeyframeGate(inspector);
  const ffmpeg = new FfmpegProcess('ffmpeg', remuxArgs({ program: program ?? undefined, audio: AUDIO }), { label: name });
  const chunks: Buffer[] = [];
  ffmpeg.child.stdout.on('data', (c: Buffer) => chunks.push(c));
  for (let i = 0; i < file.length; i += 32 * 1024) {
    const out = gate.pass(inspector.push(file.subarray(i, i + 32 * 1024)));
    if (out.length > 0) ffmpeg.child.stdin.write(out);
  }
  ffmpeg.child.stdin.end();
  const exit = await ffmpeg.wait();
  expect(exit.code).toBe(0);
  return { output: Buffer.concat(chunks), inspector };
}

// Languages as ffprobe reads them from the input: ffmpeg prefers a supplementary audio descriptor's
// language over ISO 639 "qad"/"aus", so those tracks come out as "fra"/"eng".
describe.each([
  ['dvbs2-h264-ac3-cnews-tsduck009.ts', undefined, 'h264', ['fra']],
  ['dvbs2-h264-ac3-2prog-csat-tsduck035.ts', 8802, 'h264', ['fra', 'eng']],
  ['dvbt-h264-eac3-france2-tsduck026.ts', undefined, 'h264', ['fre', 'fra', 'qaa']],
  ['dvbt2-h264-mp2-canalcapital-tsduck138.ts', undefined, 'h264', [undefined]],
  ['dvbt-mpeg2-mp2-heaaclatm-abcnews-tsduck202.ts', undefined, 'mpeg2video', ['eng', 'eng']],
  ['dvbt-mpeg2-mp2-8prog-rai-tsduck108.ts', 3401, 'mpeg2video', ['ita', 'Oth', 'eng']],
])('%s (program %s)', (name, program, videoCodec, languages) => {
  it('comes out as copied video plus one AAC-LC stereo track per input audio track', async () => {
    const { output, inspector } = await remux(name, program);
    const streams = await probe(output);
    const video = streams.filter((s) => s.codec_type === 'video');
    const audio = streams.filter((s) => s.codec_type === 'audio');
    expect(video.map((s) => s.codec_name)).toEqual([videoCodec]);
    expect(audio).toHaveLength(inspector.pmt!.streams.filter((s) => s.kind === 'audio').length);
    for (const track of audio) {
      expect(track).toMatchObject({ codec_name: 'aac', profile: 'LC', channels: 2 });
    }
    expect(audio.map((s) => s.tags?.language).sort()).toEqual([...languages].sort());
    expect(streams.some((s) => s.codec_type === 'subtitle' || s.codec_type === 'data')).toBe(false);
  });
});

it('keeps only the requested program of the Rai mux, for every program', async () => {
  for (const [program, audioTracks, hasVideo] of [[3403, 2, true], [3404, 1, false], [3411, 1, true]] as const) {
    const { output } = await remux('dvbt-mpeg2-mp2-8prog-rai-tsduck108.ts', program);
    const streams = await probe(output);
    expect(streams.filter((s) => s.codec_type === 'audio')).toHaveLength(audioTracks);
    expect(streams.filter((s) => s.codec_type === 'video')).toHaveLength(hasVideo ? 1 : 0);
    expect(streams.every((s) => s.codec_type !== 'audio' || s.codec_name === 'aac')).toBe(true);
  }
});

it('starts the output on a keyframe with PAT and PMT first', async () => {
  const file = readFileSync(join(SAMPLES, 'dvbs2-h264-ac3-cnews-tsduck009.ts'));
  const inspector = new TsInspector();
  const gate = new KeyframeGate(inspector);
  const out = gate.pass(inspector.push(file));
  expect(out.length).toBeLessThan(file.length);
  const replay = new TsInspector();
  const first = replay.push(out.subarray(0, 188 * 3));
  expect(first.readUInt16BE(1) & 0x1fff).toBe(0);
  expect(replay.pmt?.program).toBe(8810);
  expect(replay.isKeyframe(out.subarray(188 * 2, 188 * 3))).toBe(true);
});
