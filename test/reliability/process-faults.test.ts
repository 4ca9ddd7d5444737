// Processes around `xg2g serve` failing: its ffmpeg killed, stopped or missing, the MQTT broker
// killed and restarted, and SIGTERM with streams running. Viewers keep their stream where that is
// possible, and nothing outlives the process.
import { startSimulator, type Simulator } from '../../src/simulator';
import { startMosquitto, TestBroker, Watcher } from '../mqtt/helpers';
import { DAS_ERSTE_HD, fetchBytes, processAlive, SERVUS_AAC, until, ZDF_HD } from '../helpers/stack';
import { record, removeBuild, scale, Served, Viewer } from './served';

jest.setTimeout(scale(180_000, 600_000));

let sim: Simulator;
let broker: TestBroker;
let watcher: Watcher | undefined;

beforeAll(async () => {
  sim = await startSimulator({ tuners: 4 });
  broker = await startMosquitto();
});

afterAll(async () => {
  await watcher?.close();
  await broker?.stop();
  await sim?.close();
  removeBuild();
});

const env = (): NodeJS.ProcessEnv => ({ XG2G_OWI_BASE: sim.webUrl, XG2G_PROXY_TARGET: sim.streamUrl });

it('keeps viewers when an audio encoder is killed or stopped, and rides out a broker restart', async () => {
  const served = new Served({ ...env(), XG2G_MQTT_URL: broker.url });
  try {
    const base = await served.url();
    watcher = await Watcher.connect(broker.url, ['xg2g/#']);
    await watcher.waitFor('xg2g/receiver/availability', (p) => p === 'online', 15_000);
    const viewer = new Viewer(`${base}/${DAS_ERSTE_HD}`);
    const outcomes: Record<string, number> = {};
    for (const signal of ['SIGKILL', 'SIGSTOP'] as const) {
      // Das Erste HD has two AC-3 tracks: one audio-only ffmpeg each; the failed one is replaced alone.
      await until(() => served.ffmpegs().length === 2 && viewer.bytes > 200_000, 20_000, 'a transcoded stream');
      const running = served.ffmpegs();
      const [pid] = running;
      process.kill(pid, signal);
      await until(() => served.ffmpegs().length === 2 && served.ffmpegs().some((p) => !running.includes(p)), 20_000, `a new ffmpeg after ${signal}`);
      const before = viewer.bytes;
      await until(() => viewer.bytes > before + 200_000, 20_000, `the stream to go on after ${signal}`);
      await until(() => !processAlive(pid), 5_000, `the ${signal} ffmpeg to be gone`);
      outcomes[signal] = viewer.bytes;
    }
    expect(viewer.ended).toBe(false);

    // The broker goes away and comes back: availability and state are published again.
    await broker.kill();
    await watcher.close();
    await broker.restart();
    watcher = await Watcher.connect(broker.url, ['xg2g/#']);
    await watcher.waitFor('xg2g/receiver/availability', (p) => p === 'online', 30_000);
    await watcher.waitFor('xg2g/receiver/power', (p) => p === 'ON', 10_000);
    viewer.close();
    record('ffmpeg killed and stopped, broker restarted', { viewerBytesAfter: outcomes, stillStreaming: !viewer.ended });
  } finally {
    expect(await served.stop()).toBe(0);
  }
});

it('answers 502 naming ffmpeg when there is none, and plays AAC channels without it', async () => {
  const served = new Served({ ...env(), PATH: '/nonexistent' });
  try {
    const base = await served.url();
    const ac3 = await fetchBytes(`${base}/${DAS_ERSTE_HD}`, Infinity, 20_000);
    expect(ac3.status).toBe(502);
    expect(ac3.body.toString()).toMatch(/ffmpeg is not installed/);
    expect((await fetchBytes(`${base}/${SERVUS_AAC}`, 200_000, 20_000)).status).toBe(200);
    expect((await fetchBytes(`${base}/hls/${SERVUS_AAC}/index.m3u8`, Infinity, 20_000)).status).toBe(200);
    expect(served.output).toMatch(/ffmpeg was not found/);
  } finally {
    expect(await served.stop()).toBe(0);
  }
});

it('stops on SIGTERM with streams running, leaving no ffmpeg and no upstream', async () => {
  const served = new Served(env());
  let ffmpegs: number[];
  let viewers: Viewer[];
  try {
    const base = await served.url();
    // Three channels need three tuners: until the box's device info loads, the proxy allows 2.
    await until(async () => JSON.parse((await fetchBytes(`${base}/api/status`)).body.toString()).receivers?.[0]?.tuners === 4, 15_000, 'the tuner count');
    viewers = [DAS_ERSTE_HD, ZDF_HD, SERVUS_AAC].map((ref) => new Viewer(`${base}/${ref}`));
    // Two AC-3 channels with two tracks each: four audio encoders; the AAC channel needs none.
    await until(() => viewers.every((v) => v.bytes > 100_000) && served.ffmpegs().length === 4, 60_000, () =>
      `three streams (bytes ${viewers.map((v) => `${v.status}:${v.bytes}`).join(', ')}; ffmpegs ${served.ffmpegs().length}; upstreams ${sim.activeStreams().length})\n${served.output.slice(-1500)}`);
    ffmpegs = served.ffmpegs();
  } finally {
    // Stopped whatever happened above, so a failing wait leaves no process behind.
    expect(await served.stop()).toBe(0);
  }
  for (const pid of ffmpegs) expect(processAlive(pid)).toBe(false);
  await until(() => sim.activeStreams().length === 0, 5_000, 'the upstreams to close');
  await until(() => viewers.every((v) => v.ended), 5_000, 'the viewers to see the end');
  record('SIGTERM with streams running', { streams: viewers.length, ffmpegs: ffmpegs.length, exitCode: 0 });
});
