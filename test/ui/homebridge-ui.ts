// Test helper: a real Homebridge with the Homebridge UI (homebridge-config-ui-x, run as Homebridge
// runs it: the "config" platform, which forks the UI server) on loopback, an admin user to log in
// with, and a stop that ends Homebridge, the UI server and the plugin's settings server together.
import { ChildProcess, spawn } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './packed-plugin';

const HOMEBRIDGE = join(ROOT, 'node_modules', 'homebridge', 'bin', 'homebridge');
export const ADMIN = { username: 'admin', password: 'xg2g-ui-test-pw' };

/** A port nothing listens on right now (the UI takes a fixed port from config.json, not 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function randomMac(): string {
  return Array.from({ length: 6 }, (_, i) => (i === 0 ? 0x0e : randomBytes(1)[0]).toString(16).padStart(2, '0')).join(':').toUpperCase();
}

/** auth.json as the UI writes it for a user added in its setup wizard. */
function writeAdmin(storage: string): void {
  const salt = randomBytes(32).toString('hex');
  const hashedPassword = pbkdf2Sync(ADMIN.password, salt, 1000, 64, 'sha512').toString('hex');
  const user = { id: 1, username: ADMIN.username, name: 'Administrator', hashedPassword, salt, admin: true };
  writeFileSync(join(storage, 'auth.json'), JSON.stringify([user], null, 4));
}

export class HomebridgeUi {
  readonly child: ChildProcess;
  readonly url: string;
  log = '';
  private readonly exited: Promise<void>;

  /** `platforms`: more platform blocks beside the UI's own (none = a fresh install of the plugin). */
  constructor(readonly pluginPath: string, readonly storage: string, readonly port: number, platforms: object[] = []) {
    writeAdmin(storage);
    this.url = `http://127.0.0.1:${port}`;
    const ui = {
      platform: 'config', name: 'Config', port, host: '127.0.0.1', lang: 'en', lightingMode: 'light',
      disableServerMetricsMonitoring: true, homebridgePackagePath: join(ROOT, 'node_modules', 'homebridge'),
    };
    writeFileSync(this.configPath, JSON.stringify({
      bridge: { name: 'XG2G UI Test', username: randomMac(), pin: '031-45-154', advertiser: 'ciao', bind: ['127.0.0.1'] },
      platforms: [ui, ...platforms],
      accessories: [],
    }, null, 4));
    // Its own process group, so stop() reaches the UI server and the plugin's settings server too.
    this.child = spawn(process.execPath, [HOMEBRIDGE, '-Q', '-U', storage, '-P', pluginPath, '--strict-plugin-resolution'], {
      env: { PATH: process.env.PATH, HOME: storage, NO_COLOR: '1', UIX_STRICT_PLUGIN_RESOLUTION: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const add = (chunk: Buffer): void => void (this.log += chunk.toString());
    this.child.stdout!.on('data', add);
    this.child.stderr!.on('data', add);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  get configPath(): string {
    return join(this.storage, 'config.json');
  }

  /** Resolves once the UI accepts connections; rejects with the log tail if Homebridge exits first. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`Homebridge exited:\n${this.log.slice(-3000)}`);
      if (/Homebridge UI v\S+ is listening/.test(this.log)) {
        const ok = await fetch(`${this.url}/api/auth/settings`).then((r) => r.ok, () => false);
        if (ok) return;
      }
      if (Date.now() > deadline) throw new Error(`the Homebridge UI did not start:\n${this.log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The platform blocks in config.json, as the UI saved them. */
  platforms(): Array<Record<string, unknown>> {
    return (JSON.parse(readFileSync(this.configPath, 'utf8')) as { platforms: Array<Record<string, unknown>> }).platforms;
  }

  /** Replaces every platform block but the UI's own (the UI reads config.json on each request). */
  setPlatforms(platforms: object[]): void {
    const config = JSON.parse(readFileSync(this.configPath, 'utf8')) as { platforms: Array<{ platform?: unknown }> };
    config.platforms = [config.platforms.find((p) => p.platform === 'config')!, ...platforms];
    writeFileSync(this.configPath, JSON.stringify(config, null, 4));
  }

  /** SIGTERM to the whole group, SIGKILL for whatever is left after 10 s; resolves when all are gone. */
  async stop(): Promise<void> {
    const group = -this.child.pid!;
    const send = (signal: NodeJS.Signals | 0): boolean => {
      try {
        process.kill(group, signal);
        return true;
      } catch {
        return false; // ESRCH: nothing is left in the group
      }
    };
    const emptied = async (timeoutMs: number): Promise<boolean> => {
      const deadline = Date.now() + timeoutMs;
      while (send(0)) {
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 100));
      }
      return true;
    };
    if (send('SIGTERM') && !(await emptied(10_000))) {
      send('SIGKILL');
      await emptied(5_000);
    }
    await this.exited;
  }
}
