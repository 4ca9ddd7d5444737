// The core's parts start on their own: a taken port turns off only the part that wanted it (one
// log line naming the setting and the port), and a stop while starting closes what was opened.
import net from 'node:net';
import { App } from '../../src/app';
import { loadConfig } from '../../src/config';
import { API_LISTEN_DEFAULT, API_LISTEN_DEFAULT_HOMEBRIDGE } from '../../src/settings';
import { startSimulator, type Simulator } from '../../src/simulator';
import { recordingLogger } from '../helpers/stack';
import { freePort } from '../mqtt/helpers';

let sim: Simulator;
let blocker: net.Server;
let taken: number;

beforeAll(async () => {
  sim = await startSimulator();
  blocker = net.createServer();
  taken = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
});
afterAll(async () => {
  await new Promise((resolve) => blocker.close(resolve));
  await sim.close();
});

function block(proxyListen: string, apiListen: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const web = new URL(sim.webUrl);
  return {
    receivers: [{ name: 'Test Box', host: web.hostname, port: Number(web.port), streamTarget: sim.streamUrl }],
    proxy: { listen: proxyListen }, api: { listen: apiListen }, ...extra,
  };
}

/** True when nothing listens on the port any more (a new listener can take it). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

it('runs the proxy and the receivers when the API port is taken, naming the setting and the port', async () => {
  const logs: string[] = [];
  const app = new App(loadConfig({ env: {}, block: block('127.0.0.1:0', `127.0.0.1:${taken}`) }), recordingLogger(logs));
  try {
    await app.start();
    expect(app.proxyUrl).toBeDefined();
    expect((await fetch(`${app.proxyUrl}/healthz`)).ok).toBe(true);
    const line = logs.filter((l) => l.includes(String(taken)));
    expect(line).toHaveLength(1);
    expect(line[0]).toMatch(new RegExp(`^error the second \\(API\\) listener is off: port ${taken} .* in use .*set api\\.listen \\(XG2G_LISTEN\\) to a free port`));
  } finally {
    await app.stop();
  }
});

it('runs the API listener when the proxy port is taken, and has no proxy URL', async () => {
  const logs: string[] = [];
  const app = new App(loadConfig({ env: {}, block: block(`127.0.0.1:${taken}`, '127.0.0.1:0') }), recordingLogger(logs));
  try {
    await app.start();
    expect(app.proxyUrl).toBeUndefined();
    expect(app.listeners).toHaveLength(1);
    expect((await fetch(`${app.listeners[0].url}/healthz`)).ok).toBe(true);
    expect(logs.find((l) => l.includes('proxy.listen'))).toMatch(new RegExp(`stream proxy is off: port ${taken} .*XG2G_PROXY_LISTEN`));
  } finally {
    await app.stop();
  }
});

it('closes every listener and the embedded broker when stopped while starting', async () => {
  const [proxyPort, apiPort, brokerPort] = [await freePort(), await freePort(), await freePort()];
  const config = loadConfig({
    env: {},
    block: block(`127.0.0.1:${proxyPort}`, `127.0.0.1:${apiPort}`, { mqtt: { embeddedBroker: { enabled: true, port: brokerPort } } }),
  });
  // Stop at several points of start-up: before, between and after the parts open.
  for (const delayMs of [0, 1, 5, 20, 100]) {
    const app = new App(config, recordingLogger([]));
    const starting = app.start();
    await new Promise((r) => setTimeout(r, delayMs));
    await app.stop();
    await starting;
    for (const port of [proxyPort, apiPort, brokerPort]) expect(await portFree(port)).toBe(true);
  }
});

it('keeps the second listener off under Homebridge unless configured, and on :18080 for xg2g', () => {
  const receivers = [{ host: '192.0.2.1' }];
  expect(loadConfig({ env: {}, block: { receivers } }).api.listen).toBe(API_LISTEN_DEFAULT);
  expect(loadConfig({ env: {}, block: { receivers }, apiListenDefault: API_LISTEN_DEFAULT_HOMEBRIDGE }).api.listen).toBe('');
  expect(loadConfig({ env: {}, block: { receivers, api: { listen: ':18080' } }, apiListenDefault: API_LISTEN_DEFAULT_HOMEBRIDGE }).api.listen).toBe(':18080');
  expect(loadConfig({ env: { XG2G_LISTEN: ':18081' }, block: { receivers }, apiListenDefault: API_LISTEN_DEFAULT_HOMEBRIDGE }).api.listen).toBe(':18081');
});
