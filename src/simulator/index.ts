/**
 * A simulated Enigma2 receiver for the demo, the `xg2g simulate` command and the tests: an OpenWebIF
 * web interface, the 8001 streaming port and the 17999-style relay, all on loopback ports, sharing
 * one box state that tests can read and change "from the remote".
 */
import { parseServiceRef } from '../receiver/service-ref';
import { SIM_HOST_DEFAULT, SIM_TUNERS_DEFAULT } from '../settings';
import { buildChannelData, type CaptureSpec, type SimBouquet, type SimProfile } from './channels';
import { defaultCacheDir, ensureStreamCache, profileFile, readCapture, type CaptureInfo } from './media';
import { SimContext, type RecordedRequest, type SimulatorState, type WebFault } from './state';
import { StreamListener } from './stream-server';
import { WebServer } from './web';

export { ensureStreamCache } from './media';
export { CAPTURES_TV_REF, FAVOURITES_TV_REF } from './channels';
export { STREAM_OK_HEADER } from './stream-server';
export type { SimBouquet, SimBouquetEntry, SimChannel, SimEvent, SimProfile } from './channels';
export type { RecordedRequest, SimulatorState } from './state';

export interface SimulatorOptions {
  host?: string;
  webPort?: number;
  streamPort?: number;
  relayPort?: number;
  relayOpenDelayMs?: number;
  auth?: { username: string; password: string };
  streamAuth?: { username: string; password: string };
  tuners?: number;
  busyBehaviour?: 'eof' | 'http400';
  macNull?: boolean;
  captures?: Array<{ file: string; name?: string; ref?: string }>;
  randomStart?: boolean;
  cacheDir?: string;
  ffmpegPath?: string;
  log?: (line: string) => void;
}

export interface Simulator {
  readonly webUrl: string;
  readonly streamUrl: string;
  readonly relayUrl: string;
  readonly state: SimulatorState;
  setState(patch: Partial<SimulatorState>): void;
  setFault(f: WebFault): void;
  readonly requests: RecordedRequest[];
  clearRequests(): void;
  activeStreams(): Array<{ ref: string; listener: 'stream' | 'relay'; pid?: number }>;
  readonly keys: number[];
  readonly bouquets: SimBouquet[];
  close(): Promise<void>;
}

function validateCredentials(name: string, c: { username: string; password: string } | undefined): void {
  if (c !== undefined && (typeof c.username !== 'string' || typeof c.password !== 'string')) {
    throw new Error(`simulator option ${name} needs string username and password`);
  }
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const host = opts.host ?? SIM_HOST_DEFAULT;
  const tuners = opts.tuners ?? SIM_TUNERS_DEFAULT;
  if (!Number.isInteger(tuners) || tuners < 1) throw new Error(`simulator option tuners must be a positive integer, got ${tuners}`);
  validateCredentials('auth', opts.auth);
  validateCredentials('streamAuth', opts.streamAuth);
  const log = opts.log ?? (() => undefined);
  const ffmpegPath = opts.ffmpegPath ?? 'ffmpeg';
  const cacheDir = opts.cacheDir ?? defaultCacheDir();

  const captures = new Map<string, CaptureInfo>();
  const specs: CaptureSpec[] = [];
  for (const c of opts.captures ?? []) {
    const info = await readCapture(c.file);
    captures.set(c.file, info);
    if (c.ref !== undefined) parseServiceRef(c.ref);
    specs.push({ file: c.file, name: c.name, ref: c.ref, sid: info.sid });
  }
  const data = buildChannelData(specs);
  const state: SimulatorState = { power: 'on', channelRef: data.initialRef, volume: 50, muted: false, recording: false };
  const ctx = new SimContext(state, tuners, log);

  // Encoding takes a few seconds the first time; the web interface must not wait for it.
  let cache: Promise<string> | undefined;
  const profilePath = async (profile: SimProfile): Promise<string> => {
    cache ??= ensureStreamCache({ cacheDir, ffmpegPath });
    cache.catch(() => (cache = undefined));
    return profileFile(await cache, profile);
  };

  const streamOpts = {
    ctx,
    host,
    auth: opts.streamAuth,
    busyBehaviour: opts.busyBehaviour ?? 'eof',
    randomStart: opts.randomStart ?? true,
    ffmpegPath,
    findChannel: (ref: string) => data.channels.get(ref),
    profilePath,
    captures,
  } as const;
  const stream = new StreamListener({ ...streamOpts, kind: 'stream', port: opts.streamPort ?? 0, openDelayMs: 0 });
  const relay = new StreamListener({ ...streamOpts, kind: 'relay', port: opts.relayPort ?? 0, openDelayMs: opts.relayOpenDelayMs ?? 0 });

  const powerEffect = (kind: 'deep' | 'reboot' | 'restart'): void => {
    // Reboot and GUI restart end every stream; the simulated box is back at once.
    if (kind === 'deep') state.power = 'deep';
    void ctx.stopStreams();
    if (kind === 'deep') web.dropConnections();
  };
  const web = new WebServer({
    ctx,
    data,
    host,
    port: opts.webPort ?? 0,
    auth: opts.auth,
    tuners,
    macNull: opts.macNull ?? false,
    streamPort: () => stream.port,
    relayPort: () => relay.port,
    onPower: powerEffect,
  });

  const started: Array<{ close(): Promise<void> }> = [];
  try {
    for (const l of [web, stream, relay]) {
      await l.start();
      started.push(l);
    }
  } catch (err) {
    await Promise.all(started.map((l) => l.close()));
    throw err;
  }
  const url = (port: number): string => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`simulator: web ${url(web.port)}, stream ${url(stream.port)}, relay ${url(relay.port)}`);

  let closing: Promise<void> | undefined;
  return {
    webUrl: url(web.port),
    streamUrl: url(stream.port),
    relayUrl: url(relay.port),
    state,
    setState(patch: Partial<SimulatorState>): void {
      if (patch.channelRef !== undefined) patch = { ...patch, channelRef: parseServiceRef(patch.channelRef).ref };
      const wasDeep = state.power === 'deep';
      Object.assign(state, patch);
      if (state.power === 'deep' && !wasDeep) powerEffect('deep');
    },
    setFault(f: WebFault): void {
      ctx.fault = f;
      if (f === 'refuse') web.dropConnections();
    },
    requests: ctx.requests,
    clearRequests(): void {
      ctx.requests.length = 0;
    },
    activeStreams() {
      return [...ctx.streams].map((s) => ({ ref: s.ref, listener: s.listener, pid: s.pid }));
    },
    keys: ctx.keys,
    bouquets: data.bouquets,
    close(): Promise<void> {
      closing ??= (async () => {
        await Promise.all([web.close(), stream.close(), relay.close()]);
        await ctx.stopStreams();
        // An encode started by this simulator must not outlive it.
        await cache?.catch(() => undefined);
        log('simulator: closed');
      })();
      return closing;
    },
  };
}
