/**
 * The simulated OpenWebIF web interface: every `/api` endpoint the client uses, with the exact JSON
 * shapes and quirks of docs/openwebif-api.md (string booleans, HTTP 200 for missing parameters,
 * instandby = the state before the change, zap that does not wake, HTML-escaped EPG), plus
 * `/web/stream.m3u`, the `/grab` screenshot, Basic auth and the injectable faults tests need.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { parseServiceRef, tryParseServiceRef } from '../receiver/service-ref';
import { SIM_EPG_MAX_EVENTS, SIM_EPG_SLOT_S, SIM_GRAB_MAX_WIDTH, SIM_VOLUME_STEP } from '../settings';
import {
  channelEvents,
  emptyEvent,
  refFlags,
  type ChannelData,
  type SimBouquet,
  type SimChannel,
  type SimEvent,
} from './channels';
import type { SimHome } from './home';
import { buildPicons } from './picons';
import { checkBasicAuth } from './stream-server';
import { flatQuery, type SimContext } from './state';

export interface WebOptions {
  ctx: SimContext;
  data: ChannelData;
  host: string;
  port: number;
  auth?: { username: string; password: string };
  tuners: number;
  macNull: boolean;
  /** The MAC deviceinfo reports (and Wake-on-LAN answers to). */
  mac: string;
  /** Timers, instant recordings and messages. */
  home: SimHome;
  /** Ports written into stream.m3u. */
  streamPort(): number;
  relayPort(): number;
  /** Called after the box changed power state from the web interface (deep standby, reboot, ...). */
  onPower(kind: 'deep' | 'reboot' | 'restart'): void;
  /** A JPEG of the screen `width` pixels wide: the channel's picture, or black without one (standby). */
  grab(channel: SimChannel | undefined, width: number): Promise<Buffer>;
}

type Json = Record<string, unknown>;
type Handler = (q: Record<string, string>, req: IncomingMessage) => Json | { text: string; type: string };

/** Python's html.escape(quote=True), which OpenWebIF applies to EPG strings. */
export function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
}

function escapeEvent(e: SimEvent): SimEvent {
  return {
    ...e,
    title: htmlEscape(e.title),
    shortdesc: htmlEscape(e.shortdesc),
    longdesc: htmlEscape(e.longdesc),
    sname: htmlEscape(e.sname),
  };
}

const missing = (name: string): Json => ({ result: false, message: `Missing mandatory parameter '${name}'` });
const nowS = (): number => Math.floor(Date.now() / 1000);

function processingTime(startNs: bigint): string {
  const us = Number((process.hrtime.bigint() - startNs) / 1000n);
  return `0:00:${String(Math.floor(us / 1e6)).padStart(2, '0')}.${String(us % 1e6).padStart(6, '0')}`;
}

const NOT_FOUND_HTML =
  '<html><head><title>404 - No Such Resource</title></head><body><h1>No Such Resource</h1><p>File not found.</p></body></html>';

