// HLS for Apple devices: master playlist with CODECS and BANDWIDTH, live media playlist, segments
// with H.264 + AAC, fed from the channel's one TS session; the session ends when players stop asking.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeLeftoverHlsFolders } from '../../src/stream/hls';
import { probe } from '../helpers/ffprobe';
import { DAS_ERSTE_HD, fetchBytes, processAlive, Stack, startStack, until, ZDF_HD } from '../helpers/stack';

describe('HLS', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ app: { hlsIdleMs: 3_000 } });
  });
  afterAll(() => stack?.stop());

  const hlsUrl = (file: string): string => `${stack.url}/hls/${DAS_ERSTE_HD}/${file}`;

  it('serves a master playlist, a live media playlist and H.264 + AAC segments from one upstream', async () => {
    stack.sim.clearRequests();
    const master = await fetchBytes(hlsUrl('index.m3u8'), Infinity, 20_000);
    expect(master.status).toBe(200);
    expect(master.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    const text = master.body.toString();
    expect(text).toMatch(/^#EXTM3U\n/);
    expect(text).toMatch(/#EXT-X-STREAM-INF:BANDWIDTH=\d{6,},CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"\nmedia\.m3u8\n/);

    const media = (await fetchBytes(hlsUrl('media.m3u8'))).body.toString();
    expect(media).toContain('#EXT-X-TARGETDURATION');
    const segment = media.split('\n').find((l) => /^seg\d{5}\.ts$/.test(l));
    expect(segment).toBeDefined();
    const body = (await fetchBytes(hlsUrl(segment!))).body;
    const streams = await probe(body);
    expect(streams.filter((s) => s.codec_type === 'video').map((s) => s.codec_name)).toEqual(['h264']);
    expect(streams.filter((s) => s.codec_type === 'audio').map((s) => s.codec_name)).toEqual(['aac', 'aac']);

    // A second player and a plain TS client share the same upstream connection.
    expect((await fetchBytes(hlsUrl('index.m3u8'))).status).toBe(200);
    const ts = await fetchBytes(`${stack.url}/${DAS_ERSTE_HD}`, 200_000);
    expect(ts.status).toBe(200);
    expect(stack.sim.requests.filter((r) => r.listener === 'stream')).toHaveLength(1);
  });

  it('ends the HLS session, the channel\'s ffmpeg and the tuner once players stop asking', async () => {
    await fetchBytes(hlsUrl('index.m3u8'), Infinity, 20_000);
    const receiver = stack.app.streams[0];
    expect(receiver.hls.count).toBe(1);
    const session = receiver.sessions.list()[0];
    const pid = session.ffmpegPid!;
    const status = JSON.parse((await fetchBytes(`${stack.url}/api/status`)).body.toString());
    expect(status.hls).toEqual([{ receiver: 'Test Box', channel: { name: 'Das Erste HD', ref: DAS_ERSTE_HD }, segments: expect.any(Number) }]);
    expect(status.hls[0].segments).toBeGreaterThan(0);
    await until(() => receiver.hls.count === 0 && receiver.sessions.list().length === 0 && stack.sim.activeStreams().length === 0, 10_000, 'the idle HLS session to end');
    // A stopping session leaves the list at once; its ffmpeg gets SIGTERM and is reaped just after.
    await until(() => !processAlive(pid), 2_000, 'the remux ffmpeg to exit');
  });

  it('refuses hostile HLS paths without tuning', async () => {
    stack.sim.clearRequests();
    expect((await fetchBytes(`${stack.url}/hls/..%2f..%2fetc/index.m3u8`)).status).toBe(400);
    // (The client normalises the dots away, so this lands on a non-reference path.)
    expect([400, 404]).toContain((await fetchBytes(`${stack.url}/hls/${DAS_ERSTE_HD}/../../etc/passwd`)).status);
    expect((await fetchBytes(`${stack.url}/hls/${DAS_ERSTE_HD}/passwd`)).status).toBe(404);
    expect((await fetchBytes(`${stack.url}/hls/${DAS_ERSTE_HD}/seg00001.ts`)).status).toBe(404);
    expect((await fetchBytes(hlsUrl('index.m3u8'), Infinity, 5_000, 'HEAD')).status).toBe(200);
    expect(stack.sim.requests.filter((r) => r.listener !== 'web')).toHaveLength(0);
  });
});

it('removes the segment folders an earlier version left behind, and nothing else', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xg2g-leftovers-'));
  try {
    for (const name of ['xg2g-hls-a1B2c3', 'xg2g-hls-zzzzzz', 'xg2g-simulator-cache', 'other']) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'seg00001.ts'), 'x');
    }
    expect(await removeLeftoverHlsFolders(dir)).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(['other', 'xg2g-simulator-cache']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('answers HLS at the tuner limit with 503 at once, keeping no HLS session for it', async () => {
  const stack = await startStack({ proxy: { maxSessions: 1 } });
  try {
    const holding = fetchBytes(`${stack.url}/${DAS_ERSTE_HD}`, 300_000, 20_000);
    await until(() => stack.app.streams[0].sessions.list().length === 1, 10_000, 'the first channel');
    const hls = await fetchBytes(`${stack.url}/hls/${ZDF_HD}/index.m3u8`, Infinity, 10_000);
    expect(hls.status).toBe(503);
    expect(hls.body.toString()).toMatch(/the only tuner is in use/);
    expect(stack.app.streams[0].hls.count).toBe(0);
    await holding;
  } finally {
    await stack.stop();
  }
});
