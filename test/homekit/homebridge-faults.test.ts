// A real Homebridge when things go wrong: with the status port taken, the HomeKit accessories and
// MQTT still come up and the log names the port; restarted with a broken configuration, the cached
// channel switches answer Not Responding and refuse writes, and nothing reaches the receiver.
import net from 'node:net';
import { join } from 'node:path';
import { Service, Characteristic } from 'hap-nodejs';
import { startSimulator, type Simulator } from '../../src/simulator';
import { until } from '../helpers/stack';
import { startMosquitto, TestBroker, Watcher } from '../mqtt/helpers';
import { buildPlugin, findService, HapClient, Homebridge, iidOf, PIN, randomMac, removeDir, tempDir } from './harness';

jest.setTimeout(90_000);

const NOT_RESPONDING = -70402;

let sim: Simulator;
let broker: TestBroker;
let blocker: net.Server;
let taken: number;
let dir: string;
let plugins: string;
let hb: Homebridge | undefined;
let watcher: Watcher | undefined;
const username = randomMac();

function config(platform: Record<string, unknown>): unknown {
  return {
    bridge: { name: 'XG2G Faults', username, pin: PIN, advertiser: 'ciao', bind: ['127.0.0.1'] },
    platforms: [{ platform: 'XG2G', name: 'xg2g', ...platform }],
  };
}

async function stopHomebridge(): Promise<void> {
  if (!hb) return;
  hb.child.kill('SIGTERM');
  await hb.exited;
  hb = undefined;
}

beforeAll(async () => {
  sim = await startSimulator();
  broker = await startMosquitto();
  blocker = net.createServer();
  taken = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
  dir = tempDir();
  plugins = buildPlugin(dir);
}, 60_000);

afterAll(async () => {
  await watcher?.close();
  hb?.kill();
  await new Promise((resolve) => blocker.close(resolve));
  await broker?.stop();
  await sim?.close();
  if (dir) removeDir(dir);
});

it('publishes the accessories and MQTT with the status port taken, naming the port in the log', async () => {
  const web = new URL(sim.webUrl);
  watcher = await Watcher.connect(broker.url, ['xg2g/#']);
  hb = new Homebridge(join(plugins, 'homebridge-xg2g'), join(dir, 'storage'), config({
    receivers: [{ name: 'Fault Box', host: web.hostname, port: Number(web.port), streamTarget: sim.streamUrl, refreshInterval: 1 }],
    proxy: { listen: '127.0.0.1:0' }, api: { listen: `127.0.0.1:${taken}` },
    mqtt: { enabled: true, url: broker.url },
  }));
  const bridgePort = Number((await hb.waitFor(/\(XG2G Faults\) is running on port (\d+)/))[1]);
  await hb.waitFor(/Fault Box(?: [0-9A-F]{4})? is running on port (\d+)/);
  const line = (await hb.waitFor(new RegExp(`[^\\n]*api\\.listen[^\\n]*`)))[0];
  expect(line).toContain(`port ${taken}`);
  expect(line).toContain('is in use');

  const bridge = new HapClient(bridgePort);
  await until(async () => (await bridge.accessories()).filter((a) => findService(a, Service.Switch.UUID)).length > 0, 10_000, 'channel switches');
  await watcher.waitFor('xg2g/fault_box/availability', (p) => p === 'online', 10_000);
  await watcher.waitFor('xg2g/fault_box/power', (p) => p === 'ON', 10_000);
  // The proxy, on its own free port, serves as usual.
  const proxy = /Serving streams and status on (http:\/\/[0-9.]+:\d+)/.exec(hb.log)?.[1];
  expect((await fetch(`${proxy}/healthz`)).ok).toBe(true);
  await stopHomebridge();
});

it('marks the cached channel switches Not Responding while the configuration is broken', async () => {
  hb = new Homebridge(join(plugins, 'homebridge-xg2g'), join(dir, 'storage'), config({
    receivers: [{ name: 'Fault Box', host: 'http://not a host/', port: 70000 }],
  }));
  const bridgePort = Number((await hb.waitFor(/\(XG2G Faults\) is running on port (\d+)/))[1]);
  await hb.waitFor(/cached accessory\(ies\) show Not Responding/);
  expect(hb.log).toMatch(/receivers\[0\]\.host/);

  const bridge = new HapClient(bridgePort);
  const switches = (await bridge.accessories()).filter((a) => findService(a, Service.Switch.UUID));
  expect(switches.length).toBeGreaterThan(0);
  sim.clearRequests();
  for (const accessory of switches.slice(0, 3)) {
    const on = iidOf(findService(accessory, Service.Switch.UUID)!, Characteristic.On.UUID);
    expect((await bridge.get(accessory.aid, on)).status).toBe(NOT_RESPONDING);
    expect(await bridge.put(accessory.aid, on, true)).toBe(NOT_RESPONDING);
  }
  expect(sim.requests.filter((r) => r.path === '/api/zap')).toHaveLength(0);
  await stopHomebridge();
});
