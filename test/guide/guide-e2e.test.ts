// /xmltv.xml end to end: the simulator, the core and its routes over real HTTP. The guide of the
// configured channels only, fetched one request at a time, valid XMLTV whose channel ids are the
// playlist's tvg-ids, covering the configured days, gzip, the cache file and a restart that serves
// it before asking the box, the token in the document's URLs, and the 404/503 answers.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GUIDE_CACHE_FILE, SIM_EPG_SLOT_S } from '../../src/settings';
import { channelsLoaded, fetchBytes, Stack, startStack, StackOptions, until } from '../helpers/stack';
import { tvValidate } from './validate';

const DAYS = 2;
const FAST = { firstFetchMs: 100, requestGapMs: 10 };

interface Relay {
  port: number;
  /** Most requests that were waiting for their answer at one time. */
  maxWaiting(): number;
  setTarget(port: number): void;
  close(): Promise<void>;
}

/**
 * A TCP relay in front of the simulator's web interface. It holds each request 20 ms before
 * passing it on and counts the requests waiting for their answer, so two at once would show. The
 * simulator's port is set once it is known; requests wait for it.
 */
async function startRelay(): Promise<Relay> {
  let waiting = 0;
  let maxWaiting = 0;
  let setTarget: (port: number) => void = () => undefined;
  const target = new Promise<number>((resolve) => (setTarget = resolve));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    waiting++;
    maxWaiting = Math.max(maxWaiting, waiting);
    let answered = false;
    const answer = (): void => {
      if (!answered) waiting--;
      answered = true;
    };
    client.pause();
    client.on('error', () => undefined);
    client.on('close', answer);
    void target.then((port) => setTimeout(() => {
      if (client.destroyed) return;
      const upstream = net.connect(port, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('data', (chunk: Buffer) => {
        answer();
        client.write(chunk);
      });
      const end = (): void => {
        client.destroy();
        upstream.destroy();
      };
      upstream.on('close', end);
      upstream.on('error', end);
      client.on('close', end);
      client.pipe(upstream);
      client.resume();
    }, 20));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    maxWaiting: () => maxWaiting,
    setTarget,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const attributes = (xml: string, element: string, name: string): string[] =>
  [...xml.matchAll(new RegExp(`<${element} [^>]*?\\b${name}="([^"]*)"`, 'g'))].map((m) => m[1]);

/** `20240131193000 +0000` → ms. */
function xmltvMs(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2}) \+0000$/.exec(text);
  if (!m) throw new Error(`not an XMLTV time: ${text}`);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return fetch(url, { headers }).then(async (r) => ({ status: r.status, headers: Object.fromEntries(r.headers), body: Buffer.from(await r.arrayBuffer()) }));
}

