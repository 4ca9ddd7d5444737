// Test helper: the plugin built into a temp folder, a real Homebridge child process loading it (in
// insecure mode, -I, unless asked otherwise), and a small client for HAP's HTTP interface in
// insecure mode (GET /accessories, GET and PUT /characteristics with the setup code as Authorization
// header).
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uuid } from 'hap-nodejs';
import { parseServiceRef } from '../../src/receiver/service-ref';
import { FAVOURITES_TV_REF, type Simulator } from '../../src/simulator';

export const ROOT = join(__dirname, '..', '..');
export const PIN = '031-45-154';
const HOMEBRIDGE = join(ROOT, 'node_modules', 'homebridge', 'bin', 'homebridge');

/** The plugin as Homebridge finds it: <dir>/plugins/homebridge-xg2g with package.json and dist/. */
export function buildPlugin(dir: string): string {
  const plugins = join(dir, 'plugins');
  const pkg = join(plugins, 'homebridge-xg2g');
  mkdirSync(pkg, { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  copyFileSync(join(ROOT, 'config.schema.json'), join(pkg, 'config.schema.json'));
  cpSync(join(ROOT, 'homebridge-ui'), join(pkg, 'homebridge-ui'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'),
      '--outDir', join(pkg, 'dist'), '--declaration', 'false', '--sourceMap', 'false'], { stdio: 'pipe' });
  } catch (error) {
    // Type errors elsewhere (tsc --noEmit reports them) still emit JavaScript; only a missing entry point is fatal here.
    if (!existsSync(join(pkg, 'dist', 'index.js'))) throw error;
  }
  return plugins;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'xg2g-hb-'));
}

export function randomMac(): string {
  return Array.from({ length: 6 }, (_, i) => (i === 0 ? 0x0e : Math.floor(Math.random() * 256)).toString(16).padStart(2, '0')).join(':').toUpperCase();
}

