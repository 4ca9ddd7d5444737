/**
 * HomeKit as a part of `xg2g demo`: a real Homebridge (the pinned dev dependency) in a temporary
 * storage folder, loading this plugin from the repository and configured against the simulator the
 * demo started, so a newcomer can add the bridge and the TV in the Home app. Homebridge's own log
 * goes to a file in that folder; the part prints the pairing code and ports, and stops Homebridge
 * (SIGTERM, then SIGKILL) when the demo ends.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PLATFORM_NAME, PLUGIN_NAME } from '../settings';
import type { DemoPart } from './demo';
import { simulatorReceiver } from './demo-receiver';
import { portFree } from './ports';

/** HAP's usual bridge port, used when free so the demo looks like a normal Homebridge. */
const BRIDGE_PORT_PREFERRED = 51826;
/** How long Homebridge may take to publish the bridge, and then the TV, in ms. */
const BRIDGE_START_TIMEOUT_MS = 30_000;
const TV_PUBLISH_TIMEOUT_MS = 15_000;
/** Time Homebridge gets after SIGTERM before SIGKILL, in ms (it exits by itself after 5 s). */
const STOP_GRACE_MS = 8_000;
const BRIDGE_NAME = 'XG2G Demo';
const TV_NAME = 'Simulator';

/** The folder holding this package's package.json (the repository when run from a clone). */
function packageRoot(): string | undefined {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === PLUGIN_NAME) return dir;
    } catch {
      // Not here: look one level up.
    }
    dir = dirname(dir);
  }
  return undefined;
}

function homebridgeBin(): string | undefined {
  try {
    return join(dirname(require.resolve('homebridge/package.json')), 'bin', 'homebridge');
  } catch {
    return undefined;
  }
}

/** A random setup code; HAP refuses a few trivial ones (all digits equal, 123-45-678, 876-54-321). */
function randomPin(): string {
  for (;;) {
    const d = Array.from({ length: 8 }, () => randomInt(10)).join('');
    if (/^(\d)\1{7}$/.test(d) || d === '12345678' || d === '87654321') continue;
    return `${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5)}`;
  }
}

function randomMac(): string {
  // Locally administered unicast (0x02 bit set, 0x01 clear), so it never matches a real device.
  return [0x0e, ...Array.from({ length: 5 }, () => randomInt(256))].map((b) => b.toString(16).padStart(2, '0')).join(':').toUpperCase();
}

function waitForLog(read: () => string, pattern: RegExp, child: ChildProcess, timeoutMs: number): Promise<RegExpExecArray | undefined> {
  return new Promise((resolve) => {
    const deadline = Date.now() + timeoutMs;
    const check = (): void => {
      const m = pattern.exec(read());
      if (m || child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        resolve(m ?? undefined);
        return;
      }
      setTimeout(check, 100);
    };
    check();
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

export const homebridgePart: DemoPart = {
  title: 'HomeKit (Homebridge with this plugin)',
  async start(ctx) {
    const sim = ctx.simulator;
    if (!sim) throw new Error('the HomeKit part needs the simulator part before it');
    const root = packageRoot();
    const bin = homebridgeBin();
    if (!root || !existsSync(join(root, 'dist', 'index.js'))) {
      return { lines: ['not started: the plugin is not built (npm run demo builds it first)'], close: async () => undefined };
    }
    if (!bin) {
      return { lines: ['not started: Homebridge is not installed (it is a dev dependency: run the demo from a clone after npm ci)'], close: async () => undefined };
    }

    const dir = mkdtempSync(join(tmpdir(), 'xg2g-demo-homebridge-'));
    const pin = randomPin();
    const bridgePort = (await portFree('0.0.0.0', BRIDGE_PORT_PREFERRED)) ? BRIDGE_PORT_PREFERRED : undefined;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({
      // ciao is HAP-NodeJS's own mDNS advertiser: no avahi or dbus needed.
      bridge: { name: BRIDGE_NAME, username: randomMac(), pin, port: bridgePort, advertiser: 'ciao' },
      platforms: [{
        platform: PLATFORM_NAME, name: 'xg2g',
        // The camera is on so the demo shows the Home app's live view of the simulated channel.
        receivers: [{ ...simulatorReceiver(sim, TV_NAME), cameraAccessory: true }],
        // Its own proxy on a free port, so it never clashes with the demo's proxy part.
        proxy: { listen: `${ctx.host}:0` }, api: { listen: '' }, mqtt: { enabled: false },
      }],
    }, null, 2));

    const logFile = join(dir, 'homebridge.log');
    const logStream = createWriteStream(logFile);
    let log = '';
    const child = spawn(process.execPath, [bin, '-I', '-Q', '-U', dir, '-P', root, '--strict-plugin-resolution'], {
      env: { ...ctx.io.env, PATH: ctx.io.env.PATH ?? process.env.PATH, HOME: dir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer): void => {
      log += chunk.toString();
      logStream.write(chunk);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const close = async (): Promise<void> => {
      await stopChild(child);
      await new Promise<void>((resolve) => logStream.end(resolve));
      rmSync(dir, { recursive: true, force: true });
    };

    try {
      const bridge = await waitForLog(() => log, new RegExp(`\\(${BRIDGE_NAME}\\) is running on port (\\d+)`), child, BRIDGE_START_TIMEOUT_MS);
      if (!bridge) {
        const tail = log.trim().split('\n').slice(-15).join('\n');
        throw new Error(`Homebridge did not start within ${BRIDGE_START_TIMEOUT_MS / 1000} s. Its last lines:\n${tail}`);
      }
      const tv = await waitForLog(() => log, new RegExp(`${TV_NAME}(?: [0-9A-F]{4})? is running on port (\\d+)`), child, TV_PUBLISH_TIMEOUT_MS);
      const payload = /X-HM:\/\/\S+/.exec(log)?.[0];
      const lines = [
        `pairing code               ${pin}  (Home app → Add Accessory → More options → "${BRIDGE_NAME}")`,
        `bridge (HAP) port          ${bridge[1]}, on every interface so the Home app can find it`,
      ];
      if (payload) lines.push(`setup payload              ${payload}  (as a QR code it pairs in one scan)`);
      lines.push(tv
        ? `TV accessory port          ${tv[1]}  (add "${TV_NAME}" separately, same code; then try the iOS Remote)`
        : 'TV accessory               not published yet: see the log below');
      lines.push(`camera                     "${TV_NAME} Live" on the bridge: snapshots and live view of the channel on screen`);
      lines.push(`HAP without pairing (-I)   curl -H 'Authorization: ${pin}' http://127.0.0.1:${bridge[1]}/accessories`);
      lines.push(`Homebridge log             ${logFile}`);
      return { lines, close };
    } catch (error) {
      await close();
      throw error;
    }
  },
};
