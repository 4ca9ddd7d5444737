// Load on `xg2g serve` as its own process: many viewers over several channels, then a storm of
// connections at the tuner limit. Every case runs twice: the first round grows the allocator to
// its working size (glibc keeps memory a process has used for a while), the second must not grow
// it further: RSS back within 20 % of what it was after the first round, open files back at the
// baseline, no ffmpeg and no upstream left. The cold baseline is recorded too.
import { startSimulator, type Simulator } from '../../src/simulator';
import { ARTE_HD, DAS_ERSTE_HD, DAS_ERSTE_SD, SERVUS_AAC, until, ZDF_HD } from '../helpers/stack';
import { record, removeBuild, scale, Served, settles, Viewer } from './served';

jest.setTimeout(scale(120_000, 600_000));

const CHANNELS = [DAS_ERSTE_HD, ZDF_HD, ARTE_HD, SERVUS_AAC];
let sim: Simulator;
let served: Served;
let base: string;
let baseline: { rss: number; fds: number };

/** All upstream connections and ffmpeg processes are gone. */
async function idle(): Promise<void> {
  await until(() => sim.activeStreams().length === 0 && served.ffmpegs().length === 0, 15_000, 'the proxy to go idle');
}

beforeAll(async () => {
  sim = await startSimulator({ tuners: 4 });
  // Up to 50 viewers per channel in the full run (the default limit is 10).
  const web = new URL(sim.webUrl);
  served = new Served({}, { receivers: [{ host: web.hostname, port: Number(web.port), streamTarget: sim.streamUrl }], proxy: { maxClients: 60 } });
  base = await served.url();
  await until(async () => JSON.parse(await (await fetch(`${base}/api/status`)).text()).receivers[0].tuners === 4, 10_000, 'the tuner count');
  // Warm up: one transcoded stream, so the baseline includes what any use loads once.
  const warm = new Viewer(`${base}/${DAS_ERSTE_HD}`);
  await until(() => warm.bytes > 500_000, 20_000, 'the warm-up stream');
  warm.close();
  await idle();
  await new Promise((r) => setTimeout(r, 1_000));
  baseline = { rss: served.rssMb(), fds: served.fds() };
}, 120_000);

afterAll(async () => {
  expect(await served?.stop()).toBe(0);
  await sim?.close();
  removeBuild();
});

/** RSS after the first round, once freed buffers had 5 s to be collected. */
async function settled(): Promise<number> {
  await new Promise((r) => setTimeout(r, 5_000));
  return served.rssMb();
}

/** The process's own view of its memory (heap and buffers: what a leak would grow). */
async function memory(): Promise<{ rssMb: number; heapUsedMb: number; externalMb: number }> {
  return JSON.parse(await (await fetch(`${base}/api/status`)).text()).memory;
}

/** Many viewers over the four channels for a while; resolves with what was seen. */
async function viewersRound(count: number, seconds: number): Promise<{ bytes: number; peakRss: number; peakFds: number; statuses: number[] }> {
  const viewers = Array.from({ length: count }, (_, i) => new Viewer(`${base}/${CHANNELS[i % CHANNELS.length]}`));
  let peakRss = 0;
  let peakFds = 0;
  try {
    await until(() => viewers.every((v) => v.bytes > 100_000), 30_000, 'every viewer to get data');
    expect(sim.activeStreams()).toHaveLength(CHANNELS.length);
    // One audio encoder per AC-3/MP2 track of each channel (at most two here), however many viewers.
    expect(served.ffmpegs().length).toBeLessThanOrEqual(CHANNELS.length * 2);
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      peakRss = Math.max(peakRss, served.rssMb());
      peakFds = Math.max(peakFds, served.fds());
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    for (const v of viewers) v.close();
  }
  await idle();
  return { bytes: viewers.reduce((sum, v) => sum + v.bytes, 0), peakRss, peakFds, statuses: [...new Set(viewers.map((v) => v.status))] };
}

it('serves many viewers over four channels from four upstreams, and gives everything back', async () => {
  const count = scale(20, 200);
  const seconds = scale(4, 20);
  await viewersRound(count, seconds);
  const warm = { rss: await settled(), memory: await memory() };
  const round = await viewersRound(count, seconds);
  const rss = await settles(() => served.rssMb(), warm.rss * 1.2);
  const fds = await settles(() => served.fds(), baseline.fds + 2);
  const after = await memory();
  record('viewers over four channels', {
    viewers: count, channels: CHANNELS.length, seconds, mbytesDelivered: Math.round(round.bytes / 1e6), coldBaseline: baseline, warm,
    peakRss: round.peakRss, peakFds: round.peakFds, rssAfter: rss, fdsAfter: fds, memoryAfter: after,
  });
  expect(round.statuses).toEqual([200]);
  expect(rss).toBeLessThanOrEqual(warm.rss * 1.2);
  expect(fds).toBeLessThanOrEqual(baseline.fds + 2);
  expect(served.alive()).toBe(true);
});

/** Holds four channels, then fires requests for a fifth at `perSecond`; resolves with the statuses. */
async function stormRound(total: number, perSecond: number): Promise<{ statuses: Record<string, number>; peakFds: number }> {
  const holders = CHANNELS.map((ref) => new Viewer(`${base}/${ref}`));
  const statuses = new Map<number, number>();
  let peakFds = 0;
  try {
    await until(() => holders.every((v) => v.bytes > 50_000), 30_000, 'four channels to stream');
    for (let sent = 0; sent < total;) {
      const batch = Math.min(perSecond / 10, total - sent);
      await Promise.all(Array.from({ length: batch }, async () => {
        const response = await fetch(`${base}/${DAS_ERSTE_SD}`).catch(() => undefined);
        const status = response?.status ?? -1;
        await response?.body?.cancel().catch(() => undefined);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }));
      sent += batch;
      peakFds = Math.max(peakFds, served.fds());
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sim.activeStreams()).toHaveLength(CHANNELS.length);
  } finally {
    for (const v of holders) v.close();
  }
  await idle();
  return { statuses: Object.fromEntries(statuses), peakFds };
}

it('answers a storm of connections at the tuner limit with 503, holding no tuner for them', async () => {
  const total = scale(200, 3_000);
  const perSecond = scale(200, 1_000);
  await stormRound(Math.ceil(total / 4), perSecond);
  const warm = { rss: await settled(), memory: await memory() };
  const round = await stormRound(total, perSecond);
  const rss = await settles(() => served.rssMb(), warm.rss * 1.2);
  const fds = await settles(() => served.fds(), baseline.fds + 2);
  record('connection storm at the tuner limit', { requests: total, perSecond, statuses: round.statuses, coldBaseline: baseline, warm, peakFds: round.peakFds, rssAfter: rss, fdsAfter: fds, memoryAfter: await memory() });
  expect(Object.keys(round.statuses)).toEqual(['503']);
  expect(rss).toBeLessThanOrEqual(warm.rss * 1.2);
  expect(fds).toBeLessThanOrEqual(baseline.fds + 2);
});
