// Radio over HLS and TS: an audio-only channel (the simulator's 'radio' profile, MP2 → AAC) has no
// keyframes to cut at, so the segmenter cuts at audio PES starts every segment length by PTS; the
// master playlist names only the audio codec, and /<ref> serves the same channel as TS.
import { probe } from '../helpers/ffprobe';
import { fetchBytes, Stack, startStack, streamUrl, until } from '../helpers/stack';

const BAYERN_3 = '1:0:2:6F1D:44D:1:C00000:0:0:0:';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ receiver: { bouquets: ['Favourites (Radio)'] }, app: { hlsIdleMs: 3_000 } });
});
afterAll(() => stack?.stop());

const hlsUrl = (file: string): string => `${stack.url}/hls/${encodeURIComponent(BAYERN_3)}/${file}`;

it('serves a radio channel as HLS: audio-only CODECS, AAC-only segments of about a segment length each', async () => {
  const master = await fetchBytes(hlsUrl('index.m3u8'), Infinity, 20_000);
  expect({ status: master.status, body: master.status === 200 ? '' : master.body.toString() }).toEqual({ status: 200, body: '' });
  expect(master.body.toString()).toMatch(/#EXT-X-STREAM-INF:BANDWIDTH=\d{5,},CODECS="mp4a\.40\.2"\nmedia\.m3u8\n/);

  // Wait for a second segment, so the durations of whole segments can be read.
  let media = '';
  await until(async () => {
    media = (await fetchBytes(hlsUrl('media.m3u8'))).body.toString();
    return (media.match(/^seg\d{5}\.ts$/gm) ?? []).length >= 2;
  }, 15_000, 'a second radio segment');
  // Durations come from the audio's PTS: each segment holds one segment length (2 s) and at most one audio PES more.
  const durations = [...media.matchAll(/^#EXTINF:([\d.]+),$/gm)].map((m) => Number(m[1]));
  for (const duration of durations) {
    expect(duration).toBeGreaterThanOrEqual(2);
    expect(duration).toBeLessThan(2.5);
  }
  const segment = media.split('\n').find((l) => /^seg\d{5}\.ts$/.test(l))!;
  const body = (await fetchBytes(hlsUrl(segment))).body;
  const streams = await probe(body);
  expect(streams.map((s) => [s.codec_type, s.codec_name, s.profile])).toEqual([['audio', 'aac', 'LC']]);
});

it('serves the radio channel as TS with AAC audio on /<ref>', async () => {
  const ts = await fetchBytes(streamUrl(stack, BAYERN_3), 100_000, 20_000);
  expect(ts.status).toBe(200);
  expect(ts.headers['content-type']).toBe('video/mp2t');
  const streams = await probe(ts.body);
  expect(streams.map((s) => [s.codec_type, s.codec_name])).toEqual([['audio', 'aac']]);
});

it('ends the radio\'s HLS session and its tuner once players stop asking', async () => {
  const streams = stack.app.streams[0];
  await until(() => streams.hls.count === 0 && streams.sessions.list().length === 0 && stack.sim.activeStreams().length === 0, 15_000, 'the idle radio session to end');
});
