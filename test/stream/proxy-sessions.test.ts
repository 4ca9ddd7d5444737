// Fan-out and lifecycle of proxy sessions against the simulator: one upstream per channel however
// many clients, clean starts for joining clients, slow clients dropped, tuners freed after the last
// client, limits answered with 503.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { TS_PACKET_SIZE } from '../../src/settings';
import { TsInspector } from '../../src/stream/ts-inspector';
import {
  ARTE_HD, channelsLoaded, DAS_ERSTE_HD, fetchBytes, processAlive, Stack, startStack, streamUrl, until, ZDF_HD,
} from '../helpers/stack';

const upstreamRequests = (stack: Stack): number => stack.sim.requests.filter((r) => r.listener !== 'web').length;

describe('fan-out', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ app: { clientQueueBytes: 256 * 1024 } });
  });
  afterAll(() => stack?.stop());

  it('serves 10 clients of one channel from one upstream request and at most one ffmpeg', async () => {
    stack.sim.clearRequests();
    const pids = new Set<number>();
    const sample = setInterval(() => {
      for (const s of stack.app.streams[0].sessions.list()) if (s.ffmpegPid) pids.add(s.ffmpegPid);
    }, 50);
    const results = await Promise.all(Array.from({ length: 10 }, () => fetchBytes(streamUrl(stack, DAS_ERSTE_HD), 300_000)));
    clearInterval(sample);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body.length).toBeGreaterThanOrEqual(300_000);
    }
    expect(upstreamRequests(stack)).toBe(1);
    expect(pids.size).toBe(1);
  });

  it('gives a joining client PAT, PMT and a keyframe within its first 64 KB', async () => {
    const first = fetchBytes(streamUrl(stack, ZDF_HD), 2_000_000, 20_000);
    await until(() => (stack.app.streams[0].sessions.list()[0]?.bytesOut ?? 0) > 600_000, 15_000, 'the session to run');
    const joiner = await fetchBytes(streamUrl(stack, ZDF_HD), 64 * 1024);
    expect(joiner.status).toBe(200);
    const head = joiner.body.subarray(0, 64 * 1024);
    const inspector = new TsInspector();
    const packets = inspector.push(head);
    expect(inspector.pat).toBeDefined();
    expect(inspector.pmt).toBeDefined();
    let keyframes = 0;
    for (let o = 0; o < packets.length; o += TS_PACKET_SIZE) if (inspector.isKeyframe(packets.subarray(o, o + TS_PACKET_SIZE))) keyframes++;
    expect(keyframes).toBeGreaterThan(0);
    await first;
  });

  it('drops a client that stops reading while another keeps receiving at full rate', async () => {
    const url = new URL(streamUrl(stack, ARTE_HD));
    // The slow client: asks for the stream, then never reads (see slow-client.py for why Python).
    const slow = spawn('python3', [join(__dirname, '..', 'helpers', 'slow-client.py'), url.hostname, url.port, url.pathname, '60'], { stdio: 'ignore' });
    try {
      await until(() => stack.app.streams[0].sessions.list().some((s) => s.channel.ref.ref === ARTE_HD && s.state === 'running'), 15_000, 'the session');
      const session = stack.app.streams[0].sessions.list().find((s) => s.channel.ref.ref === ARTE_HD)!;
      const fast = fetchBytes(url.href, Infinity, 40_000);
      await until(() => session.clientCount === 2, 5_000, 'the fast client');
      const outBefore = session.bytesOut;
      await until(() => stack.logs.some((l) => l.startsWith('warn Disconnected') && l.includes('behind')), 30_000, 'the slow client to be dropped');
      expect(session.clientCount).toBe(1);
      // The fast client kept up: it received (nearly) everything the session produced meanwhile.
      const produced = session.bytesOut - outBefore;
      await session.stop('test');
      const received = (await fast).body.length;
      expect(produced).toBeGreaterThan(100_000);
      expect(received).toBeGreaterThan(produced * 0.8);
    } finally {
      slow.kill();
    }
  }, 60_000);
});

