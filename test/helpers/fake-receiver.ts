// Test helper: a stream server that misbehaves on purpose, for the faults a real box or a broken
// mux produces: audio announced but absent, silence after a while, bursts, random bytes, lost
// sync, PSI that never completes, impossible section lengths. It serves GET /<anything> with the
// behaviour it was started with, paced like a live channel, from a real DVB capture (CNEWS:
// H.264 + AC-3). It records its connections, so a test can tell when the "tuner" was let go.
import { readFileSync } from 'node:fs';
import http, { ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SAMPLES } from './samples';

const TS = 188;
/** CNEWS (dvbs2-h264-ac3-cnews-tsduck009.ts): PMT on 0x3E8, video 0x3F2, AC-3 audio 0x3FD. */
export const CNEWS = { file: 'dvbs2-h264-ac3-cnews-tsduck009.ts', audioPid: 0x3fd, pmtPid: 0x3e8 };
/** Pacing of the capture: ~4 Mbit/s, in 40 ms ticks. */
const BYTES_PER_TICK = Math.floor(500_000 / 25 / TS) * TS;
const TICK_MS = 40;

export type Behaviour =
  /** The capture with every packet of its AC-3 PID removed: the PMT still announces AC-3. */
  | { kind: 'no-audio' }
  /** The capture for `ms`, then nothing (the connection stays open). */
  | { kind: 'silence-after'; ms: number }
  /** `bytes` of the capture at once, then paced. */
  | { kind: 'burst'; bytes: number }
  /** The capture, paced (a healthy channel). */
  | { kind: 'healthy' }
  /** Packets built by `packet(i)` for i = 0, 1, …, paced. */
  | { kind: 'packets'; packet: (i: number) => Buffer }
  /** Random bytes, paced. */
  | { kind: 'random' }
  /** Accepts the request and never answers (a hung stream server). */
  | { kind: 'hang' };

export interface FakeReceiver {
  /** Base URL for streamTarget, e.g. http://127.0.0.1:40123 */
  url: string;
  /** What the next requests get: for one service reference, or for every other one. */
  setBehaviour(behaviour: Behaviour, ref?: string): void;
  /** Connections opened so far, and how many are open now. */
  readonly connections: number;
  readonly open: number;
  close(): Promise<void>;
}

let capture: Buffer | undefined;
function cnews(): Buffer {
  capture ??= readFileSync(join(SAMPLES, CNEWS.file));
  return capture;
}

/** The capture's packets without those of `pid`. */
export function withoutPid(ts: Buffer, pid: number): Buffer {
  const kept: Buffer[] = [];
  for (let i = 0; i + TS <= ts.length; i += TS) {
    const p = ts.subarray(i, i + TS);
    if ((((p[1] & 0x1f) << 8) | p[2]) !== pid) kept.push(p);
  }
  return Buffer.concat(kept);
}

/** One packet on `pid`: PUSI as given, payload (padded with 0xff). */
export function tsPacket(pid: number, start: boolean, payload: Buffer, continuity = 0): Buffer {
  const p = Buffer.alloc(TS, 0xff);
  p[0] = 0x47;
  p[1] = (start ? 0x40 : 0) | (pid >> 8);
  p[2] = pid & 0xff;
  p[3] = 0x10 | (continuity & 0x0f);
  payload.copy(p, 4, 0, Math.min(payload.length, TS - 4));
  return p;
}

