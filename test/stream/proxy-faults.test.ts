// Streams that misbehave, from the fake receiver: every wait has a deadline and every retry a
// budget, so a broken channel ends with a sentence, its ffmpeg gone and its tuner free.
import http from 'node:http';
import net from 'node:net';
import type { Session } from '../../src/stream/session';
import { FakeReceiver, startFakeReceiver } from '../helpers/fake-receiver';
import { probe } from '../helpers/ffprobe';
import { DAS_ERSTE_HD, fetchBytes, processAlive, Stack, startStack, streamUrl, until } from '../helpers/stack';

jest.setTimeout(60_000);

let fake: FakeReceiver | undefined;
let stack: Stack | undefined;

afterEach(async () => {
  await stack?.stop();
  await fake?.close();
  stack = undefined;
  fake = undefined;
});

it('serves the picture of a channel that announces AC-3 but carries none (splice)', async () => {
  fake = await startFakeReceiver({ kind: 'no-audio' });
  stack = await startStack({ receiver: { streamTarget: fake.url }, app: { streamTiming: { firstOutputMs: 3_000 } } });
  const response = await fetchBytes(streamUrl(stack, DAS_ERSTE_HD), 300_000, 20_000);
  expect(response.status).toBe(200);
  const streams = await probe(response.body);
  expect(streams.filter((s) => s.codec_type === 'video').map((s) => s.codec_name)).toEqual(['h264']);
  expect(stack.logs.filter((l) => l.startsWith('warn') || l.startsWith('error'))).toEqual([]);
});

it('answers 502 with a sentence when the ffmpeg remux produces nothing (AC-3 announced, absent), freeing ffmpeg and the tuner', async () => {
  fake = await startFakeReceiver({ kind: 'no-audio' });
  stack = await startStack({ receiver: { streamTarget: fake.url }, proxy: { audio: { engine: 'ffmpeg' } }, app: { streamTiming: { firstOutputMs: 3_000 } } });
  const pids: number[] = [];
  const watch = setInterval(() => {
    const pid = stack?.app.streams[0].sessions.list()[0]?.ffmpegPid;
    if (pid && !pids.includes(pid)) pids.push(pid);
  }, 50);
  try {
    const response = await fetchBytes(streamUrl(stack, DAS_ERSTE_HD), Infinity, 20_000);
    expect(response.status).toBe(502);
    expect(response.body.toString()).toMatch(/^ffmpeg produced no output for Das Erste HD within 3 s: the channel announces ac3 audio/);
  } finally {
    clearInterval(watch);
  }
  expect(pids.length).toBeGreaterThan(0);
  await until(() => stack!.app.streams[0].sessions.list().length === 0, 5_000, 'the session to end');
  await until(() => fake!.open === 0, 5_000, 'the upstream connection to close');
  await until(() => pids.every((pid) => !processAlive(pid)), 5_000, 'ffmpeg to exit');
  expect(stack.logs.filter((l) => l.includes('ffmpeg produced no output'))).toHaveLength(1);
});

it('gives up after three reconnects when a stream keeps stalling after a few seconds', async () => {
  fake = await startFakeReceiver({ kind: 'silence-after', ms: 1_500 });
  stack = await startStack({
    receiver: { streamTarget: fake.url },
    proxy: { audio: { mode: 'never' } },
    app: { streamTiming: { stallMs: 1_000, reconnectDelayMs: 100 } },
  });
  const response = await fetchBytes(streamUrl(stack, DAS_ERSTE_HD), Infinity, 30_000);
  // Headers went out with the first packet, so the end is an EOF, not a status.
  expect(response.status).toBe(200);
  expect(response.body.length).toBeGreaterThan(0);
  expect(fake.connections).toBe(4);
  const reconnects = stack.logs.filter((l) => /reconnecting to Das Erste HD \(\d of 3\)/.test(l));
  expect(reconnects).toHaveLength(3);
  expect(stack.logs.some((l) => /Stopped streaming Das Erste HD: .*stopped sending the stream/.test(l))).toBe(true);
  await until(() => stack!.app.streams[0].sessions.list().length === 0 && fake!.open === 0, 5_000, 'the session to end');
});

