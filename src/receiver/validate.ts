/**
 * Checks every OpenWebIF answer where it enters and turns it into the domain types of `types.ts`.
 * A shape the box should never send throws `ShapeError` saying which key was wrong; the client
 * wraps it into a `protocol` ReceiverError naming the receiver and endpoint. Quirks real boxes do
 * have (string booleans, absent keys in standby, `begin_timestamp: 0`, null MACs) are accepted.
 */
import { decodeHtmlEntities } from './html-entities';
import { channelId, isPlayable, tryParseServiceRef } from './service-ref';
import type {
  Bouquet,
  BouquetService,
  CurrentService,
  DeviceInfo,
  EpgEvent,
  MessageAnswer,
  Programme,
  ReceiverStatus,
  StreamTarget,
  Timer,
  Tuner,
  VolumeState,
} from './types';

/** An answer that parsed but is not shaped as OpenWebIF shapes it. */
export class ShapeError extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'ShapeError';
  }
}

type Obj = Record<string, unknown>;

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 20 ? 'a string' : `"${v}"`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, where: string): Obj {
  if (!isObject(v)) throw new ShapeError(`${where} is ${describe(v)}, not an object`);
  return v;
}

function arr(o: Obj, key: string, where = ''): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new ShapeError(`${where}"${key}" is ${describe(v)}, not a list`);
  return v;
}

function str(o: Obj, key: string, where = ''): string {
  const v = o[key];
  if (typeof v !== 'string') throw new ShapeError(`${where}"${key}" is ${describe(v)}, not text`);
  return v;
}

/** Optional text; numbers are accepted because some images send versions as numbers. */
function optStr(o: Obj, key: string, where = ''): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new ShapeError(`${where}"${key}" is ${describe(v)}, not text`);
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

function num(o: Obj, key: string, where = ''): number {
  const n = toNumber(o[key]);
  if (n === undefined) throw new ShapeError(`${where}"${key}" is ${describe(o[key])}, not a number`);
  return n;
}

function optNum(o: Obj, key: string, where = ''): number | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  return num(o, key, where);
}

/** OpenWebIF mixes real booleans and the strings "true"/"false"; both mean the same. */
function bool(o: Obj, key: string, where = ''): boolean {
  const v = o[key];
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  throw new ShapeError(`${where}"${key}" is ${describe(v)}, not true/false`);
}

function volumeOf(o: Obj, key: string): number {
  const v = num(o, key);
  if (v < 0 || v > 100) throw new ShapeError(`"${key}" is ${v}, outside 0-100`);
  return Math.round(v);
}

/** Epoch seconds to a Date; 0 or absent means "unknown". */
function dateOf(seconds: number | undefined): Date | null {
  return seconds === undefined || seconds <= 0 ? null : new Date(seconds * 1000);
}

/** `result: false` answers carry the box's reason; undefined when the answer is not a refusal. */
export function refusalOf(raw: unknown): string | undefined {
  if (!isObject(raw) || raw.result !== false) return undefined;
  return typeof raw.message === 'string' ? raw.message : '';
}

// ---------------------------------------------------------------------------------------------

export function parseStatusInfo(raw: unknown): ReceiverStatus {
  const o = obj(raw, 'the answer');
  const status: ReceiverStatus = {
    inStandby: bool(o, 'inStandby'),
    volume: volumeOf(o, 'volume'),
    muted: bool(o, 'muted'),
    isRecording: bool(o, 'isRecording'),
    isStreaming: bool(o, 'isStreaming'),
  };
  // Some images keep reporting the last service in standby; in standby nothing is being watched.
  if (status.inStandby) return status;

  const refText = optStr(o, 'currservice_serviceref');
  const ref = refText ? tryParseServiceRef(refText) : undefined;
  if (ref) status.channel = { ref, name: optStr(o, 'currservice_station') ?? '' };

  const title = decodeHtmlEntities(optStr(o, 'currservice_name') ?? '').trim();
  if (title !== '' && title !== 'N/A') {
    const programme: Programme = {
      title,
      begin: dateOf(optNum(o, 'currservice_begin_timestamp')),
      end: dateOf(optNum(o, 'currservice_end_timestamp')),
      description: decodeHtmlEntities(optStr(o, 'currservice_description') ?? ''),
    };
    status.programme = programme;
  }
  return status;
}

