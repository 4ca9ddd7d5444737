// The simulated streaming port and relay over real sockets: exact header bytes, tuner limits with
// both busy behaviours, each profile's live output checked with ffprobe and a PMT read, captures
// replayed byte-for-byte, relay quirks, and no ffmpeg left after close().
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSimulator, type Simulator } from '../../src/simulator';
import { STREAM_HEADER, StreamClient, pidOf, rawRequest, readPmt, until } from './helpers';
import { SAMPLES } from '../helpers/samples';

const run = promisify(execFile);
const ERSTE = '1:0:19:283D:3FB:1:C00000:0:0:0:';
const ZDF = '1:0:19:2B66:3F3:1:C00000:0:0:0:';
const ERSTE_SD = '1:0:1:6DCA:44D:1:C00000:0:0:0:';
const SERVUS_AAC = '1:0:19:132F:3EF:1:C00000:0:0:0:';
const BAYERN3 = '1:0:2:6F1D:44D:1:C00000:0:0:0:';
const SKY_RELAY = '1:0:19:6A:4:85:C00000:0:0:0:';
const HEADER_LEN = Buffer.byteLength(STREAM_HEADER);

let sim: Simulator | undefined;
const clients: StreamClient[] = [];
const open = (base: string, ref: string): StreamClient => {
  const c = new StreamClient(base, `/${ref}`);
  clients.push(c);
  return c;
};

afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await sim?.close();
  sim = undefined;
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('simulator streaming port', () => {
  test('writes the exact streamserver header, then TS from a PSI packet (randomStart off)', async () => {
    sim = await startSimulator({ randomStart: false });
    const res = await rawRequest(sim.streamUrl, `/${encodeURIComponent(ERSTE)}`, { maxBytes: HEADER_LEN + 188 * 20 });
    expect(res.bytes.subarray(0, HEADER_LEN).toString('latin1')).toBe(STREAM_HEADER);
    const ts = res.bytes.subarray(HEADER_LEN);
    expect(ts[0]).toBe(0x47);
    expect(ts[188]).toBe(0x47);
    expect([0x00, 0x11]).toContain(pidOf(ts));
    // The raw (unencoded) form works too.
    const raw = await rawRequest(sim.streamUrl, `/${ERSTE}`, { maxBytes: HEADER_LEN + 188 });
    expect(raw.bytes.length).toBeGreaterThanOrEqual(HEADER_LEN + 188);
  });

  test('open streams show in statusinfo, deviceinfo and activeStreams; deep standby ends them', async () => {
    sim = await startSimulator();
    const s = sim;
    const a = open(s.streamUrl, ERSTE);
    await a.waitFor(HEADER_LEN + 188);
    const status = (await (await fetch(`${s.webUrl}/api/statusinfo`)).json()) as Record<string, unknown>;
    expect(status.isStreaming).toBe('true');
    expect(status.Streaming_list).toBe('127.0.0.1: Das Erste HD\n');
    const dev = (await (await fetch(`${s.webUrl}/api/deviceinfo`)).json()) as { tuners: Array<{ stream: string }> };
    expect(dev.tuners[0].stream).toBe('Das Erste HD');
    const active = s.activeStreams();
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ ref: ERSTE, listener: 'stream' });
    expect(typeof active[0].pid).toBe('number');

    s.setState({ power: 'deep' });
    await a.waitEnd();
    await until(() => s.activeStreams().length === 0);
    const refused = await rawRequest(s.streamUrl, `/${ERSTE}`);
    expect(refused.bytes.length).toBe(0);
    await until(() => !alive(active[0].pid as number));
  });

  test('tuner limit, busy = eof: 200 header then EOF with zero TS bytes; same channel shares the tuner', async () => {
    sim = await startSimulator({ tuners: 1, busyBehaviour: 'eof' });
    const s = sim;
    const a = open(s.streamUrl, ERSTE);
    await a.waitFor(HEADER_LEN + 188);
    const busy = await rawRequest(s.streamUrl, `/${ZDF}`);
    expect(busy.ended).toBe(true);
    expect(busy.bytes.toString('latin1')).toBe(STREAM_HEADER);
    const shared = open(s.streamUrl, ERSTE);
    await shared.waitFor(HEADER_LEN + 188);
    expect(s.activeStreams().map((x) => x.ref)).toEqual([ERSTE, ERSTE]);

    a.close();
    shared.close();
    await until(() => s.activeStreams().length === 0);
    const now = open(s.streamUrl, ZDF);
    await now.waitFor(HEADER_LEN + 188);
  });

  test('tuner limit, busy = http400: a stray 400 line after the 200 header', async () => {
    sim = await startSimulator({ tuners: 1, busyBehaviour: 'http400' });
    const a = open(sim.streamUrl, ERSTE);
    await a.waitFor(HEADER_LEN + 188);
    const busy = await rawRequest(sim.streamUrl, `/${ZDF}`);
    expect(busy.ended).toBe(true);
    expect(busy.bytes.toString('latin1')).toBe(`${STREAM_HEADER}HTTP/1.0 400 Bad Request\r\n`);
  });

  test('unknown and IPTV refs fail like a failed tune; HEAD is a bad request', async () => {
    sim = await startSimulator();
    const unknown = await rawRequest(sim.streamUrl, '/1:0:19:FFFF:1:1:C00000:0:0:0:');
    expect(unknown.bytes.toString('latin1')).toBe(STREAM_HEADER);
    const iptv = '4097:0:1:0:0:0:0:0:0:0:http%3a//iptv.example.net/live/euronews.m3u8:Euronews (IPTV)';
    const iptvRes = await rawRequest(sim.streamUrl, `/${encodeURIComponent(iptv)}`);
    expect(iptvRes.bytes.toString('latin1')).toBe(STREAM_HEADER);
    const head = await rawRequest(sim.streamUrl, `/${ERSTE}`, { method: 'HEAD' });
    expect(head.bytes.toString('latin1')).toMatch(/^HTTP\/1\.0 400 Bad Request\r\n/);
    expect(sim.activeStreams()).toHaveLength(0);
  });

  test('stream auth: 401 with realm streamserver, then the stream with credentials', async () => {
    sim = await startSimulator({ streamAuth: { username: 'root', password: 'pw' } });
    const denied = await rawRequest(sim.streamUrl, `/${ERSTE}`);
    const text = denied.bytes.toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.0 401 /);
    expect(text).toContain('WWW-Authenticate: Basic realm="streamserver"\r\n');
    const ok = await rawRequest(sim.streamUrl, `/${ERSTE}`, {
      headers: { Authorization: `Basic ${Buffer.from('root:pw').toString('base64')}` },
      maxBytes: HEADER_LEN + 188,
    });
    expect(ok.bytes.subarray(0, HEADER_LEN).toString('latin1')).toBe(STREAM_HEADER);
  });
});