describe('lifecycle and limits', () => {
  // The linger itself (SESSION_LINGER_MS, exactly) is checked on a fake clock in session-states.test.ts.
  it('frees the tuner and ends every ffmpeg once the last client has left', async () => {
    const stack = await startStack();
    try {
      const reading = fetchBytes(streamUrl(stack, DAS_ERSTE_HD), 400_000);
      await until(() => stack.app.streams[0].sessions.list()[0]?.ffmpegPids.length === 2, 15_000, 'the encoders to start');
      const session = stack.app.streams[0].sessions.list()[0];
      const pids = session.ffmpegPids;
      const stopped = new Promise<string>((resolve) => session.once('stopped', resolve));
      expect(stack.sim.activeStreams()).toHaveLength(1);
      await reading;
      expect(await stopped).toBe('idle');
      await until(() => pids.every((pid) => !processAlive(pid)) && stack.sim.activeStreams().length === 0, 10_000, 'ffmpeg and the upstream to end');
      expect(stack.app.streams[0].sessions.list()).toHaveLength(0);
    } finally {
      await stack.stop();
    }
  });

  it('reconnects when the receiver drops the stream mid-way, keeping its clients', async () => {
    const stack = await startStack();
    try {
      const reading = fetchBytes(streamUrl(stack, DAS_ERSTE_HD), 1_500_000, 30_000);
      await until(() => (stack.app.streams[0].sessions.list()[0]?.bytesOut ?? 0) > 300_000, 15_000, 'the stream');
      const session = stack.app.streams[0].sessions.list()[0];
      // A GUI restart on the box ends every stream; the box is back at once.
      await fetchBytes(`${stack.sim.webUrl}/api/powerstate?newstate=3`);
      await until(() => session.restarts === 1, 10_000, 'a reconnect');
      const result = await reading;
      expect(result.status).toBe(200);
      expect(result.body.length).toBeGreaterThanOrEqual(1_500_000);
      expect(session.restarts).toBe(1);
      expect(stack.sim.requests.filter((r) => r.listener === 'stream')).toHaveLength(2);
      expect(stack.logs.some((l) => l.startsWith('warn') && l.includes('reconnecting to Das Erste HD'))).toBe(true);
    } finally {
      await stack.stop();
    }
  });

  it('answers 503 naming the limit when every tuner is in use', async () => {
    const stack = await startStack({ sim: { tuners: 2 } });
    try {
      await channelsLoaded(stack);
      const a = fetchBytes(streamUrl(stack, DAS_ERSTE_HD), 200_000);
      const b = fetchBytes(streamUrl(stack, ZDF_HD), 200_000);
      await until(() => stack.app.streams[0].sessions.list().length === 2, 5_000);
      const third = await fetchBytes(streamUrl(stack, ARTE_HD));
      expect(third.status).toBe(503);
      expect(third.body.toString()).toMatch(/all 2 tuners are in use.*proxy\.maxSessions/);
      await Promise.all([a, b]);
    } finally {
      await stack.stop();
    }
  });

  // The 5 s deadline for a silent tuner is checked on a fake clock in upstream-deadlines.test.ts.
  it.each(['eof', 'http400'] as const)('answers a busy receiver tuner (%s) with a clear 503', async (busyBehaviour) => {
    const stack = await startStack({ sim: { tuners: 1, busyBehaviour }, proxy: { maxSessions: 4 } });
    try {
      const holding = fetchBytes(streamUrl(stack, DAS_ERSTE_HD), 200_000);
      await until(() => stack.sim.activeStreams().length === 1, 10_000);
      const busy = await fetchBytes(streamUrl(stack, ZDF_HD), Infinity, 20_000);
      expect(busy.status).toBe(503);
      expect(busy.body.toString()).toMatch(/tuner is busy/);
      await holding;
    } finally {
      await stack.stop();
    }
  });
});
