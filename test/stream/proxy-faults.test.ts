// Streams that misbehave, from the fake receiver: every wait has a deadline and every retry a
// budget, so a broken channel ends with a sentence, its ffmpeg gone and its tuner free.
import { FakeReceiver, startFakeReceiver } from '../helpers/fake-receiver';
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

it('answers 502 with a sentence when ffmpeg produces nothing (AC-3 announced, absent), freeing ffmpeg and the tuner', async () => {
  fake = await startFakeReceiver({ kind: 'no-audio' });
  stack = await startStack({ receiver: { streamTarget: fake.url }, app: { streamTiming: { firstOutputMs: 3_000 } } });
  const pids: number[] = [];
  const watch = setInterval(() => {
    const pid = stack?.app.receivers[0].sessions.list()[0]?.ffmpegPid;
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
  await until(() => stack!.app.receivers[0].sessions.list().length === 0, 5_000, 'the session to end');
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
  await until(() => stack!.app.receivers[0].sessions.list().length === 0 && fake!.open === 0, 5_000, 'the session to end');
});