describe('simulator stream profiles', () => {
  interface Probe {
    streams: Array<{ codec_name: string; codec_type: string; channels?: number; tags?: { language?: string } }>;
  }

  async function probe(bytes: Buffer, name: string): Promise<Probe> {
    const file = join(tmpdir(), `xg2g-sim-${process.pid}-${name}.ts`);
    await fs.writeFile(file, bytes);
    try {
      const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file]);
      return JSON.parse(stdout) as Probe;
    } finally {
      await fs.rm(file, { force: true });
    }
  }

  test('each profile: codecs, languages and DVB stream types in the live output', async () => {
    sim = await startSimulator({ tuners: 4 });
    const want = [
      { ref: ERSTE, bytes: 800_000 },
      { ref: ERSTE_SD, bytes: 800_000 },
      { ref: SERVUS_AAC, bytes: 700_000 },
      { ref: BAYERN3, bytes: 60_000 },
    ];
    const s = sim;
    const chunks = await Promise.all(want.map((w) => open(s.streamUrl, w.ref).waitFor(HEADER_LEN + w.bytes)));
    const [hd, sd, aac, radio] = chunks.map((c) => c.subarray(HEADER_LEN));

    const summary = (p: Probe): string[] =>
      p.streams.map((x) => [x.codec_name, x.channels ?? '', x.tags?.language ?? ''].join('/'));
    expect(summary(await probe(hd, 'hd'))).toEqual(['h264//', 'ac3/6/deu', 'ac3/2/eng']);
    expect(summary(await probe(sd, 'sd'))).toEqual(['mpeg2video//', 'mp2/2/deu']);
    expect(summary(await probe(aac, 'aac'))).toEqual(['h264//', 'aac/2/deu']);
    expect(summary(await probe(radio, 'radio'))).toEqual(['mp2/2/deu']);

    const hdPmt = readPmt(hd);
    expect(hdPmt?.program).toBe(0x283d);
    // DVB form: private PES (0x06) with the AC-3 descriptor 0x6A, not ATSC 0x81.
    expect(hdPmt?.streams.map((x) => [x.type, x.descriptorTags.includes(0x6a), x.language])).toEqual([
      [0x1b, false, undefined],
      [0x06, true, 'deu'],
      [0x06, true, 'eng'],
    ]);
    const sdTypes = readPmt(sd)?.streams.map((x) => x.type);
    expect(sdTypes?.[0]).toBe(0x02);
    expect([0x03, 0x04]).toContain(sdTypes?.[1]);
    expect(sdTypes).toHaveLength(2);
    expect(readPmt(aac)?.streams.map((x) => x.type)).toEqual([0x1b, 0x0f]);
    expect(readPmt(aac)?.program).toBe(0x132f);
  });

  test('random start: packet-aligned, and not always at the PSI the muxer writes first', async () => {
    sim = await startSimulator({ tuners: 1 });
    const s = sim;
    const starts = await Promise.all([0, 1, 2].map(() => open(s.streamUrl, ERSTE).waitFor(HEADER_LEN + 188 * 2)));
    for (const b of starts) {
      expect(b[HEADER_LEN]).toBe(0x47);
      expect(b[HEADER_LEN + 188]).toBe(0x47);
    }
    // With randomStart off the first packet is always PSI (PID 0x00 or 0x11); random starts drop
    // up to a second of packets, so three PSI starts in a row are a ~1e-5 event.
    expect(starts.some((b) => ![0x00, 0x11].includes(pidOf(b, HEADER_LEN)))).toBe(true);
  });
});

