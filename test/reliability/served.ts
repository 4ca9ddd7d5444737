// The reliability suite's subject: `xg2g serve` as its own process (built once per run into a temp
// folder), so its memory and open files can be read from /proc as a user's `top` would see them;
// plus the suite's scale (short in `npm test`, full in `npm run test:reliability`) and its record
// of figures for docs/reliability.md.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { buildPlugin, removeDir, tempDir } from '../homekit/harness';
import { until } from '../helpers/stack';

/** `XG2G_RELIABILITY=full` runs the counts of the fault and load run the issue describes. */
export const FULL = process.env.XG2G_RELIABILITY === 'full';
export const scale = (short: number, full: number): number => (FULL ? full : short);

const RESULTS_DIR = join(__dirname, '..', '..', 'test-artifacts', 'reliability');

/** Appends one case's figures to test-artifacts/reliability/results.jsonl (full runs only). */
export function record(name: string, figures: Record<string, unknown>): void {
  if (!FULL) return;
  mkdirSync(RESULTS_DIR, { recursive: true });
  appendFileSync(join(RESULTS_DIR, 'results.jsonl'), `${JSON.stringify({ name, at: new Date().toISOString(), ...figures })}\n`);
}

let built: { dir: string; cli: string } | undefined;

/** The plugin compiled once for the whole test file. */
export function buildServe(): string {
  if (!built) {
    const dir = tempDir();
    built = { dir, cli: join(buildPlugin(dir), 'homebridge-xg2g', 'dist', 'cli.js') };
  }
  return built.cli;
}

export function removeBuild(): void {
  if (built) removeDir(built.dir);
  built = undefined;
}

export class Served {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;
  private configDir: string | undefined;

  /** `config`: a platform block for `--config` (written to a temp file), merged under `env`. */
  constructor(env: NodeJS.ProcessEnv, config?: Record<string, unknown>) {
    const args = [buildServe(), 'serve'];
    if (config) {
      this.configDir = tempDir();
      const file = join(this.configDir, 'config.json');
      writeFileSync(file, JSON.stringify(config));
      args.push('--config', file);
    }
    this.child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH, XG2G_PROXY_LISTEN: '127.0.0.1:0', XG2G_LISTEN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const add = (chunk: Buffer): void => {
      // Bounded: a long run must not grow the test process's own memory.
      this.output = (this.output + chunk.toString()).slice(-200_000);
    };
    this.child.stdout!.on('data', add);
    this.child.stderr!.on('data', add);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => {
      if (this.configDir) removeDir(this.configDir);
      resolve(code);
    }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The proxy's base URL, once `serve` printed it. */
  async url(): Promise<string> {
    await until(() => /Playlist for VLC: +http:\/\/[0-9.:]+/.test(this.output) || this.child.exitCode !== null, 20_000, 'xg2g serve to start');
    const m = /Playlist for VLC: +(http:\/\/[0-9.:]+)\//.exec(this.output);
    if (!m) throw new Error(`xg2g serve did not start:\n${this.output.slice(-2000)}`);
    return m[1];
  }

  /** Resident memory, in MB, as /proc says. */
  rssMb(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  }

  /** Open file descriptors (sockets, pipes, files). */
  fds(): number {
    return readdirSync(`/proc/${this.pid}/fd`).length;
  }

  /** Pids of ffmpeg processes it runs. */
  ffmpegs(): number[] {
    try {
      return execFileSync('pgrep', ['-P', String(this.pid), 'ffmpeg'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && existsSync(`/proc/${this.pid}`);
  }

  /** SIGTERM; resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.alive()) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Waits until the figure settles back near `baseline` (RSS falls slowly as buffers are freed). */
export async function settles(read: () => number, limit: number, timeoutMs = 15_000): Promise<number> {
  let value = read();
  const deadline = Date.now() + timeoutMs;
  while (value > limit && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    value = read();
  }
  return value;
}

/** A viewer: reads a stream and counts its bytes until closed. */
export class Viewer {
  bytes = 0;
  status = 0;
  ended = false;
  private readonly request: http.ClientRequest;

  constructor(url: string) {
    this.request = http.get(url, { agent: false }, (response) => {
      this.status = response.statusCode ?? 0;
      response.on('data', (chunk: Buffer) => void (this.bytes += chunk.length));
      response.on('error', () => undefined);
      response.on('close', () => void (this.ended = true));
    });
    this.request.on('error', () => void (this.ended = true));
  }

  close(): void {
    this.request.destroy();
  }
}