export class Homebridge {
  readonly child: ChildProcess;
  log = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `insecure: false` runs Homebridge as users do: a controller must pair with the setup code first. */
  constructor(pluginPath: string, readonly storage: string, config: unknown, { insecure = true } = {}) {
    mkdirSync(storage, { recursive: true });
    writeFileSync(join(storage, 'config.json'), JSON.stringify(config, null, 2));
    const args = [HOMEBRIDGE, ...(insecure ? ['-I'] : []), '-Q', '-D', '-U', storage, '-P', pluginPath, '--strict-plugin-resolution'];
    this.child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH, HOME: storage, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const add = (chunk: Buffer): void => {
      this.log += chunk.toString();
    };
    this.child.stdout!.on('data', add);
    this.child.stderr!.on('data', add);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the match once the log has it; rejects with the log tail on timeout or exit. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    let gone = false;
    void this.exited.then(() => (gone = true));
    for (;;) {
      const m = pattern.exec(this.log);
      if (m) return m;
      if (gone || Date.now() > deadline) {
        throw new Error(`${gone ? 'Homebridge exited' : 'timed out'} waiting for ${pattern}; log tail:\n${this.log.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL if still running (afterAll safety net). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * The plugin's block for one receiver, the simulator, with its Favourites, polled every second,
 * the proxy on a free loopback port, and no MQTT.
 */
export function simulatorPlatform(sim: Simulator): Record<string, unknown> {
  const web = new URL(sim.webUrl);
  return {
    platform: 'XG2G', name: 'xg2g',
    receivers: [{
      name: 'Test Box', host: web.hostname, port: Number(web.port), bouquets: ['Favourites (TV)'],
      streamTarget: sim.streamUrl, refreshInterval: 1,
    }],
    proxy: { listen: '127.0.0.1:0' }, api: { listen: '' }, mqtt: { enabled: false },
  };
}

/** Favourites' playable channels in bouquet order, from the simulator's own data. */
export function favourites(sim: Simulator): string[] {
  const bouquet = sim.bouquets.find((b) => b.ref === FAVOURITES_TV_REF)!;
  return bouquet.entries.filter((e) => e.channel && parseServiceRef(e.ref).flags === 0).map((e) => parseServiceRef(e.ref).ref);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

// --- HAP over HTTP (insecure mode) ------------------------------------------------------------

export interface HapCharacteristic {
  iid: number;
  type: string;
  value?: unknown;
  perms: string[];
  status?: number;
}
export interface HapService {
  iid: number;
  type: string;
  characteristics: HapCharacteristic[];
  linked?: number[];
}
export interface HapAccessory {
  aid: number;
  services: HapService[];
}

/** A HAP type UUID in the short form the accessory database uses ("D8" for Television). */
export const short = (longUuid: string): string => uuid.toShortForm(longUuid);

export class HapClient {
  constructor(readonly port: number, readonly pin = PIN) {}

  private async request(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`http://127.0.0.1:${this.port}${path}`, {
      method,
      headers: { Authorization: this.pin, 'Content-Type': 'application/hap+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  }

  async accessories(): Promise<HapAccessory[]> {
    const r = await this.request('GET', '/accessories');
    if (r.status !== 200) throw new Error(`GET /accessories: HTTP ${r.status}`);
    return (r.json as { accessories: HapAccessory[] }).accessories;
  }

  async get(aid: number, iid: number): Promise<{ value?: unknown; status?: number }> {
    const r = await this.request('GET', `/characteristics?id=${aid}.${iid}`);
    return (r.json as { characteristics: Array<{ value?: unknown; status?: number }> }).characteristics[0];
  }

  /** POST /resource (a camera snapshot): the HTTP status and the raw body. */
  async resource(body: Record<string, unknown>): Promise<{ status: number; type: string; body: Buffer }> {
    const response = await fetch(`http://127.0.0.1:${this.port}/resource`, {
      method: 'POST',
      headers: { Authorization: this.pin, 'Content-Type': 'application/hap+json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: Buffer.from(await response.arrayBuffer()) };
  }

  /** PUT one value; resolves with the HAP status (0 = success). */
  async put(aid: number, iid: number, value: unknown): Promise<number> {
    const r = await this.request('PUT', '/characteristics', { characteristics: [{ aid, iid, value }] });
    if (r.status === 204) return 0;
    const list = (r.json as { characteristics?: Array<{ status?: number }> } | undefined)?.characteristics;
    return list?.[0]?.status ?? -r.status;
  }
}

/**
 * A HAP client on one kept-open connection, as the Home app holds one: HAP ties a camera's live
 * view to the connection that set it up and stops it when that connection closes (fetch closes
 * idle ones after a few seconds). close() ends the connection.
 */
export class HapConnection {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(readonly port: number, readonly pin = PIN) {}

  private request(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = http.request({
        host: '127.0.0.1', port: this.port, method, path, agent: this.agent,
        headers: { Authorization: this.pin, 'Content-Type': 'application/hap+json', ...(payload ? { 'Content-Length': payload.length } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  async get(aid: number, iid: number): Promise<{ value?: unknown; status?: number }> {
    const r = await this.request('GET', `/characteristics?id=${aid}.${iid}`);
    return (r.json as { characteristics: Array<{ value?: unknown; status?: number }> }).characteristics[0];
  }

  /** PUT one value; resolves with the HAP status (0 = success). */
  async put(aid: number, iid: number, value: unknown): Promise<number> {
    const r = await this.request('PUT', '/characteristics', { characteristics: [{ aid, iid, value }] });
    if (r.status === 204) return 0;
    const list = (r.json as { characteristics?: Array<{ status?: number }> } | undefined)?.characteristics;
    return list?.[0]?.status ?? -r.status;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The first service of a type (long UUID) and, with `characteristic`, its iid. */
export function findService(accessory: HapAccessory, serviceType: string): HapService | undefined {
  return accessory.services.find((s) => s.type === short(serviceType));
}

export function iidOf(service: HapService, characteristicType: string): number {
  const c = service.characteristics.find((ch) => ch.type === short(characteristicType));
  if (!c) throw new Error(`no characteristic ${characteristicType} in service ${service.type}`);
  return c.iid;
}

export function valueOf(service: HapService, characteristicType: string): unknown {
  return service.characteristics.find((ch) => ch.type === short(characteristicType))?.value;
}

/** The processes a process started (pid and command line), from ps: to find an ffmpeg left behind. */
export function childrenOf(pid: number): Array<{ pid: number; args: string }> {
  const out = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout ?? '';
  return out.split('\n').map((line) => /^\s*(\d+)\s+(.*)$/.exec(line)).filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), args: m[2] }));
}
