// Without a working ffmpeg: a configured path that does not work falls back to the one on PATH and
// says so; with none at all, channels that need AAC answer 502 naming ffmpeg, and AAC channels
// still play, as TS and as HLS (the segmenter needs no ffmpeg).
import { DAS_ERSTE_HD, fetchBytes, SERVUS_AAC, Stack, startStack, streamUrl } from '../helpers/stack';
import { probe } from '../helpers/ffprobe';

jest.setTimeout(60_000);

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

it('falls back from a configured ffmpeg that does not exist to the one on PATH, and says which runs', async () => {
  stack = await startStack({ proxy: { ffmpegPath: '/nonexistent/ffmpeg' } });
  const line = stack.logs.find((l) => l.includes('/nonexistent/ffmpeg'));
  expect(line).toMatch(/^warn The configured ffmpeg "\/nonexistent\/ffmpeg" .* does not exist\. .*Using ffmpeg \S+ from PATH \(\/\S+\) instead\.$/);
  const response = await fetchBytes(streamUrl(stack, DAS_ERSTE_HD), 400_000);
  expect(response.status).toBe(200);
  expect((await probe(response.body)).filter((s) => s.codec_type === 'audio').map((s) => s.codec_name)).toEqual(['aac', 'aac']);
});

describe('with no ffmpeg anywhere', () => {
  const path = process.env.PATH;
  beforeEach(async () => {
    process.env.PATH = '/nonexistent';
    try {
      stack = await startStack();
    } finally {
      process.env.PATH = path;
    }
  });

  it('answers 502 naming ffmpeg for a channel that needs AAC, and plays an AAC channel as TS and HLS', async () => {
    expect(stack!.logs.some((l) => /^warn ffmpeg was not found: .*Channels with AC-3, E-AC-3, MP2 or LATM audio will not play until ffmpeg is installed\.$/.test(l))).toBe(true);
    const ac3 = await fetchBytes(streamUrl(stack!, DAS_ERSTE_HD), Infinity, 20_000);
    expect(ac3.status).toBe(502);
    expect(ac3.body.toString()).toMatch(/^Das Erste HD needs its audio converted to AAC, and ffmpeg is not installed: install ffmpeg/);

    const aac = await fetchBytes(streamUrl(stack!, SERVUS_AAC), 300_000);
    expect(aac.status).toBe(200);
    const master = await fetchBytes(`${stack!.url}/hls/${SERVUS_AAC}/index.m3u8`, Infinity, 20_000);
    expect(master.status).toBe(200);
    const media = (await fetchBytes(`${stack!.url}/hls/${SERVUS_AAC}/media.m3u8`)).body.toString();
    const segment = media.split('\n').find((l) => /^seg\d{5}\.ts$/.test(l))!;
    const streams = await probe((await fetchBytes(`${stack!.url}/hls/${SERVUS_AAC}/${segment}`)).body);
    expect(streams.map((s) => s.codec_name)).toEqual(['h264', 'aac']);
  });
});
