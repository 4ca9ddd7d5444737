// The MQTT side as users run it: `xg2g serve` in its own process (the sources, transpiled on load).
// A kill -9 of a process serving two receivers turns the bridge `offline` through the last will of
// its one connection, and Home Assistant would then show every entity of both receivers
// unavailable; XG2G_MQTT_BROKER_PORT runs the embedded broker, and a clean stop says `offline`.
// In-process: a broker that is down at start holds nothing up, and is used once it appears.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bridgeTopics, receiverTopics } from '../../src/mqtt/topics';
import { Simulator, startSimulator } from '../../src/simulator';
import { until } from '../helpers/stack';
import {
  discoveryConfigs, freePort, haAvailable, MqttStack, receiverBlock, retainedSnapshot, startAedes, startMosquitto, startMqttStack, TestBroker, Watcher,
} from './helpers';

const ROOT = resolve(__dirname, '../..');
const T = receiverTopics('xg2g', 'receiver');
const B = bridgeTopics('xg2g');

/** Loads .ts files by transpiling them (no type check): the child runs the current sources. */
const REGISTER = `
const ts = require(${JSON.stringify(join(ROOT, 'node_modules/typescript'))});
const fs = require('fs');
require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true },
  });
  module._compile(outputText, filename);
};
`;

describe('xg2g serve with MQTT, in its own process', () => {
  let dir: string;
  let register: string;
  let sim: Simulator;
  let sim2: Simulator;
  let child: ChildProcess | undefined;
  let watcher: Watcher | undefined;
  let broker: TestBroker | undefined;
  let output = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xg2g-mqtt-process-'));
    register = join(dir, 'register.js');
    writeFileSync(register, REGISTER);
    sim = await startSimulator();
    // A second box (its own MAC, so its own Home Assistant device).
    sim2 = await startSimulator({ mac: '00:1d:ec:0e:4a:32' });
  });

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    child = undefined;
    await watcher?.close();
    watcher = undefined;
    await broker?.stop();
    broker = undefined;
  });

  afterAll(async () => {
    await sim.close();
    await sim2.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function serve(env: Record<string, string>, args: string[] = []): ChildProcess {
    output = '';
    const proc = spawn(process.execPath, ['-r', register, join(ROOT, 'src/cli.ts'), 'serve', ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        // Receiver one from the environment, unless a config file names the receivers.
        ...(args.length === 0 ? { XG2G_OWI_BASE: sim.webUrl, XG2G_PROXY_TARGET: sim.streamUrl } : {}),
        XG2G_PROXY_LISTEN: '127.0.0.1:0', XG2G_LISTEN: '', ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child = proc;
    return proc;
  }

  const exitOf = (proc: ChildProcess): Promise<number | string | null> => new Promise((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) r(proc.exitCode ?? proc.signalCode);
    else proc.once('exit', (code, signal) => r(code ?? signal));
  });

  it('leaves every entity of every receiver unavailable through the one last will when the process is killed with -9', async () => {
    broker = await startMosquitto();
    watcher = await Watcher.connect(broker.url, ['xg2g/#', 'homeassistant/#']);
    const config = join(dir, 'two-receivers.json');
    writeFileSync(config, JSON.stringify({
      receivers: [receiverBlock(sim, 'Living Room'), receiverBlock(sim2, 'Bedroom')],
      proxy: { listen: '127.0.0.1:0' }, api: { listen: '' }, mqtt: { enabled: true, url: broker.url },
    }));
    const proc = serve({}, ['--config', config]);
    const receivers = [receiverTopics('xg2g', 'living_room'), receiverTopics('xg2g', 'bedroom')];
    await watcher.waitFor(B.availability, (p) => p === 'online', 20_000);
    for (const t of receivers) {
      await watcher.waitFor(t.availability, (p) => p === 'online');
      await watcher.waitFor(t.field('power'), (p) => p === 'ON');
    }
    const entities = (): Array<[string, Record<string, unknown>]> => [...discoveryConfigs(watcher!)];
    await until(() => new Set(entities().map(([, c]) => (c.device as { name: string }).name)).size === 2, 10_000, `both receivers' discovery (${output})`);
    await new Promise((r) => setTimeout(r, 500));
    const before = entities();
    expect(before.filter(([, c]) => !haAvailable(c, watcher!.latest)).map(([t]) => t)).toEqual([]);
    proc.kill('SIGKILL');
    await exitOf(proc);
    await watcher.waitFor(B.availability, (p) => p === 'offline', 10_000);
    // The receivers' own topics keep their last value; the bridge topic every entity lists decides.
    const retained = await retainedSnapshot(broker.url, ['xg2g/#']);
    expect(retained.get(B.availability)).toBe('offline');
    expect(entities().filter(([, c]) => haAvailable(c, retained)).map(([t]) => t)).toEqual([]);
    expect(entities().length).toBe(before.length);
  }, 60_000);

  it('runs the embedded broker from XG2G_MQTT_BROKER_PORT and says offline on a clean stop', async () => {
    const port = await freePort();
    const proc = serve({ XG2G_MQTT_BROKER_PORT: String(port) });
    await until(async () => {
      try {
        watcher = await Watcher.connect(`mqtt://127.0.0.1:${port}`, ['xg2g/#']);
        return true;
      } catch {
        return false;
      }
    }, 20_000, `the embedded broker (${output})`);
    await watcher!.waitFor(T.availability, (p) => p === 'online', 10_000);
    await watcher!.waitFor(T.field('channel'), (p) => p === 'Das Erste HD');
    proc.kill('SIGTERM');
    await watcher!.waitFor(T.availability, (p) => p === 'offline', 10_000);
    expect(await exitOf(proc)).toBe(0);
    expect(output).not.toMatch(/ERROR|Unhandled|TypeError/);
  }, 40_000);
});

describe('a broker that is down at start', () => {
  let stack: MqttStack | undefined;
  let broker: TestBroker | undefined;
  let watcher: Watcher | undefined;

  afterEach(async () => {
    await watcher?.close();
    await stack?.stop();
    await broker?.stop();
  });

  it('holds nothing up, logs once, and is used as soon as it appears', async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    stack = await startMqttStack({ brokerUrl: url });
    // The proxy answers while nothing listens on the broker's port.
    expect((await fetch(`${stack.app.proxyUrl}/healthz`)).ok).toBe(true);
    await until(() => stack!.logs.some((l) => /nothing answers/.test(l)), 5_000, 'the warning');
    // Changes while offline are not queued; the latest state is what arrives later.
    stack.sim.setState({ volume: 61 });
    stack.sim.setState({ volume: 62 });
    await until(() => stack!.app.receivers[0].monitor.state.volume === 62, 5_000, 'the poll');
    broker = await startAedes(port);
    watcher = await Watcher.connect(url, ['xg2g/#']);
    await watcher.waitFor(receiverTopics('xg2g', 'living_room').availability, (p) => p === 'online', 10_000);
    await watcher.waitFor(receiverTopics('xg2g', 'living_room').field('volume'), (p) => p === '62');
    expect(watcher.messages.filter((m) => m.topic.endsWith('/volume')).map((m) => m.text)).toEqual(['62']);
    expect(stack.logs.filter((l) => /nothing answers/.test(l))).toHaveLength(1);
  }, 30_000);
});
