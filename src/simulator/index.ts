/**
 * A simulated Enigma2 receiver for the demo, the `xg2g simulate` command and the tests: an OpenWebIF
 * web interface, the 8001 streaming port and the 17999-style relay, all on loopback ports, sharing
 * one box state that tests can read and change "from the remote". Deep standby is real: web and
 * stream ports drop every connection until a Wake-on-LAN packet for the box's MAC reaches its UDP
 * port (`wakePort`), and it boots after `bootDelayMs`. Timers, instant recordings and messages
 * live in home.ts.
 */
import { parseServiceRef, tryParseServiceRef } from '../receiver/service-ref';
import { SIM_BOOT_DELAY_MS, SIM_HOST_DEFAULT, SIM_TUNERS_DEFAULT } from '../settings';
import { buildChannelData, type CaptureSpec, type SimBouquet, type SimProfile } from './channels';
import { defaultCacheDir, ensureStreamCache, grabPicture, profileFile, readCapture, type CaptureInfo } from './media';
import { SimHome, type SimMessage, type SimTimer } from './home';
import { SimContext, type RecordedRequest, type SimulatorState, type WebFault } from './state';
import { StreamListener } from './stream-server';
import { WakeListener, type WakePacket } from './wake-listener';
import { WebServer } from './web';

export { ensureStreamCache } from './media';
export { CAPTURES_TV_REF, FAVOURITES_TV_REF } from './channels';
export { STREAM_OK_HEADER } from './stream-server';
export type { SimBouquet, SimBouquetEntry, SimChannel, SimEvent, SimProfile } from './channels';
export type { RecordedRequest, SimulatorState } from './state';
export type { SimMessage, SimTimer } from './home';
export type { WakePacket } from './wake-listener';

/** The MAC the simulated box reports in deviceinfo (ifaces[0].mac) unless told another. */
export const SIM_MAC = '00:1d:ec:0e:4a:31';

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
  /** The box's MAC (deviceinfo and Wake-on-LAN); default SIM_MAC. */
  mac?: string;
  /** UDP port for Wake-on-LAN packets (default 0 = any free port, see `wakePort`). */
  wakePort?: number;
  /** From a matching magic packet to the web interface answering, in ms (default SIM_BOOT_DELAY_MS). */
  bootDelayMs?: number;
  /** What a wake from deep standby boots into: a real box comes up on (default). */
  bootInto?: 'on' | 'standby';
  /** The clock timers and messages follow, ms since the epoch (default Date.now); tests move it. */
  clock?: () => number;
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
  /** UDP port (on `host`) where the box listens for Wake-on-LAN packets while in deep standby. */
  readonly wakePort: number;
  /** The MAC it reports and wakes for. */
  readonly mac: string;
  /** Every UDP packet that reached the wake port. */
  readonly wakePackets: WakePacket[];
  /** The box's timers (instant recordings included), as it keeps them. */
  readonly timers: SimTimer[];
  /** Every message shown on the TV, oldest first. */
  readonly messages: SimMessage[];
  /** Answers the yes/no message on screen; false when none waits for an answer. */
  answerMessage(answer: 'yes' | 'no'): boolean;
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
  const mac = opts.mac ?? SIM_MAC;
  const clock = opts.clock ?? Date.now;
  const home = new SimHome({ state, tuners, clock, findChannel: (ref) => { const r = tryParseServiceRef(ref); return r ? data.channels.get(r.ref) : undefined; } });

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
    mac,
    home,
    streamPort: () => stream.port,
    relayPort: () => relay.port,
    onPower: powerEffect,
    grab: (channel, width) => grabPicture(ffmpegPath, channel, width),
  });

  // Deep standby: only the network card listens, for its magic packet; the box boots after a while.
  let booting: NodeJS.Timeout | undefined;
  const bootDelayMs = opts.bootDelayMs ?? SIM_BOOT_DELAY_MS;
  const wake = new WakeListener({
    host,
    port: opts.wakePort ?? 0,
    mac,
    onWake: () => {
      if (state.power !== 'deep' || booting) return;
      log('simulator: Wake-on-LAN packet received, booting');
      booting = setTimeout(() => {
        booting = undefined;
        if (state.power === 'deep') state.power = opts.bootInto ?? 'on';
      }, bootDelayMs);
    },
  });

  const started: Array<{ close(): Promise<void> }> = [];
  try {
    for (const l of [web, stream, relay, wake]) {
      await l.start();
      started.push(l);
    }
  } catch (err) {
    await Promise.all(started.map((l) => l.close()));
    throw err;
  }
  const url = (port: number): string => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log(`simulator: web ${url(web.port)}, stream ${url(stream.port)}, relay ${url(relay.port)}, Wake-on-LAN udp ${wake.port}`);

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
    wakePort: wake.port,
    mac,
    wakePackets: wake.packets,
    timers: home.timers,
    messages: home.messages,
    answerMessage: (answer) => home.answer(answer),
    close(): Promise<void> {
      closing ??= (async () => {
        if (booting) clearTimeout(booting);
        booting = undefined;
        await Promise.all([web.close(), stream.close(), relay.close(), wake.close()]);
        await ctx.stopStreams();
        // An encode started by this simulator must not outlive it.
        await cache?.catch(() => undefined);
        log('simulator: closed');
      })();
      return closing;
    },
  };
}