export async function startFakeReceiver(initial: Behaviour): Promise<FakeReceiver> {
  let behaviour = initial;
  const byRef = new Map<string, Behaviour>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let connections = 0;
  const server = http.createServer((request, response) => {
    connections++;
    const chosen = byRef.get(decodeURIComponent((request.url ?? '/').slice(1))) ?? behaviour;
    if (chosen.kind === 'hang') return;
    response.writeHead(200, { 'Content-Type': 'video/mp2t' });
    serve(chosen, response, timers);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setBehaviour(next, ref) {
      if (ref === undefined) behaviour = next;
      else byRef.set(ref, next);
    },
    get connections() {
      return connections;
    },
    get open() {
      return sockets.size;
    },
    async close() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A PSI section (table id, a 5-byte extension header and `body`) with its CRC left zero. */
function section(tableId: number, extension: number, body: number[]): Buffer {
  const length = 5 + body.length + 4;
  return Buffer.from([tableId, 0xb0 | (length >> 8), length & 0xff, extension >> 8, extension & 0xff, 0xc1, 0, 0, ...body, 0, 0, 0, 0]);
}

/** PAT of one program (1) whose PMT is on `pmtPid`. */
export function patPacket(pmtPid: number, continuity = 0): Buffer {
  return tsPacket(0, true, Buffer.concat([Buffer.from([0]), section(0x00, 1, [0, 1, 0xe0 | (pmtPid >> 8), pmtPid & 0xff])]), continuity);
}

/** PMT of program 1 on `pmtPid` listing `streams` ([stream_type, pid]). */
export function pmtPacket(pmtPid: number, pcrPid: number, streams: Array<[number, number]>, continuity = 0): Buffer {
  const es = streams.flatMap(([type, pid]) => [type, 0xe0 | (pid >> 8), pid & 0xff, 0xf0, 0]);
  return tsPacket(pmtPid, true, Buffer.concat([Buffer.from([0]), section(0x02, 1, [0xe0 | (pcrPid >> 8), pcrPid & 0xff, 0xf0, 0, ...es])]), continuity);
}

/** Malformed streams a broken mux or receiver sends, as packet generators for 'packets'. */
export const MALFORMED: Record<string, (i: number) => Buffer> = {
  /** PAT packets that never start a section. */
  'PSI that never completes': (i) => tsPacket(0, false, Buffer.alloc(184, 0x5a), i),
  /** A PAT declaring a 4,000-byte section, then its "continuation" forever. */
  'an impossible section length': (i) => (i % 50 === 0
    ? tsPacket(0, true, Buffer.from([0, 0x00, 0xbf, 0xa0, ...Buffer.alloc(180, 0x11)]), i)
    : tsPacket(0, false, Buffer.alloc(184, 0x11), i)),
  /** A PMT whose video stream is the PMT's own PID. */
  'a PMT pointing at itself': (i) => (i % 2 === 0 ? patPacket(0x100, i) : pmtPacket(0x100, 0x100, [[0x1b, 0x100], [0x06, 0x101]], i)),
  /** Valid packets of the capture with a stray byte every 7 packets. */
  'lost sync': (i) => {
    const ts = cnews();
    const p = ts.subarray((i * TS) % (ts.length - TS), ((i * TS) % (ts.length - TS)) + TS);
    return i % 7 === 0 ? Buffer.concat([p, Buffer.from([0x00])]) : Buffer.from(p);
  },
};

/** Writes the behaviour's bytes tick by tick until the client goes away. */
function serve(behaviour: Behaviour, response: ServerResponse, timers: Set<NodeJS.Timeout>): void {
  const source = behaviour.kind === 'no-audio' ? withoutPid(cnews(), CNEWS.audioPid) : cnews();
  const started = Date.now();
  let offset = 0;
  let index = 0;
  const next = (bytes: number): Buffer => {
    if (behaviour.kind === 'random') return randomBytes(bytes);
    if (behaviour.kind === 'packets') {
      const out: Buffer[] = [];
      for (let n = 0; n < bytes / TS; n++) out.push(behaviour.packet(index++));
      return Buffer.concat(out);
    }
    const out: Buffer[] = [];
    let left = bytes;
    while (left > 0) {
      const take = Math.min(left, source.length - offset);
      out.push(source.subarray(offset, offset + take));
      offset = (offset + take) % source.length;
      left -= take;
    }
    return Buffer.concat(out);
  };
  if (behaviour.kind === 'burst') response.write(next(Math.ceil(behaviour.bytes / TS) * TS));
  const timer = setInterval(() => {
    if (response.destroyed) {
      clearInterval(timer);
      timers.delete(timer);
      return;
    }
    if (behaviour.kind === 'silence-after' && Date.now() - started >= behaviour.ms) return;
    response.write(next(BYTES_PER_TICK));
  }, TICK_MS);
  timers.add(timer);
  response.on('close', () => {
    clearInterval(timer);
    timers.delete(timer);
  });
}
