// An idle core loads only what it uses: with MQTT off, nobody scraping /metrics and the config read
// from JSON, none of the optional packages is in the module registry (each costs an idle `xg2g
// serve` several MB resident). Each test after the first then uses one feature and sees its
// package arrive, which shows the check can fail. The tests share one registry, so they run in order.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../src/app';
import { loadConfig, readConfigFile } from '../../src/config';
import { startSimulator, type Simulator } from '../../src/simulator';
import { recordingLogger, until } from '../helpers/stack';

/** Packages an idle process must not load: only the feature that needs one loads it. */
const OPTIONAL = ['aedes', 'mqtt', 'prom-client', 'yaml'];

/** The optional packages in this test file's module registry. */
function loadedPackages(): string[] {
  const names = new Set<string>();
  for (const path of Object.keys(require.cache)) {
    const name = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(path)?.[1];
    if (name !== undefined && OPTIONAL.includes(name)) names.add(name);
  }
  return [...names].sort();
}

/** A port nothing listens on (not test/mqtt/helpers' freePort: that module loads mqtt). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

let sim: Simulator;
let dir: string;

beforeAll(async () => {
  sim = await startSimulator();
  dir = mkdtempSync(join(tmpdir(), 'xg2g-lazy-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await sim.close();
});

function receiverBlock(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const web = new URL(sim.webUrl);
  return {
    receivers: [{ name: 'Test Box', host: web.hostname, port: Number(web.port), streamTarget: sim.streamUrl }],
    proxy: { listen: '127.0.0.1:0' }, api: { listen: '' }, ...extra,
  };
}

it('an idle core with MQTT off loads none of them, and a /metrics scrape loads prom-client', async () => {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(receiverBlock()));
  const app = new App(loadConfig({ env: {}, file }), recordingLogger([]));
  try {
    await app.start();
    // Idle, but really working: channels loaded from the receiver, status and playlist answered.
    await until(() => app.receivers[0].device !== undefined && app.receivers[0].channels().size > 0, 15_000, 'the channels to load');
    expect((await fetch(`${app.proxyUrl}/api/status`)).status).toBe(200);
    expect((await fetch(`${app.proxyUrl}/playlist.m3u`)).status).toBe(200);
    expect(loadedPackages()).toEqual([]);

    const metrics = await fetch(`${app.proxyUrl}/metrics`);
    expect(await metrics.text()).toContain('xg2g_sessions_active');
    expect(loadedPackages()).toEqual(['prom-client']);
  } finally {
    await app.stop();
  }
});

it('reading a YAML config file loads yaml', () => {
  const file = join(dir, 'config.yaml');
  writeFileSync(file, 'receivers:\n  - host: 127.0.0.1\n');
  expect(loadedPackages()).not.toContain('yaml');
  expect(readConfigFile(file)).toEqual({ receivers: [{ host: '127.0.0.1' }] });
  expect(loadedPackages()).toContain('yaml');
});

it('the embedded broker alone does not load the MQTT client', async () => {
  const port = await closedPort();
  const block = receiverBlock({ mqtt: { enabled: false, embeddedBroker: { enabled: true, port } } });
  const app = new App(loadConfig({ env: {}, block }), recordingLogger([]));
  try {
    await app.start();
    // The broker really runs (aedes comes through Node's own loader under Jest, so it is not listed).
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.destroy();
    expect(loadedPackages()).not.toContain('mqtt');
  } finally {
    await app.stop();
  }
});

it('turning MQTT on loads mqtt (and still not the embedded broker)', async () => {
  expect(loadedPackages()).not.toContain('mqtt');
  // Nothing listens there: the bridge keeps retrying in the background, which is enough here.
  const url = `mqtt://127.0.0.1:${await closedPort()}`;
  const app = new App(loadConfig({ env: {}, block: receiverBlock({ mqtt: { enabled: true, url } }) }), recordingLogger([]));
  try {
    await app.start();
    expect(loadedPackages()).toContain('mqtt');
    expect(loadedPackages()).not.toContain('aedes');
  } finally {
    await app.stop();
  }
});