describe('/xmltv.xml', () => {
  let cacheDir: string;
  const stacks: Stack[] = [];
  const relays: Relay[] = [];

  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'xg2g-guide-cache-'));
  });

  afterAll(async () => {
    for (const stack of stacks) await stack.stop();
    for (const relay of relays) await relay.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  async function start(options: StackOptions): Promise<Stack> {
    const stack = await startStack(options);
    stacks.push(stack);
    return stack;
  }

  async function stop(stack: Stack): Promise<void> {
    stacks.splice(stacks.indexOf(stack), 1);
    await stack.stop();
  }

  test('the configured channels\' guide: asked in series, valid, matching the playlist, gzip, cached for a restart', async () => {
    const relay = await startRelay();
    relays.push(relay);
    const stack = await start({ receiver: { port: relay.port }, block: { epg: { days: DAYS } }, app: { cacheDir, guideTiming: FAST } });
    relay.setTarget(Number(new URL(stack.sim.webUrl).port));
    await channelsLoaded(stack);
    const channels = stack.app.receivers[0].channels().all;

    let xml = '';
    await until(async () => {
      const answer = await get(`${stack.url}/xmltv.xml`);
      xml = answer.body.toString('utf8');
      return answer.status === 200;
    }, 15_000, () => `a guide (${stack.logs.join(' | ')})`);
    const now = Date.now();

    // Asked: each configured channel once, nothing else, never two requests at once.
    const asked = stack.sim.requests.filter((r) => r.path === '/api/epgservice');
    expect(asked.map((r) => r.query.sRef).sort()).toEqual(channels.map((c) => c.ref.ref).sort());
    expect(asked.every((r) => r.query.endTime === String(DAYS * 24 * 60) && Number(r.query.time) <= now / 1000)).toBe(true);
    expect(relay.maxWaiting()).toBe(1);
    // ...and the relay does see two at once when there are two.
    await Promise.all([get(`http://127.0.0.1:${relay.port}/api/about`), get(`http://127.0.0.1:${relay.port}/api/about`)]);
    expect(relay.maxWaiting()).toBe(2);

    // Channel ids are the playlist's tvg-ids; every programme belongs to a listed channel.
    const playlist = (await get(`${stack.url}/playlist.m3u`)).body.toString('utf8');
    const tvgIds = new Set([...playlist.matchAll(/tvg-id="([^"]*)"/g)].map((m) => m[1]));
    const channelIds = attributes(xml, 'channel', 'id');
    const programmeChannels = attributes(xml, 'programme', 'channel');
    expect(channelIds.length).toBeGreaterThan(3);
    expect(channelIds.every((id) => tvgIds.has(id))).toBe(true);
    expect(programmeChannels.every((id) => channelIds.includes(id))).toBe(true);
    // Channels without EPG on the box (Fix & Foxi, the IPTV one) have no programmes and no element.
    expect(xml).not.toContain('Fix &amp; Foxi');
    expect(xml).toContain('<display-name>Das Erste HD</display-name>');
    expect(xml).toContain(`<icon src="${stack.url}/picon/${encodeURIComponent('1:0:19:283D:3FB:1:C00000:0:0:0:')}.png"/>`);
    // The box's HTML escaping is undone, and the text escaped for XML once.
    expect(xml).toContain('Tatort: Borowski &amp; die Angst');
    expect(xml).not.toContain('&amp;amp;');

    // Every channel's programmes reach the configured days ahead.
    for (const id of channelIds) {
      const stops = [...xml.matchAll(new RegExp(`<programme start="[^"]+" stop="([^"]+)" channel="${id}">`, 'g'))].map((m) => xmltvMs(m[1]));
      expect(Math.max(...stops)).toBeGreaterThanOrEqual(now + DAYS * 86_400_000 - SIM_EPG_SLOT_S * 1000);
    }

    // XMLTV's validator accepts it: valid against the DTD, ids in its dotted style, no complaint.
    const validation = await tvValidate(xml);
    expect(validation.complaints).toEqual([]);
    expect(validation.code).toBe(0);

    // gzip when asked for, the same document; /xmltv.xml.gz is always a gzip file.
    const zipped = await get(`${stack.url}/xmltv.xml`, { 'Accept-Encoding': 'gzip' });
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['content-type']).toBe('application/xml; charset=utf-8');
    // fetch() unpacks Content-Encoding itself: compare what it got, and the raw bytes once more.
    expect(zipped.body.toString('utf8')).toBe(xml);
    const raw = await fetchBytes(`${stack.url}/xmltv.xml.gz`);
    expect(raw.headers['content-type']).toBe('application/gzip');
    expect(raw.headers['content-encoding']).toBeUndefined();
    expect(gunzipSync(raw.body).toString('utf8')).toBe(xml);
    const plain = await fetchBytes(`${stack.url}/xmltv.xml`);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString('utf8')).toBe(xml);

    // The cache file, and a restart that serves it before asking its box anything about EPG.
    await until(() => existsSync(join(cacheDir, GUIDE_CACHE_FILE)), 5_000, 'the cache file');
    await stop(stack);
    const again = await start({ block: { epg: { days: DAYS } }, proxy: { token: 's3cret' }, app: { cacheDir, guideTiming: { firstFetchMs: 60_000 } } });
    const cached = await get(`${again.url}/xmltv.xml?token=s3cret`);
    expect(cached.status).toBe(200);
    expect(again.sim.requests.filter((r) => r.path === '/api/epgservice')).toEqual([]);
    const cachedXml = cached.body.toString('utf8');
    expect(attributes(cachedXml, 'channel', 'id')).toEqual(channelIds);
    expect(attributes(cachedXml, 'programme', 'start')).toEqual(attributes(xml, 'programme', 'start').slice(0, attributes(cachedXml, 'programme', 'start').length));
    // With a token, the document's URLs carry it; without one, no guide.
    expect(attributes(cachedXml, 'icon', 'src').every((src) => src.endsWith('.png?token=s3cret'))).toBe(true);
    expect((await get(`${again.url}/xmltv.xml`)).status).toBe(401);
  });

  test('503 with Retry-After before the first guide; 404 saying how to turn it on when it is off', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'xg2g-guide-empty-'));
    try {
      const waiting = await start({ app: { cacheDir: fresh, guideTiming: { firstFetchMs: 60_000 } } });
      const early = await get(`${waiting.url}/xmltv.xml`);
      expect(early.status).toBe(503);
      expect(Number(early.headers['retry-after'])).toBeGreaterThan(0);
      expect(early.body.toString()).toMatch(/first time; try again/);
      await stop(waiting);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }

    const off = await start({ block: { epg: { enabled: false } } });
    await channelsLoaded(off);
    const answer = await get(`${off.url}/xmltv.xml`);
    expect(answer.status).toBe(404);
    expect(answer.body.toString()).toMatch(/guide is off.*epg\.enabled.*XG2G_EPG_ENABLED/);
    expect((await get(`${off.url}/xmltv.xml.gz`)).status).toBe(404);
    // Nothing asked the box for EPG.
    expect(off.sim.requests.filter((r) => r.path === '/api/epgservice')).toEqual([]);
  });
});