it('rides out a receiver burst of 8 MB at the start of a transcoded channel', async () => {
  fake = await startFakeReceiver({ kind: 'burst', bytes: 8 * 1024 * 1024 });
  stack = await startStack({ receiver: { streamTarget: fake.url } });
  const response = await fetchBytes(streamUrl(stack, DAS_ERSTE_HD), 2_000_000, 30_000);
  expect(response.status).toBe(200);
  expect(response.body.length).toBeGreaterThanOrEqual(2_000_000);
  const audio = (await probe(response.body)).filter((s) => s.codec_type === 'audio').map((s) => s.codec_name);
  expect(audio).toEqual(['aac']);
  expect(stack.logs.filter((l) => l.includes('cannot keep up'))).toEqual([]);
});

it('replaces an audio encoder that stops producing output (SIGSTOP) without reconnecting, the viewer staying connected', async () => {
  stack = await startStack();
  let bytes = 0;
  const request = http.get(streamUrl(stack, DAS_ERSTE_HD), (response) => response.on('data', (chunk: Buffer) => void (bytes += chunk.length)));
  request.on('error', () => undefined);
  try {
    const session = (): Session | undefined => stack!.app.streams[0].sessions.list()[0];
    await until(() => session()?.ffmpegPids.length === 2 && bytes > 100_000, 15_000, 'the stream');
    const [stopped, other] = session()!.ffmpegPids;
    process.kill(stopped, 'SIGSTOP');
    await until(() => session()?.ffmpegPids.length === 2 && !session()!.ffmpegPids.includes(stopped), 20_000, 'a new encoder');
    expect(session()!.ffmpegPids).toContain(other);
    expect(session()!.restarts).toBe(0);
    const before = bytes;
    await until(() => bytes > before + 100_000, 15_000, 'the stream to go on');
    await until(() => !processAlive(stopped), 5_000, 'the stopped ffmpeg to be killed');
    expect(stack.logs.some((l) => /ffmpeg stopped producing output for 5 s on the ac3 audio \(deu\) of Das Erste HD; restarting that encoder \(1 of 3\)/.test(l))).toBe(true);
  } finally {
    request.destroy();
  }
});

it('replaces a remuxing ffmpeg that stops producing output (SIGSTOP) while the viewer stays connected', async () => {
  stack = await startStack({ proxy: { audio: { engine: 'ffmpeg' } } });
  let bytes = 0;
  const request = http.get(streamUrl(stack, DAS_ERSTE_HD), (response) => response.on('data', (chunk: Buffer) => void (bytes += chunk.length)));
  request.on('error', () => undefined);
  try {
    const session = (): Session | undefined => stack!.app.streams[0].sessions.list()[0];
    await until(() => session()?.ffmpegPid !== undefined && bytes > 100_000, 15_000, 'the stream');
    const stopped = session()!.ffmpegPid!;
    process.kill(stopped, 'SIGSTOP');
    await until(() => session()?.restarts === 1 && session()?.ffmpegPid !== undefined && session()?.ffmpegPid !== stopped, 20_000, 'a new ffmpeg');
    const before = bytes;
    await until(() => bytes > before + 100_000, 15_000, 'the stream to go on');
    await until(() => !processAlive(stopped), 5_000, 'the stopped ffmpeg to be killed');
    expect(stack.logs.some((l) => /ffmpeg stopped producing output for 5 s on Das Erste HD; reconnecting/.test(l))).toBe(true);
  } finally {
    request.destroy();
  }
});

it('says a stream server that sends oversized headers answered with invalid HTTP, not that it cannot be reached', async () => {
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.write(`HTTP/1.0 200 OK\r\nX-Flood: ${'a'.repeat(64 * 1024)}\r\n\r\n`));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    stack = await startStack({ receiver: { streamTarget: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` } });
    const response = await fetchBytes(streamUrl(stack, DAS_ERSTE_HD), Infinity, 15_000);
    expect(response.status).toBe(502);
    expect(response.body.toString()).toMatch(/stream server sent an answer that is not valid HTTP \(HPE_HEADER_OVERFLOW\)/);
  } finally {
    await stack?.stop();
    stack = undefined;
    await new Promise((resolve) => server.close(resolve));
  }
});