const NO_MAC = /^(00[:-]?){5}00$/;

export function parseDeviceInfo(raw: unknown, host: string): DeviceInfo {
  const o = obj(raw, 'the answer');
  const model = str(o, 'model');
  const tuners: Tuner[] = arr(o, 'tuners').map((t, i) => {
    const to = obj(t, `tuner ${i + 1}`);
    return { name: optStr(to, 'name', `tuner ${i + 1} `) ?? `Tuner ${i + 1}`, type: optStr(to, 'type', `tuner ${i + 1} `) ?? '' };
  });
  let mac: string | null = null;
  const ifaces = o.ifaces === undefined ? [] : arr(o, 'ifaces');
  for (const [i, iface] of ifaces.entries()) {
    const m = optStr(obj(iface, `interface ${i + 1}`), 'mac', `interface ${i + 1} `)?.trim().toLowerCase();
    if (m && !NO_MAC.test(m)) {
      mac = m;
      break;
    }
  }
  return {
    brand: optStr(o, 'brand') ?? '',
    model,
    boxtype: optStr(o, 'boxtype') ?? model,
    imageDistro: optStr(o, 'imagedistro') ?? '',
    imageVersion: optStr(o, 'imagever') ?? '',
    webifVersion: optStr(o, 'webifver') ?? '',
    tuners,
    tunerCount: tuners.length,
    mac,
    identity: mac ?? host,
  };
}

export function parseBouquets(raw: unknown): Bouquet[] {
  const o = obj(raw, 'the answer');
  return arr(o, 'bouquets').map((entry, i) => {
    if (!Array.isArray(entry) || entry.length < 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') {
      throw new ShapeError(`bouquet ${i + 1} is ${describe(entry)}, not a [reference, name] pair`);
    }
    return { ref: entry[0], name: entry[1] };
  });
}

/**
 * getservices → playable channels in bouquet order. Markers, hidden entries, sub-bouquets and
 * entries whose reference does not parse (nothing could stream them) are left out.
 */
export function parseServices(raw: unknown): BouquetService[] {
  const o = obj(raw, 'the answer');
  const channels: BouquetService[] = [];
  arr(o, 'services').forEach((item, i) => {
    const where = `service ${i + 1} `;
    const s = obj(item, `service ${i + 1}`);
    const ref = tryParseServiceRef(str(s, 'servicereference', where));
    const name = str(s, 'servicename', where);
    if (!ref || !isPlayable(ref)) return;
    const pos = optNum(s, 'pos', where);
    channels.push({
      ref,
      name,
      program: optNum(s, 'program', where) ?? ref.sid,
      position: pos !== undefined && Number.isInteger(pos) && pos > 0 ? pos : channels.length + 1,
    });
  });
  return channels;
}

/** One EPG event; null when it names no parseable service (nothing could use it). */
export function parseEpgEvent(raw: unknown, where: string, fallbackRef?: string): EpgEvent | null {
  const e = obj(raw, where);
  const w = `${where} `;
  const ref = tryParseServiceRef(optStr(e, 'sref', w) ?? fallbackRef ?? '');
  if (!ref) return null;
  return {
    id: optNum(e, 'id', w) ?? 0,
    ref,
    channelName: decodeHtmlEntities(optStr(e, 'sname', w) ?? ''),
    title: decodeHtmlEntities(str(e, 'title', w)),
    shortDescription: decodeHtmlEntities(optStr(e, 'shortdesc', w) ?? ''),
    longDescription: decodeHtmlEntities(optStr(e, 'longdesc', w) ?? ''),
    begin: dateOf(optNum(e, 'begin_timestamp', w)),
    durationSec: optNum(e, 'duration_sec', w) ?? 0,
    genre: decodeHtmlEntities(optStr(e, 'genre', w) ?? ''),
  };
}

