// Apple players end to end against the simulator over HTTP: an iPhone asking for /<ref> is sent to
// the channel's HLS (the token kept), VLC and ?direct=1 get the TS, the redirect can be turned off;
// an MPEG-2 channel's HLS is refused with 415 and a sentence saying what to do, or, with
// proxy.hls.transcodeVideo, encoded to H.264 by an ffmpeg that ffprobe's verdict and the process
// table show ends with the HLS session.
import { execFileSync } from 'node:child_process';
import { probe } from '../helpers/ffprobe';
import { DAS_ERSTE_HD, DAS_ERSTE_SD, fetchBytes, Fetched, processAlive, Stack, startStack, until } from '../helpers/stack';

jest.setTimeout(90_000);

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const VLC = 'VLC/3.0.20 LibVLC/3.0.20';
const TOKEN = 'apple-secret';

/** GET (or HEAD) with a user agent; reads up to `bytes` of the body, then goes away as players do. */
async function ask(url: string, userAgent: string, bytes = 200_000, method = 'GET'): Promise<Fetched> {
  const answer = await fetchBytes(url, bytes, 20_000, method, { 'User-Agent': userAgent });
  if (answer.status === -1) throw new Error(`no answer to ${method} ${url}`);
  return answer;
}

/** Children of this test process that run an ffmpeg with libx264 (the simulator's loops only copy). */
function encodingFfmpegChildren(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-f', 'libx264'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('Apple players, default settings (redirect on, no video encode)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ proxy: { token: TOKEN }, app: { hlsIdleMs: 3_000 } });
  });
  afterAll(() => stack?.stop());

  it('sends an iPhone asking for /<ref> to the channel\'s HLS, keeping the token, without tuning', async () => {
    stack.sim.clearRequests();
    const answer = await ask(`${stack.url}/${DAS_ERSTE_HD}?token=${TOKEN}`, IPHONE);
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe(`/hls/${encodeURIComponent(DAS_ERSTE_HD)}/index.m3u8?token=${TOKEN}`);
    expect(stack.sim.requests.filter((r) => r.listener !== 'web')).toHaveLength(0);
    // HEAD tunes nothing either way and is not redirected.
    expect((await ask(`${stack.url}/${DAS_ERSTE_HD}?token=${TOKEN}`, IPHONE, 0, 'HEAD')).status).toBe(200);
  });

  it('gives VLC, and an iPhone asking with ?direct=1, the TS stream', async () => {
    for (const [agent, query] of [[VLC, ''], [IPHONE, '&direct=1']]) {
      const answer = await ask(`${stack.url}/${DAS_ERSTE_HD}?token=${TOKEN}${query}`, agent, 200_000);
      expect({ agent, status: answer.status, type: answer.headers['content-type'] }).toEqual({ agent, status: 200, type: 'video/mp2t' });
      expect(answer.body[0]).toBe(0x47);
    }
  });

  it('refuses HLS of an MPEG-2 channel with 415 and says why and what to do, then again without tuning', async () => {
    const url = `${stack.url}/hls/${encodeURIComponent(DAS_ERSTE_SD)}/index.m3u8?token=${TOKEN}`;
    const first = await fetchBytes(url, Infinity, 20_000);
    expect(first.status).toBe(415);
    expect(first.body.toString()).toBe(
      `Das Erste sends MPEG-2 video, and Apple devices play only H.264 over HLS: turn on proxy.hls.transcodeVideo (XG2G_HLS_TRANSCODE_VIDEO=true) to have it converted, or play /${DAS_ERSTE_SD} in VLC\n`,
    );
    expect(stack.logs.filter((l) => l.includes('sends MPEG-2 video'))).toHaveLength(1);
    const streams = stack.app.streams[0];
    expect(streams.hls.count).toBe(0);
    expect(streams.hls.ffmpegPids()).toEqual([]);
    stack.sim.clearRequests();
    const again = await fetchBytes(url, Infinity, 5_000);
    expect(again.status).toBe(415);
    expect(stack.sim.requests.filter((r) => r.listener !== 'web')).toHaveLength(0);
    expect(stack.logs.filter((l) => l.includes('sends MPEG-2 video'))).toHaveLength(1);
  });
});

it('gives an iPhone the TS stream when proxy.hls.appleRedirect is off', async () => {
  const stack = await startStack({ proxy: { hls: { appleRedirect: false } } });
  try {
    const answer = await ask(`${stack.url}/${DAS_ERSTE_HD}`, IPHONE, 100_000);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('video/mp2t');
  } finally {
    await stack.stop();
  }
});

describe('an MPEG-2 channel over HLS with proxy.hls.transcodeVideo', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ proxy: { hls: { transcodeVideo: true } }, app: { hlsIdleMs: 3_000 } });
  });
  afterAll(() => stack?.stop());

  const hlsUrl = (file: string): string => `${stack.url}/hls/${encodeURIComponent(DAS_ERSTE_SD)}/${file}`;

  it('serves H.264 + AAC segments encoded by an ffmpeg that ends with the HLS session', async () => {
    const master = await fetchBytes(hlsUrl('index.m3u8'), Infinity, 30_000);
    expect({ status: master.status, body: master.status === 200 ? '' : master.body.toString() }).toEqual({ status: 200, body: '' });
    // High profile (0x64), level 4.0 (0x28), and AAC-LC: what the encode was asked for.
    expect(master.body.toString()).toMatch(/CODECS="avc1\.64[0-9a-f]{2}28,mp4a\.40\.2"\nmedia\.m3u8\n/);

    const hls = stack.app.streams[0].hls;
    const [pid] = hls.ffmpegPids();
    expect(pid).toBeDefined();
    expect(encodingFfmpegChildren()).toEqual([pid]);

    const media = (await fetchBytes(hlsUrl('media.m3u8'))).body.toString();
    const segment = media.split('\n').find((l) => /^seg\d{5}\.ts$/.test(l));
    expect(segment).toBeDefined();
    const streams = await probe((await fetchBytes(hlsUrl(segment!))).body);
    expect(streams.filter((s) => s.codec_type === 'video').map((s) => [s.codec_name, s.profile, s.width, s.height])).toEqual([['h264', 'High', 720, 576]]);
    expect(streams.filter((s) => s.codec_type === 'audio').map((s) => [s.codec_name, s.profile])).toEqual([['aac', 'LC']]);
    expect(stack.logs.filter((l) => l.startsWith('warn') || l.startsWith('error'))).toEqual([]);

    // No player asks any more: the HLS session, its encode, the TS session and the tuner all end.
    await until(() => hls.count === 0 && stack.app.streams[0].sessions.list().length === 0 && stack.sim.activeStreams().length === 0, 15_000, 'the idle HLS session to end');
    await until(() => !processAlive(pid), 5_000, 'the H.264 encode to exit');
    expect(encodingFfmpegChildren()).toEqual([]);
  });
});