describe('simulator captures', () => {
  test('a capture is served byte-for-byte, looped, under the Captures (TV) bouquet', async () => {
    const cnews = join(SAMPLES, 'dvbs2-h264-ac3-cnews-tsduck009.ts');
    const france2 = join(SAMPLES, 'dvbt-h264-eac3-france2-tsduck026.ts');
    sim = await startSimulator({ captures: [{ file: cnews, name: 'CNEWS' }, { file: france2 }] });
    const capBouquet = sim.bouquets.find((b) => b.name === 'Captures (TV)');
    const entries = capBouquet?.entries ?? [];
    expect(entries.map((e) => e.name)).toEqual(['CNEWS', 'dvbt-h264-eac3-france2-tsduck026']);
    // The default ref carries the capture's own program number.
    expect(entries[0].ref.split(':')[3]).toBe('226A');

    const res = await fetch(`${sim.webUrl}/api/getservices?sRef=${encodeURIComponent(capBouquet?.ref ?? '')}`);
    const listed = ((await res.json()) as { services: Array<{ servicereference: string }> }).services;
    expect(listed.map((x) => x.servicereference)).toEqual(entries.map((e) => e.ref));

    const file = await fs.readFile(france2);
    const extra = 100_000;
    const got = await open(sim.streamUrl, encodeURIComponent(entries[1].ref)).waitFor(HEADER_LEN + file.length + extra);
    const body = got.subarray(HEADER_LEN, HEADER_LEN + file.length + extra);
    expect(body.equals(Buffer.concat([file, file.subarray(0, extra)]))).toBe(true);
    expect(sim.activeStreams()[0].pid).toBeUndefined();
  });
});

describe('simulator relay', () => {
  test('opens late, drops HEAD and requests without User-Agent, serves GET', async () => {
    sim = await startSimulator({ relayOpenDelayMs: 400 });
    const s = sim;
    const early = await rawRequest(s.relayUrl, `/${SKY_RELAY}`);
    expect(early.error?.code).toBe('ECONNREFUSED');

    // Retry as a client must, until the relay listens.
    let ready = false;
    const port = Number(new URL(s.relayUrl).port);
    for (let i = 0; i < 100 && !ready; i++) {
      ready = await new Promise<boolean>((resolve) => {
        const c = connect(port, '127.0.0.1');
        c.on('connect', () => {
          c.destroy();
          resolve(true);
        });
        c.on('error', () => resolve(false));
      });
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready).toBe(true);
    s.clearRequests();

    const head = await rawRequest(s.relayUrl, `/${SKY_RELAY}`, { method: 'HEAD' });
    expect(head.bytes.length).toBe(0);
    const emptyUa = await rawRequest(s.relayUrl, `/${SKY_RELAY}`, { headers: { 'User-Agent': '' } });
    expect(emptyUa.bytes.length).toBe(0);
    const noUa = await rawRequest(s.relayUrl, `/${SKY_RELAY}`, { headers: { 'User-Agent': undefined } });
    expect(noUa.bytes.length).toBe(0);
    const ok = open(s.relayUrl, SKY_RELAY);
    const got = await ok.waitFor(HEADER_LEN + 188);
    expect(got.subarray(0, HEADER_LEN).toString('latin1')).toBe(STREAM_HEADER);
    expect(got[HEADER_LEN]).toBe(0x47);
    expect(s.activeStreams()).toEqual([expect.objectContaining({ ref: SKY_RELAY, listener: 'relay' })]);
    expect(s.requests.map((r) => [r.listener, r.method])).toEqual([
      ['relay', 'HEAD'],
      ['relay', 'GET'],
      ['relay', 'GET'],
      ['relay', 'GET'],
    ]);
  });
});

describe('simulator close', () => {
  test('close() ends every stream and leaves no ffmpeg behind; it is idempotent', async () => {
    const s = await startSimulator({ tuners: 2 });
    sim = s;
    const a = open(s.streamUrl, ERSTE);
    const b = open(s.relayUrl, SKY_RELAY);
    await Promise.all([a.waitFor(HEADER_LEN + 188), b.waitFor(HEADER_LEN + 188)]);
    const pids = s.activeStreams().map((x) => x.pid as number);
    expect(pids).toHaveLength(2);
    pids.forEach((pid) => expect(alive(pid)).toBe(true));
    await Promise.all([s.close(), s.close()]);
    pids.forEach((pid) => expect(alive(pid)).toBe(false));
    const { stdout } = await run('pgrep', ['-a', 'ffmpeg']).catch(() => ({ stdout: '' }));
    for (const pid of pids) expect(stdout).not.toMatch(new RegExp(`^${pid} `, 'm'));
    await a.waitEnd();
    await b.waitEnd();
    expect(s.activeStreams()).toHaveLength(0);
    await expect(fetch(`${s.webUrl}/api/statusinfo`)).rejects.toThrow();
  });
});