export function parseEpgList(raw: unknown): EpgEvent[] {
  const o = obj(raw, 'the answer');
  const events: EpgEvent[] = [];
  arr(o, 'events').forEach((item, i) => {
    const ev = parseEpgEvent(item, `event ${i + 1}`);
    if (ev) events.push(ev);
  });
  return events;
}

/**
 * epgservice → the channel's events that have a time: a channel without EPG is answered with one
 * `begin_timestamp: 0`, "N/A" placeholder. One event the box wrote badly (some images send a null
 * title) is left out instead of costing the channel its whole guide.
 */
export function parseEpgService(raw: unknown, ref: string): EpgEvent[] {
  const o = obj(raw, 'the answer');
  const events: EpgEvent[] = [];
  arr(o, 'events').forEach((item, i) => {
    try {
      const ev = parseEpgEvent(item, `event ${i + 1}`, ref);
      if (ev && ev.begin !== null) events.push(ev);
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
    }
  });
  return events;
}

export function parseCurrent(raw: unknown): CurrentService {
  const o = obj(raw, 'the answer');
  const info = obj(o.info, '"info"');
  const refText = optStr(info, 'ref', '"info" ');
  const ref = refText ? tryParseServiceRef(refText) : undefined;
  // Without EPG the box sends `{}`, nothing, or the `begin_timestamp: 0`, "N/A" placeholder.
  const event = (key: 'now' | 'next'): EpgEvent | null => {
    const v = o[key];
    if (v === undefined || v === null || (isObject(v) && Object.keys(v).length === 0)) return null;
    const ev = parseEpgEvent(v, `"${key}"`, ref?.ref);
    return ev && ev.begin === null && ev.title === 'N/A' ? null : ev;
  };
  return {
    ...(ref ? { channel: { ref, name: optStr(info, 'name', '"info" ') ?? '', provider: optStr(info, 'provider', '"info" ') ?? '' } } : {}),
    now: event('now'),
    next: event('next'),
  };
}

export function parseVolume(raw: unknown): VolumeState {
  const o = obj(raw, 'the answer');
  return { volume: volumeOf(o, 'current'), muted: bool(o, 'ismute') };
}

/** powerstate → whether the box was in standby BEFORE the change. */
export function parsePowerState(raw: unknown): boolean {
  return bool(obj(raw, 'the answer'), 'instandby');
}

/** A verdict-only answer (zap, remotecontrol): `result` must be there and true. */
export function parseVerdict(raw: unknown): string {
  const o = obj(raw, 'the answer');
  if (o.result !== true) throw new ShapeError(`"result" is ${describe(o.result)}, not true/false`);
  return optStr(o, 'message') ?? '';
}