export class WebServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly routes: Record<string, Handler>;
  /** The picon folder OpenWebIF serves as static files under /picon/. */
  private readonly picons: Map<string, Buffer>;
  /** Work that must wait until the answer is on the wire (deep standby drops the connection). */
  private afterResponse: (() => void) | undefined;
  port = 0;

  constructor(private readonly o: WebOptions) {
    this.server = createServer((req, res) => this.onRequest(req, res));
    this.server.on('connection', (s: Socket) => {
      // Deep standby and the 'refuse' fault: the box does not talk HTTP at all.
      if (this.unreachable()) {
        s.destroy();
        return;
      }
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.picons = buildPicons(o.data.channels.values());
    this.routes = {
      '/api/statusinfo': () => this.statusinfo(),
      '/api/about': () => ({ info: this.deviceinfo(), service: this.currentInfo() }),
      '/api/deviceinfo': () => this.deviceinfo(),
      '/api/bouquets': (q) => this.bouquets(q.stype === 'radio' ? 'radio' : 'tv'),
      '/api/getservices': (q) => this.getservices(q),
      '/api/getallservices': (q) => this.getallservices(q.type === 'radio' ? 'radio' : 'tv'),
      '/api/zap': (q) => this.zap(q),
      '/api/powerstate': (q) => this.powerstate(q),
      '/api/vol': (q) => this.vol(q),
      '/api/remotecontrol': (q) => this.remotecontrol(q),
      '/api/getcurrent': () => this.getcurrent(),
      '/api/epgnow': (q) => this.epgBouquet(q, 0),
      '/api/epgnext': (q) => this.epgBouquet(q, 1),
      '/api/epgservice': (q) => this.epgservice(q),
      '/web/stream.m3u': (q, req) => this.streamM3u(q, req),
      ...o.home.routes(),
    };
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port, this.o.host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        if (addr && typeof addr === 'object') this.port = addr.port;
        resolve();
      });
    });
  }

  /** Drops every open connection (deep standby, 'refuse' fault); the listener stays bound. */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    this.server.closeAllConnections();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private unreachable(): boolean {
    return this.o.ctx.state.power === 'deep' || this.o.ctx.fault === 'refuse';
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const { ctx } = this.o;
    const url = new URL(req.url ?? '/', 'http://sim');
    const query = flatQuery(url.searchParams);
    ctx.record({ listener: 'web', method: req.method ?? 'GET', path: url.pathname, query, headers: { ...req.headers }, at: Date.now() });
    if (this.unreachable()) {
      req.socket.destroy();
      return;
    }
    if (ctx.fault === 'hang') return; // never answers; close() destroys the socket
    if (this.o.auth && !checkBasicAuth(req.headers.authorization ?? '', this.o.auth)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="OpenWebif"', 'Content-Type': 'text/html' });
      res.end('<html><head><title>401 - Unauthorized</title></head><body><h1>Unauthorized</h1></body></html>');
      return;
    }
    if (ctx.fault === 'html') {
      this.send(req, res, 200, 'text/html', '<html><head><title>OpenWebif</title></head><body><p>Loading...</p></body></html>');
      return;
    }
    if (ctx.fault === 'garbage') {
      this.send(req, res, 200, 'application/json; charset=utf-8', '{"result": true, "volume": 5');
      return;
    }
    if (url.pathname.startsWith('/picon/')) return this.picon(req, res, url.pathname);
    if (url.pathname === '/grab') return this.grab(req, res, query);
    const route = this.routes[url.pathname];
    if (!route) {
      this.send(req, res, 404, 'text/html', NOT_FOUND_HTML);
      return;
    }
    this.afterResponse = undefined;
    const out = route(query, req);
    const after = this.afterResponse;
    this.afterResponse = undefined;
    if (after) res.on('finish', after);
    if ('text' in out && typeof out.text === 'string' && typeof out.type === 'string') {
      this.send(req, res, 200, out.type, out.text);
    } else {
      this.send(req, res, 200, 'application/json; charset=utf-8', JSON.stringify(out));
    }
  }

  /** A static file of the picon folder, or the HTML 404 of any unknown path. */
  private picon(req: IncomingMessage, res: ServerResponse, pathname: string): void {
    let name = '';
    try {
      name = decodeURIComponent(pathname.slice('/picon/'.length));
    } catch {
      // Not a file name: answered like any missing file.
    }
    const png = this.picons.get(name);
    if (!png) return this.send(req, res, 404, 'text/html', NOT_FOUND_HTML);
    res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': png.length });
    res.end(req.method === 'HEAD' ? undefined : png);
  }

  /**
   * OpenWebIF's screenshot (`/grab?format=jpg&r=<width>`): a JPEG of what the TV shows, resized to
   * the width asked (the box's own width when none). Slow on a real box; the simulator makes one with
   * ffmpeg per request, so tests can count how often a client asks.
   */
  private grab(req: IncomingMessage, res: ServerResponse, q: Record<string, string>): void {
    const asked = Number(q.r);
    const width = Number.isInteger(asked) && asked > 0 ? Math.min(Math.max(asked, 16), SIM_GRAB_MAX_WIDTH) : SIM_GRAB_MAX_WIDTH;
    this.o.grab(this.current(), width).then(
      (jpeg) => {
        res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': jpeg.length });
        res.end(req.method === 'HEAD' ? undefined : jpeg);
      },
      () => this.send(req, res, 500, 'text/html', '<html><body><h1>Grab failed</h1></body></html>'),
    );
  }

  private send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string): void {
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const payload = gzip ? gzipSync(body) : Buffer.from(body, 'utf8');
    const headers: Record<string, string | number> = { 'Content-Type': type, 'Content-Length': payload.length };
    if (gzip) headers['Content-Encoding'] = 'gzip';
    res.writeHead(status, headers);
    res.end(payload);
  }

  // ------------------------------------------------------------------ helpers

  private get state() {
    return this.o.ctx.state;
  }

  private channel(ref: string): SimChannel | undefined {
    const parsed = tryParseServiceRef(ref);
    return parsed ? this.o.data.channels.get(parsed.ref) : undefined;
  }

  private current(): SimChannel | undefined {
    return this.state.power === 'on' ? this.channel(this.state.channelRef) : undefined;
  }

  private streamingList(): string {
    return [...this.o.ctx.streams]
      .map((s) => `${s.client}: ${this.channel(s.ref)?.name ?? s.ref}\n`)
      .join('');
  }

  // ------------------------------------------------------------------ endpoints

  private statusinfo(): Json {
    const st = this.state;
    const streaming = this.o.ctx.streams.size > 0;
    const out: Json = {
      volume: st.volume,
      muted: st.power === 'on' ? st.muted : true,
      transcoding: false,
      currservice_filename: '',
      currservice_id: -1,
    };
    const ch = this.current();
    const ev = ch ? channelEvents(ch, nowS(), 1)[0] : undefined;
    if (ch && ev) {
      const fmt = (t: number): string => new Date(t * 1000).toTimeString().slice(0, 5);
      Object.assign(out, {
        currservice_name: ev.title,
        currservice_serviceref: ch.ref,
        currservice_begin: fmt(ev.begin_timestamp),
        currservice_begin_timestamp: ev.begin_timestamp,
        currservice_end: fmt(ev.begin_timestamp + ev.duration_sec),
        currservice_end_timestamp: ev.begin_timestamp + ev.duration_sec,
        currservice_description: ev.shortdesc,
        currservice_fulldescription: `${ev.title}\n${fmt(ev.begin_timestamp)} - ${fmt(ev.begin_timestamp + ev.duration_sec)}\n\n${ev.longdesc}`,
        currservice_station: ch.name,
        currservice_id: ev.id,
      });
    } else {
      Object.assign(out, {
        currservice_name: 'N/A',
        currservice_begin: '',
        currservice_end: '',
        currservice_description: '',
        currservice_fulldescription: 'N/A',
      });
      if (ch) Object.assign(out, { currservice_serviceref: ch.ref, currservice_station: ch.name });
    }
    Object.assign(out, {
      inStandby: st.power === 'on' ? 'false' : 'true',
      isRecording: st.recording || this.o.home.recording() ? 'true' : 'false',
      isStreaming: streaming ? 'true' : 'false',
      Streaming_list: this.streamingList(),
    });
    return out;
  }

  private deviceinfo(): Json {
    const watched = this.current();
    const streamed = this.o.ctx.tuners.services();
    const tuners = Array.from({ length: this.o.tuners }, (_, i) => ({
      name: `Tuner ${String.fromCharCode(65 + i)}`,
      type: 'Vuplus DVB-S NIM(45308X FBC) (DVB-S2X)',
      rec: '',
      live: i === 0 && watched ? watched.name : '',
      stream: streamed[i] ? (this.channel(streamed[i])?.name ?? '') : '',
    }));
    return {
      brand: 'Vu+',
      model: 'Uno 4K SE',
      boxtype: 'vuuno4kse',
      machinebuild: 'vuuno4kse',
      chipset: 'BCM7252S',
      friendlychipsetdescription: 'Chipset',
      friendlychipsettext: 'Broadcom 7252S',
      mem1: '1001644 kB',
      mem2: '623060 kB',
      mem3: '623060 kB free / 1001644 kB total',
      uptime: '2d 4:17',
      imagedistro: 'openatv',
      friendlyimagedistro: 'openATV',
      imagever: '7.5.1',
      oever: 'OE-Alliance 5.5',
      enigmaver: '2024-11-02',
      kernelver: '4.1.45',
      driverdate: '20231016',
      webifver: 'OWIF 2.4.0',
      fp_version: null,
      lcd: 0,
      grabpip: 1,
      tuners,
      ifaces: [
        {
          name: 'eth0',
          friendlynic: 'Broadcom Gigabit Ethernet',
          linkspeed: '1 GBit/s',
          mac: this.o.macNull ? null : this.o.mac,
          dhcp: true,
          ipv4method: 'DHCP',
          ip: '192.168.1.100',
          mask: '255.255.255.0',
          v4prefix: 24,
          gw: '192.168.1.1',
          ipv6: '',
          ipmethod: 'IPv4',
          firstpublic: null,
        },
      ],
      hdd: [],
      shares: [],
      transcoding: false,
      EX: '',
    };
  }

  private currentInfo(): Json {
    const ch = this.current();
    if (!ch) {
      return { result: false, name: 'N/A', provider: 'N/A', ref: '', namespace: '', aspect: 0, width: 0, height: 0, vpid: -1, apid: -1, pcrpid: -1, pmtpid: -1, txtpid: -1, tsid: -1, onid: -1, sid: -1, iswidescreen: false };
    }
    const r = parseServiceRef(ch.ref);
    return {
      result: true,
      name: ch.name,
      provider: ch.provider,
      ref: ch.ref,
      namespace: r.namespace,
      aspect: 3,
      width: ch.width,
      height: ch.height,
      vpid: ch.width ? 256 : -1,
      apid: 257,
      pcrpid: 256,
      pmtpid: 4096,
      txtpid: 'N/A',
      tsid: r.tsid,
      onid: r.onid,
      sid: r.sid,
      iswidescreen: true,
    };
  }

  private bouquets(kind: 'tv' | 'radio'): Json {
    return { bouquets: this.o.data.bouquets.filter((b) => b.kind === kind).map((b) => [b.ref, b.name]) };
  }

  /** getservices' listing of one bouquet, with OpenWebIF's position counting. */
  private listBouquet(b: SimBouquet, startPos: number, showHidden: boolean): { services: Json[]; pos: number } {
    let pos = startPos;
    const services: Json[] = [];
    for (const e of b.entries) {
      const flags = refFlags(e.ref);
      const numberedMarker = (flags & 256) !== 0;
      if (numberedMarker || (!(flags & 512) && !(flags & 64))) pos += 1;
      if (flags & 512 && !showHidden) continue;
      services.push({
        pos: flags & 64 ? 0 : pos,
        servicename: e.name,
        servicereference: e.ref,
        program: parseInt(e.ref.split(':')[3] ?? '0', 16) || 0,
      });
    }
    return { services, pos };
  }

  private listBouquets(kind: 'tv' | 'radio', start: bigint): Json {
    let pos = 0;
    const services: Json[] = [];
    for (const b of this.o.data.bouquets.filter((x) => x.kind === kind)) {
      services.push({ pos: pos + 1, startpos: pos, servicename: b.name, servicereference: b.ref, program: 0 });
      pos = this.listBouquet(b, pos, false).pos;
    }
    return { result: true, processingtime: processingTime(start), pos, services };
  }

  private getservices(q: Record<string, string>): Json {
    const start = process.hrtime.bigint();
    const sRef = q.sRef ?? '';
    if (sRef === '' || sRef.includes(' "bouquets.tv" ')) return this.listBouquets('tv', start);
    if (sRef.includes(' "bouquets.radio" ')) return this.listBouquets('radio', start);
    const b = this.o.data.allBouquets.get(sRef);
    if (!b) return { result: true, processingtime: processingTime(start), pos: 0, services: [] };
    const { services, pos } = this.listBouquet(b, 0, q.hidden === '1');
    return { result: true, processingtime: processingTime(start), pos, services };
  }

  private getallservices(kind: 'tv' | 'radio'): Json {
    const start = process.hrtime.bigint();
    let pos = 0;
    const services: Json[] = [];
    for (const b of this.o.data.bouquets.filter((x) => x.kind === kind)) {
      const listed = this.listBouquet(b, pos, false);
      pos = listed.pos;
      services.push({ servicereference: b.ref, servicename: b.name, subservices: listed.services });
    }
    return { result: true, processingtime: processingTime(start), services };
  }

  private zap(q: Record<string, string>): Json {
    if (q.sRef === undefined) return missing('sRef');
    const title = q.title || q.sRef;
    const ch = this.channel(q.sRef);
    if (ch?.blocked) return { result: false, message: `Service '${title}' is blocked by parental Control` };
    // In standby the box plays nothing; on wake it restores the service it had before standby.
    if (ch && this.state.power === 'on' && refFlags(ch.ref) === 0) this.state.channelRef = ch.ref;
    return { result: true, message: `Active service is now '${title}'` };
  }

  private powerstate(q: Record<string, string>): Json {
    const st = this.state;
    const before = st.power !== 'on';
    if (q.newstate === undefined) return { result: true, instandby: before };
    const n = Number(q.newstate);
    if (!Number.isInteger(n)) return { result: false, message: `Invalid newstate '${q.newstate}'` };
    switch (n) {
      case 0:
        st.power = st.power === 'on' ? 'standby' : 'on';
        break;
      case 1:
        this.afterResponse = () => this.o.onPower('deep');
        break;
      case 2:
        this.afterResponse = () => this.o.onPower('reboot');
        break;
      case 3:
        this.afterResponse = () => this.o.onPower('restart');
        break;
      case 4:
        st.power = 'on';
        break;
      case 5:
        st.power = 'standby';
        break;
    }
    return { result: true, instandby: before };
  }

  private volumeStatus(message: string, result = true): Json {
    return { result, message, current: this.state.volume, ismute: this.state.muted };
  }

  private vol(q: Record<string, string>): Json {
    const st = this.state;
    const set = q.set;
    if (set === undefined || set === 'state') return this.volumeStatus('Status');
    const clamp = (v: number): number => Math.max(0, Math.min(100, v));
    if (set === 'up') {
      st.volume = clamp(st.volume + SIM_VOLUME_STEP);
      return this.volumeStatus('Volume changed');
    }
    if (set === 'down') {
      st.volume = clamp(st.volume - SIM_VOLUME_STEP);
      return this.volumeStatus('Volume changed');
    }
    if (set === 'mute') {
      st.muted = !st.muted;
      return this.volumeStatus('Mute toggled');
    }
    if (set.startsWith('set')) {
      const v = Number(set.slice(3));
      if (set.length === 3 || !Number.isInteger(v)) {
        return this.volumeStatus(`Wrong parameter format 'set=${set}'. Use set=set15 `, false);
      }
      st.volume = clamp(v);
      return this.volumeStatus(`Volume set to ${st.volume}`);
    }
    return this.volumeStatus(`Unknown Volume command ${set}`, false);
  }

  private remotecontrol(q: Record<string, string>): Json {
    if (q.command === undefined) return missing('command');
    const code = Number(q.command);
    if (!Number.isInteger(code)) return { result: false, message: "The parameter 'command' must be a number" };
    this.o.ctx.keys.push(code);
    const st = this.state;
    if (code === 116) {
      st.power = st.power === 'on' ? 'standby' : 'on';
    } else if (st.power === 'on') {
      if (code === 115) st.volume = Math.min(100, st.volume + SIM_VOLUME_STEP);
      else if (code === 114) st.volume = Math.max(0, st.volume - SIM_VOLUME_STEP);
      else if (code === 113) st.muted = !st.muted;
      else if (code === 402 || code === 403) this.stepChannel(code === 402 ? 1 : -1);
    }
    return { result: true, message: `RC command '${code}' has been issued` };
  }

  /** Channel up/down walks the playable, unblocked channels of the first TV bouquet. */
  private stepChannel(dir: number): void {
    const list = (this.o.data.bouquets[0]?.entries ?? [])
      .map((e) => e.channel)
      .filter((c): c is SimChannel => !!c && refFlags(c.ref) === 0 && !c.blocked);
    if (list.length === 0) return;
    const i = list.findIndex((c) => c.ref === this.state.channelRef);
    this.state.channelRef = list[(i + dir + list.length) % list.length].ref;
  }

  private getcurrent(): Json {
    const ch = this.current();
    const t = nowS();
    const [now, next] = ch ? channelEvents(ch, t, 2) : [];
    const ref = ch?.ref ?? '';
    const name = ch?.name ?? '';
    return {
      info: this.currentInfo(),
      now: escapeEvent(now ?? emptyEvent(ref, name)),
      next: escapeEvent(next ?? emptyEvent(ref, name)),
    };
  }

  private epgBouquet(q: Record<string, string>, which: 0 | 1): Json {
    if (q.bRef === undefined) return missing('bRef');
    const b = this.o.data.allBouquets.get(q.bRef);
    if (!b) return { events: [], result: false };
    const t = nowS();
    const events: SimEvent[] = [];
    for (const e of b.entries) {
      if (!e.channel || refFlags(e.ref) !== 0) continue;
      const ev = channelEvents(e.channel, t, 2)[which];
      events.push(escapeEvent(ev ?? emptyEvent(e.channel.ref, e.channel.name)));
    }
    return { events, result: true };
  }

  private epgservice(q: Record<string, string>): Json {
    if (q.sRef === undefined) return missing('sRef');
    const ch = this.channel(q.sRef);
    if (!ch) return { events: [], result: true };
    const t = nowS();
    const from = q.time && Number(q.time) > 0 ? Number(q.time) : t;
    // endTime is a duration in minutes, as enigma2's EPG lookup takes it.
    const minutes = q.endTime && Number(q.endTime) > 0 ? Number(q.endTime) : 6 * 60;
    // Enough slots to fill the window (a week of 30-minute slots is 336), bounded as a box's EIT is.
    const count = Math.min(Math.ceil((minutes * 60) / SIM_EPG_SLOT_S) + 1, SIM_EPG_MAX_EVENTS);
    const events = channelEvents(ch, from, count).filter((e) => e.begin_timestamp < from + minutes * 60);
    // A channel without EPG is answered with one "N/A" placeholder, as a real box does.
    if (events.length === 0) return { events: [escapeEvent(emptyEvent(ch.ref, ''))], result: true };
    return { events: events.map(escapeEvent), result: true };
  }

  private streamM3u(q: Record<string, string>, req: IncomingMessage): { text: string; type: string } {
    const ref = q.ref ?? '';
    const ch = this.channel(ref);
    const name = q.name || ch?.name || 'stream';
    const sid = tryParseServiceRef(ref)?.sid ?? 0;
    const port = ch?.relay ? this.o.relayPort() : this.o.streamPort();
    const host = hostName(req.headers.host) || this.o.host;
    const text = [
      '#EXTM3U',
      '#EXTVLCOPT:http-reconnect=true',
      `#EXTINF:-1,${name}`,
      `#EXTVLCOPT:program=${sid}`,
      `http://${host}:${port}/${ref}`,
      '',
    ].join('\n');
    return { text, type: 'application/vnd.apple.mpegurl' };
  }
}

/** The host part of a Host header (IPv6 literals keep their brackets). */
function hostName(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  return header.split(':')[0];
}
