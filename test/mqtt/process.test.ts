// The MQTT side as users run it: `xg2g serve` in its own process (the sources, transpiled on load),
// configured by XG2G_* variables alone. A clean stop and a kill -9 both end with availability
// `offline` (the second through the last will), and XG2G_MQTT_BROKER_PORT runs the embedded broker.
// In-process: a broker that is down at start holds nothing up, and is used once it appears.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { receiverTopics } from '../../src/mqtt/topics';
import { Simulator, startSimulator } from '../../src/simulator';
import { until } from '../helpers/stack';
import { freePort, MqttStack, retainedSnapshot, startAedes, startMosquitto, startMqttStack, TestBroker, Watcher } from './helpers';

const ROOT = resolve(__dirname, '../..');
const T = receiverTopics('xg2g', 'receiver');

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
  let child: ChildProcess | undefined;
  let watcher: Watcher | undefined;
  let broker: TestBroker | undefined;
  let output = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xg2g-mqtt-process-'));
    register = join(dir, 'register.js');
    writeFileSync(register, REGISTER);
    sim = await startSimulator();
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
    rmSync(dir, { recursive: true, force: true });
  });

  function serve(env: Record<string, string>): ChildProcess {
    output = '';
    const proc = spawn(process.execPath, ['-r', register, join(ROOT, 'src/cli.ts'), 'serve'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '', XG2G_OWI_BASE: sim.webUrl, XG2G_PROXY_TARGET: sim.streamUrl,
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

  it('turns availability offline through the last will when the process is killed with -9', async () => {
    broker = await startMosquitto();
    watcher = await Watcher.connect(broker.url, ['xg2g/#']);
    const proc = serve({ XG2G_MQTT_URL: broker.url });
    await watcher.waitFor(T.availability, (p) => p === 'online', 20_000);
    await watcher.waitFor(T.field('power'), (p) => p === 'ON');
    proc.kill('SIGKILL');
    await exitOf(proc);
    await watcher.waitFor(T.availability, (p) => p === 'offline', 10_000);
    const retained = await retainedSnapshot(broker.url, [T.availability]);
    expect(retained.get(T.availability)).toBe('offline');
  }, 40_000);

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