/** `/web/stream.m3u` text → where the channel streams from. */
export function parseStreamPlaylist(text: string): StreamTarget {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (lines[0] !== '#EXTM3U') throw new ShapeError('not an M3U playlist: no #EXTM3U header');
  let program: number | null = null;
  for (const line of lines) {
    const m = /^#EXTVLCOPT:program=(\d+)$/i.exec(line);
    if (m) program = parseInt(m[1], 10);
  }
  const urlLine = lines.find((l) => !l.startsWith('#'));
  if (urlLine === undefined) throw new ShapeError('the playlist holds no stream URL');
  let url: URL;
  try {
    url = new URL(urlLine);
  } catch {
    throw new ShapeError('the playlist\'s stream URL is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ShapeError(`the stream URL uses ${url.protocol}, not http`);
  // The box embeds user:password when stream auth is on; the caller has the credentials anyway.
  url.username = '';
  url.password = '';
  const port = url.port !== '' ? parseInt(url.port, 10) : url.protocol === 'https:' ? 443 : 80;
  return { url: url.toString(), port, program };
}

// ---------------------------------------------------------------------------------------------
// Timers and messages (home control)
// ---------------------------------------------------------------------------------------------

/** enigma2's TimerEntry states: 0 waiting, 1 prepared, 2 running, 3 ended (4 failed on some images). */
const TIMER_STATES: Record<number, Timer['state']> = { 0: 'waiting', 1: 'preparing', 2: 'recording', 3: 'done' };

/** OpenWebIF writes flags as 0/1, some images as booleans. */
function flag(o: Obj, key: string, where: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  const n = toNumber(v);
  if (n === undefined) throw new ShapeError(`${where}"${key}" is ${describe(v)}, not 0/1`);
  return n !== 0;
}

/**
 * The id a timer is addressed by (`<begin>_<end>_<channel id>`, Unix seconds): enigma2 itself
 * tells timers apart by reference, begin and end. A reference that is no plain channel (a bouquet
 * of alternatives, an odd IPTV spelling) gets its own characters, made safe for topics.
 */
export function timerId(ref: string, begin: number, end: number): string {
  const parsed = tryParseServiceRef(ref);
  const channel = parsed && isPlayable(parsed) ? channelId(parsed) : ref.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '').toLowerCase().slice(0, 60) || 'unknown';
  return `${begin}_${end}_${channel}`;
}

/**
 * `/api/timerlist` → the recording timers, in the box's order. Zap timers (`justplay`) are left out:
 * they record nothing. One timer the box wrote badly is left out instead of costing the whole list.
 */
export function parseTimerList(raw: unknown): Timer[] {
  const o = obj(raw, 'the answer');
  const timers: Timer[] = [];
  arr(o, 'timers').forEach((item, i) => {
    const where = `timer ${i + 1} `;
    const t = obj(item, `timer ${i + 1}`);
    const ref = str(t, 'serviceref', where);
    const begin = Math.floor(num(t, 'begin', where));
    const end = Math.floor(num(t, 'end', where));
    if (flag(t, 'justplay', where)) return;
    const code = optNum(t, 'state', where) ?? 0;
    const eit = optNum(t, 'eit', where);
    const timer: Timer = {
      id: timerId(ref, begin, end),
      // Timer names are written as they were given (not HTML-escaped like EPG text).
      name: optStr(t, 'name', where) ?? '',
      channel: optStr(t, 'servicename', where) ?? '',
      ref,
      begin: new Date(begin * 1000),
      end: new Date(end * 1000),
      state: flag(t, 'disabled', where) ? 'disabled' : (TIMER_STATES[code] ?? 'done'),
    };
    if (eit !== undefined && eit > 0) timer.eventId = eit;
    if (flag(t, 'dontsave', where)) timer.instant = true;
    timers.push(timer);
  });
  return timers;
}

/**
 * `/api/messageanswer` → the answer to the last yes/no message. The box keeps one answer and says
 * `result: false, "No answer in time"` while there is none, which is not a failure here.
 */
export function parseMessageAnswer(raw: unknown): MessageAnswer {
  const o = obj(raw, 'the answer');
  if (o.result === false) return 'none';
  if (o.result !== true) throw new ShapeError(`"result" is ${describe(o.result)}, not true/false`);
  const message = optStr(o, 'message') ?? '';
  // The sentence is translated into the box's language ("Antwort ist JA!"): its last word decides.
  const last = message.toLowerCase().replace(/[!.?\s]+$/u, '').split(/\s+/).pop() ?? '';
  if (YES_WORDS.has(last)) return 'yes';
  if (NO_WORDS.has(last)) return 'no';
  throw new ShapeError(`"message" is ${describe(message)}, not "Answer is YES!" or "Answer is NO!"`);
}

/** "Yes" and "no" in the languages enigma2 images ship translations for most often. */
const YES_WORDS = new Set(['yes', 'ja', 'oui', 'si', 'sí', 'sì', 'sim', 'tak', 'ano', 'áno', 'da', 'igen', 'kyllä', 'evet', 'jah', 'taip', 'jā', 'ναι', 'да', 'так']);
const NO_WORDS = new Set(['no', 'nein', 'non', 'não', 'nie', 'ne', 'nem', 'ei', 'hayır', 'nee', 'nej', 'nei', 'nu', 'όχι', 'нет', 'ні']);
