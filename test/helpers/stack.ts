// Test helper: a simulator plus the core (App) configured against it, and stream readers.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, AppOptions } from '../../src/app';
import { loadConfig } from '../../src/config';
import { Config } from '../../src/config/types';
import { Logger, silentLogger } from '../../src/logger';
import { Simulator, SimulatorOptions, startSimulator } from '../../src/simulator';

export const DAS_ERSTE_HD = '1:0:19:283D:3FB:1:C00000:0:0:0:';
export const ZDF_HD = '1:0:19:2B66:3F3:1:C00000:0:0:0:';
export const ARTE_HD = '1:0:19:283E:3FB:1:C00000:0:0:0:';
export const DAS_ERSTE_SD = '1:0:1:6DCA:44D:1:C00000:0:0:0:';
export const SERVUS_AAC = '1:0:19:132F:3EF:1:C00000:0:0:0:';
export const SKY_CINEMA_RELAY = '1:0:19:6A:4:85:C00000:0:0:0:';

export interface Stack {
  sim: Simulator;
  app: App;
  config: Config;
  url: string;
  logs: string[];
  stop(): Promise<void>;
}

export interface StackOptions {
  sim?: SimulatorOptions;
  /** Merged over the platform block's receiver one. */
  receiver?: Record<string, unknown>;
  /** Merged over the platform block's proxy section. */
  proxy?: Record<string, unknown>;
  /** Top-level sections of the platform block (`epg`, `hdhr`, ...). */
  block?: Record<string, unknown>;
  /** streamTarget: 'stream' (the simulator's 8001, default), 'relay' or 'auto'. */
  target?: 'stream' | 'relay' | 'auto';
  app?: AppOptions;
}

/** A logger that records every line (warnings are what users see when things go wrong). */
export function recordingLogger(lines: string[]): Logger {
  const push = (level: string) => (m: string): void => void lines.push(`${level} ${m}`);
  return { ...silentLogger, info: push('info'), warn: push('warn'), error: push('error') };
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const sim = await startSimulator(options.sim);
  const web = new URL(sim.webUrl);
  const target = options.target === 'auto' ? 'auto' : options.target === 'relay' ? sim.relayUrl : sim.streamUrl;
  let config: Config;
  try {
    config = loadConfig({
      env: {},
      block: {
        platform: 'XG2G',
        receivers: [{ name: 'Test Box', host: web.hostname, port: Number(web.port), bouquets: ['Favourites (TV)'], streamTarget: target, ...options.receiver }],
        proxy: { listen: '127.0.0.1:0', ...options.proxy },
        api: { listen: '' },
        ...options.block,
      },
    });
  } catch (error) {
    await sim.close();
    throw error;
  }
  const logs: string[] = [];
  // Each stack keeps its guide and picon cache to itself, and removes it.
  const cacheDir = mkdtempSync(join(tmpdir(), 'xg2g-test-cache-'));
  const app = new App(config, recordingLogger(logs), { cacheDir, ...options.app });
  const cleanUp = async (): Promise<void> => {
    await app.stop();
    await sim.close();
    rmSync(cacheDir, { recursive: true, force: true });
  };
  try {
    await app.start();
  } catch (error) {
    await cleanUp();
    throw error;
  }
  return { sim, app, config, logs, url: app.proxyUrl!, stop: cleanUp };
}

/** Waits until the receiver's channel list (and tuner count) is loaded. */
export async function channelsLoaded(stack: Stack): Promise<void> {
  await until(() => stack.app.receivers[0].channels().size > 0, 10_000);
}

export interface Fetched {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * GETs a URL and collects the body until `bytes` arrived, the server ended it, or `timeoutMs`
 * passed; then closes the connection (a client going away, as players do).
 */
export function fetchBytes(url: string, bytes = Infinity, timeoutMs = 15_000, method = 'GET', headers: http.OutgoingHttpHeaders = {}): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const request = http.request(url, { method, agent: false, headers }, (response) => {
      const done = (): void => {
        clearTimeout(timer);
        request.destroy();
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
      };
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= bytes) done();
      });
      response.on('end', done);
      response.on('error', done);
      response.on('close', done);
    });
    const timer = setTimeout(() => {
      request.destroy();
      resolve({ status: -1, headers: {}, body: Buffer.concat(chunks) });
    }, timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end();
  });
}

/**
 * Polls a condition every 50 ms; rejects with `what` when it is still false after `timeoutMs`.
 * `what` may be a function, so the message can show the state the wait ended in.
 */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string) = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const streamUrl = (stack: Stack, ref: string): string => `${stack.url}/${ref}`;

/** True while a process with that id exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
