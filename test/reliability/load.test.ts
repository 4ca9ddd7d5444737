// Load on `xg2g serve` as its own process: many viewers over several channels, then a storm of
// connections at the tuner limit. Every case reads RSS and open files before, during and after,
// and must return to within 20 % of the baseline with no ffmpeg and no upstream left.
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
  served = new Served({ XG2G_OWI_BASE: sim.webUrl, XG2G_PROXY_TARGET: sim.streamUrl });
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

it('serves many viewers over four channels from four upstreams, and gives everything back', async () => {
  const count = scale(20, 200);
  const seconds = scale(4, 20);
  const viewers = Array.from({ length: count }, (_, i) => new Viewer(`${base}/${CHANNELS[i % CHANNELS.length]}`));
  await until(() => viewers.every((v) => v.bytes > 100_000), 30_000, 'every viewer to get data');
  expect(sim.activeStreams()).toHaveLength(CHANNELS.length);
  expect(served.ffmpegs().length).toBeLessThanOrEqual(CHANNELS.length);
  let peakRss = 0;
  let peakFds = 0;
  const until_ = Date.now() + seconds * 1000;
  while (Date.now() < until_) {
    peakRss = Math.max(peakRss, served.rssMb());
    peakFds = Math.max(peakFds, served.fds());
    await new Promise((r) => setTimeout(r, 250));
  }
  const bytes = viewers.reduce((sum, v) => sum + v.bytes, 0);
  for (const v of viewers) v.close();
  await idle();
  const rss = await settles(() => served.rssMb(), baseline.rss * 1.2);
  const fds = await settles(() => served.fds(), baseline.fds + 2);
  record('viewers over four channels', { viewers: count, channels: CHANNELS.length, seconds, mbytesDelivered: Math.round(bytes / 1e6), baseline, peakRss, peakFds, rssAfter: rss, fdsAfter: fds });
  expect(viewers.every((v) => v.status === 200)).toBe(true);
  expect(rss).toBeLessThanOrEqual(baseline.rss * 1.2);
  expect(fds).toBeLessThanOrEqual(baseline.fds + 2);
  expect(served.alive()).toBe(true);
});

it('answers a storm of connections at the tuner limit with 503, holding no tuner for them', async () => {
  const holders = CHANNELS.map((ref) => new Viewer(`${base}/${ref}`));
  await until(() => holders.every((v) => v.bytes > 50_000), 30_000, 'four channels to stream');
  const total = scale(200, 3_000);
  const perSecond = scale(200, 1_000);
  const statuses = new Map<number, number>();
  let sent = 0;
  let peakFds = 0;
  while (sent < total) {
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
  for (const v of holders) v.close();
  await idle();
  const rss = await settles(() => served.rssMb(), baseline.rss * 1.2);
  const fds = await settles(() => served.fds(), baseline.fds + 2);
  record('connection storm at the tuner limit', { requests: total, perSecond, statuses: Object.fromEntries(statuses), baseline, peakFds, rssAfter: rss, fdsAfter: fds });
  expect([...statuses.keys()]).toEqual([503]);
  expect(rss).toBeLessThanOrEqual(baseline.rss * 1.2);
  expect(fds).toBeLessThanOrEqual(baseline.fds + 2);
});
