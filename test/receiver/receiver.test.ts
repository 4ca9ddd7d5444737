// The core's view of one receiver: a box that is down at start is picked up as soon as it answers.
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { ChannelList } from '../../src/receiver/channels';
import { Receiver } from '../../src/receiver/receiver';
import { startSimulator } from '../../src/simulator';
import { recordingLogger, until } from '../helpers/stack';

it('loads the channels as soon as a receiver that was down answers again', async () => {
  const sim = await startSimulator();
  const abort = new AbortController();
  const web = new URL(sim.webUrl);
  const config = loadConfig({ env: {}, block: { receivers: [{ name: 'Box', host: web.hostname, port: Number(web.port), refreshInterval: 1 }] } });
  const lines: string[] = [];
  const runtime = new Receiver({ config: config.receivers[0], log: recordingLogger(lines), signal: abort.signal, epg: false });
  try {
    sim.setFault('refuse');
    const loaded: number[] = [];
    runtime.on('loaded', (channels: ChannelList) => loaded.push(channels.size));
    runtime.start();
    await until(() => lines.some((l) => l.includes('Retrying every 30 s')), 5_000, 'the first failed load');
    expect(runtime.channels().size).toBe(0);
    sim.setFault(null);
    // Well before the 30 s retry: the monitor's next poll sees the box and triggers the load.
    await until(() => loaded.length === 1, 5_000, 'the channels');
    expect(loaded[0]).toBeGreaterThan(5);
    await until(() => runtime.summary().reachable, 5_000, 'the summary to say reachable');
    expect(runtime.summary()).toMatchObject({ reachable: true, lastError: null, tuners: 2 });
  } finally {
    abort.abort();
    runtime.close();
    await sim.close();
  }
});

it('reports a receiver that went away in its summary within a poll, and its return', async () => {
  const sim = await startSimulator();
  const abort = new AbortController();
  const web = new URL(sim.webUrl);
  const config = loadConfig({ env: {}, block: { receivers: [{ name: 'Box', host: web.hostname, port: Number(web.port), refreshInterval: 1 }] } });
  const runtime = new Receiver({ config: config.receivers[0], log: silentLogger, signal: abort.signal, epg: false });
  try {
    runtime.start();
    await until(() => runtime.channels().size > 0 && runtime.summary().reachable, 5_000, 'the first load');
    // The channels stay loaded; only the monitor's polls can tell that the box is gone.
    sim.setFault('refuse');
    await until(() => !runtime.summary().reachable, 5_000, 'the summary to say unreachable');
    expect(runtime.summary().lastError).toMatch(/^Box \(127\.0\.0\.1:\d+\) .*statusinfo/);
    sim.setFault(null);
    await until(() => runtime.summary().reachable, 10_000, 'the summary to say reachable');
    expect(runtime.summary().lastError).toBeNull();
  } finally {
    abort.abort();
    runtime.close();
    await sim.close();
  }
});
