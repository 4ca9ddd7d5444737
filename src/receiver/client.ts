/**
 * The OpenWebIF client: one instance per receiver, typed methods per endpoint, answers checked
 * where they enter (`validate.ts`), failures turned into `ReceiverError`s a user can act on.
 *
 * Requests to one receiver run one at a time (weak boxes stall under parallel calls), each with a
 * total timeout, and all of them stop when the client is closed or the app's AbortSignal fires.
 * Credentials live in a private field and in the request headers only; no error carries them.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import {
  MESSAGE_TEXT_MAX_CHARS,
  MESSAGE_TIMEOUT_MAX_S,
  OWI_HTTP_PORT,
  OWI_HTTPS_PORT,
  OWI_MAX_RESPONSE_BYTES,
  OWI_QUEUE_MAX,
  OWI_TIMEOUT_MS,
  OWI_USER_AGENT,
  PICON_MAX_BYTES,
  PICON_TIMEOUT_MS,
  CAMERA_GRAB_MAX_BYTES,
  CAMERA_GRAB_TIMEOUT_MS,
} from '../settings';
import {
  abortedError,
  httpStatusError,
  isTlsCode,
  overloadedError,
  protocolError,
  ReceiverError,
  rejectedError,
  type RequestContext,
  timeoutError,
  tlsError,
  unreachableError,
} from './errors';
import { KEY_CODE_MAX } from './keys';
import { SerialQueue } from './serial-queue';
import { encodeServiceRef, parseServiceRef, type ServiceRef } from './service-ref';
import {
  type Bouquet,
  type BouquetService,
  type CurrentService,
  type DeviceInfo,
  type EpgEvent,
  type MessageAnswer,
  type MessageSpec,
  POWER_STATES,
  type PowerState,
  type ReceiverStatus,
  type StreamTarget,
  type Timer,
  type VolumeState,
} from './types';
import {
  parseBouquets,
  parseCurrent,
  parseDeviceInfo,
  parseEpgList,
  parseEpgService,
  parseMessageAnswer,
  parsePowerState,
  parseServices,
  parseStatusInfo,
  parseStreamPlaylist,
  parseTimerList,
  parseVerdict,
  parseVolume,
  refusalOf,
  ShapeError,
} from './validate';

export interface ReceiverConnection {
  /** Shown in error messages, e.g. "Living Room". */
  name?: string;
  host: string;
  /** Default 80, or 443 with https. */
  port?: number;
  https?: boolean;
  /** Accept a self-signed (or otherwise unverifiable) certificate. Only with https. */
  allowSelfSigned?: boolean;
  username?: string;
  password?: string;
  /** Total time per request, in ms (default `OWI_TIMEOUT_MS`). */
  timeoutMs?: number;
}

export interface ClientOptions {
  /** The app's stop signal: when it fires, the client closes (see `close()`). */
  signal?: AbortSignal;
}

/** What `/api/powerstate` reports: the state BEFORE the change; re-poll for the new one. */
export interface PowerResult {
  wasInStandby: boolean;
}

type Parser<T> = (raw: unknown) => T;

/** A DNS name (underscores tolerated, as some home routers hand them out). */
const HOST_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

/** The host as a bare name or address; undefined for URLs, `user@host`, `host:port` and the like. */
function bareHost(input: string): string | undefined {
  const bare = input.replace(/^\[(.*)\]$/, '$1');
  return isIP(bare) !== 0 || HOST_NAME.test(bare) ? bare : undefined;
}

export class OpenWebIfClient {
  /** `http(s)://host:port`, without credentials. */
  readonly baseUrl: string;
  /** `Name (host:port)`, as used in error messages. */
  readonly label: string;
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;

  // A private field: util.inspect and JSON.stringify of the client never show it.
  readonly #authorization: string | undefined;
  private readonly http: AxiosInstance;
  private readonly agent: http.Agent;
  private readonly queue = new SerialQueue();
  private readonly stop = new AbortController();
  private readonly outerSignal: AbortSignal | undefined;
  private readonly onOuterAbort = (): void => this.close();

  constructor(conn: ReceiverConnection, options: ClientOptions = {}) {
    const given = typeof conn.host === 'string' ? conn.host.trim() : '';
    const host = bareHost(given);
    if (host === undefined) {
      // Whatever came before an @ may be a password: never echo it.
      const shown = given.replace(/.*@/, '…@');
      const hint = /^[^:]+:\d+$/.test(given) ? ': put the port in the port setting' : ' (no scheme, path or user@)';
      throw new TypeError(`receiver host "${shown}" is not a host name or IP address${hint}`);
    }
    const secure = conn.https === true;
    const port = conn.port ?? (secure ? OWI_HTTPS_PORT : OWI_HTTP_PORT);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`receiver port ${port} is not 1-65535`);
    const timeoutMs = conn.timeoutMs ?? OWI_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError(`receiver timeout ${timeoutMs} ms is not a positive number`);

    const urlHost = host.includes(':') ? `[${host}]` : host;
    this.host = host;
    this.port = port;
    this.timeoutMs = timeoutMs;
    this.baseUrl = `${secure ? 'https' : 'http'}://${urlHost}:${port}`;
    const where = `${urlHost}:${port}`;
    this.label = conn.name && conn.name.trim() !== '' ? `${conn.name.trim()} (${where})` : `The receiver at ${where}`;

    const username = conn.username ?? '';
    this.#authorization =
      username !== '' ? `Basic ${Buffer.from(`${username}:${conn.password ?? ''}`, 'utf8').toString('base64')}` : undefined;

    // No keep-alive: one poll every few seconds gains little from it, and a socket the box closed
    // while idle would turn the next poll into a spurious ECONNRESET.
    this.agent = secure
      ? new https.Agent({ keepAlive: false, maxSockets: 1, rejectUnauthorized: conn.allowSelfSigned !== true })
      : new http.Agent({ keepAlive: false, maxSockets: 1 });
    this.http = axios.create({
      baseURL: this.baseUrl,
      responseType: 'text',
      // Keep the body as text: JSON is parsed here so "not JSON" can be told apart.
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      maxContentLength: OWI_MAX_RESPONSE_BYTES,
      // The box is on the LAN; an HTTP(S)_PROXY from the environment must not see its credentials.
      proxy: false,
      ...(secure ? { httpsAgent: this.agent } : { httpAgent: this.agent }),
    });

    this.outerSignal = options.signal;
    if (this.outerSignal?.aborted) this.close();
    else this.outerSignal?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  /** Requests queued or in flight; a poller can skip a round while the box is still busy. */
  get pending(): number {
    return this.queue.size;
  }

  /** True once `close()` ran (or the app's signal fired). */
  get closed(): boolean {
    return this.stop.signal.aborted;
  }

  /** Cancels the request in flight and every queued one (they reject with kind `aborted`). */
  close(): void {
    if (!this.stop.signal.aborted) this.stop.abort();
    this.outerSignal?.removeEventListener('abort', this.onOuterAbort);
    this.agent.destroy();
  }

  // -------------------------------------------------------------------------------------------
  // Endpoints
  // -------------------------------------------------------------------------------------------

  /** Brand, model, image, tuners and a stable identity (MAC, else host). */
  async deviceInfo(): Promise<DeviceInfo> {
    return this.json('/api/deviceinfo', '', (raw) => parseDeviceInfo(raw, this.host));
  }

  async bouquets(kind: 'tv' | 'radio' = 'tv'): Promise<Bouquet[]> {
    if (kind !== 'tv' && kind !== 'radio') throw new TypeError(`bouquet kind must be "tv" or "radio", not "${String(kind)}"`);
    return this.json('/api/bouquets', `stype=${kind}`, parseBouquets);
  }

  /** The playable channels of a bouquet, in bouquet order (markers and sub-bouquets left out). */
  async channels(bouquetRef: string): Promise<BouquetService[]> {
    checkBouquetRef(bouquetRef);
    return this.json('/api/getservices', `sRef=${encodeServiceRef(bouquetRef)}`, parseServices);
  }

  /** The cheap poll: power, volume, recording, the tuned channel and its programme. */
  async status(): Promise<ReceiverStatus> {
    return this.json('/api/statusinfo', '', parseStatusInfo);
  }

  /** Tune a channel. Does NOT wake a box in standby: wake first (`power('wake')`). */
  async zap(ref: ServiceRef | string): Promise<void> {
    const sref = typeof ref === 'string' ? parseServiceRef(ref) : ref;
    await this.json('/api/zap', `sRef=${encodeServiceRef(sref)}`, parseVerdict);
  }

  /** Change power state; resolves to the state BEFORE the change (the box reports that): re-poll. */
  async power(state: PowerState): Promise<PowerResult> {
    const code = Object.prototype.hasOwnProperty.call(POWER_STATES, state) ? POWER_STATES[state] : undefined;
    if (code === undefined) throw new TypeError(`unknown power state "${String(state)}"`);
    return this.json('/api/powerstate', `newstate=${code}`, (raw) => ({ wasInStandby: parsePowerState(raw) }));
  }

  /** Set the volume, 0-100 (sent as `set=setNN`; a bare number is rejected by the box). */
  async volumeSet(level: number): Promise<VolumeState> {
    if (!Number.isInteger(level) || level < 0 || level > 100) throw new RangeError(`volume must be a whole number 0-100, not ${level}`);
    return this.json('/api/vol', `set=set${level}`, parseVolume);
  }

  async volumeUp(): Promise<VolumeState> {
    return this.json('/api/vol', 'set=up', parseVolume);
  }

  async volumeDown(): Promise<VolumeState> {
    return this.json('/api/vol', 'set=down', parseVolume);
  }

  async toggleMute(): Promise<VolumeState> {
    return this.json('/api/vol', 'set=mute', parseVolume);
  }

  /** Send a Linux key code (see `keys.ts`, `parseKey`). */
  async remoteKey(code: number): Promise<void> {
    if (!Number.isInteger(code) || code <= 0 || code > KEY_CODE_MAX) throw new RangeError(`remote key code must be a whole number 1-${KEY_CODE_MAX}, not ${code}`);
    await this.json('/api/remotecontrol', `command=${code}`, parseVerdict);
  }

  /** The tuned channel with its now/next events (`getcurrent`). */
  async current(): Promise<CurrentService> {
    return this.json('/api/getcurrent', '', parseCurrent);
  }

  /** What runs now on every channel of a bouquet. Heavy on weak boxes: call rarely. */
  async epgNow(bouquetRef: string): Promise<EpgEvent[]> {
    checkBouquetRef(bouquetRef);
    return this.json('/api/epgnow', `bRef=${encodeServiceRef(bouquetRef)}`, parseEpgList);
  }

  /** What runs next on every channel of a bouquet. */
  async epgNext(bouquetRef: string): Promise<EpgEvent[]> {
    checkBouquetRef(bouquetRef);
    return this.json('/api/epgnext', `bRef=${encodeServiceRef(bouquetRef)}`, parseEpgList);
  }

  /**
   * One channel's programmes from `from` for `minutes` (`epgservice`: enigma2 reads endTime as a
   * duration in minutes), without the box's "N/A" placeholder. `timeoutMs` replaces the client's
   * timeout: days of one channel's EPG take a weak box longer than a status poll.
   */
  async epgService(ref: ServiceRef, from: Date, minutes: number, timeoutMs?: number): Promise<EpgEvent[]> {
    if (!Number.isInteger(minutes) || minutes <= 0) throw new RangeError(`EPG window must be a whole number of minutes above 0, not ${minutes}`);
    const query = `sRef=${encodeServiceRef(ref)}&time=${Math.floor(from.getTime() / 1000)}&endTime=${minutes}`;
    return this.json('/api/epgservice', query, (raw) => parseEpgService(raw, ref.ref), timeoutMs);
  }

  /** Where the box streams a channel from (`/web/stream.m3u`): URL, backend port, program. */
  async streamTarget(ref: ServiceRef | string, name?: string): Promise<StreamTarget> {
    const sref = typeof ref === 'string' ? parseServiceRef(ref) : ref;
    const endpoint = '/web/stream.m3u';
    const query = `ref=${encodeServiceRef(sref)}${name !== undefined ? `&name=${encodeURIComponent(name)}` : ''}`;
    const body = await this.text(endpoint, query, 'application/vnd.apple.mpegurl, audio/x-mpegurl, */*');
    return this.shaped(endpoint, () => parseStreamPlaylist(body));
  }

  /**
   * A file of the box's picon folder (`/picon/<name>`, e.g. `piconName(ref)`), or undefined when the
   * box has none (404). Small, checked to be a PNG, with a short timeout: a logo must not hold the
   * queue long.
   */
  async picon(name: string): Promise<Buffer | undefined> {
    checkPiconName(name);
    const endpoint = `/picon/${encodeURIComponent(name)}`;
    const ctx = this.ctx(endpoint);
    if (this.queue.size >= OWI_QUEUE_MAX) throw overloadedError(ctx, this.queue.size);
    const limits: Limits = { responseType: 'arraybuffer', maxBytes: PICON_MAX_BYTES, timeoutMs: Math.min(PICON_TIMEOUT_MS, this.timeoutMs) };
    const res = await this.queue.run(() => this.get(endpoint, '', 'image/png', limits));
    if (res.status === 404) return undefined;
    if (res.status < 200 || res.status >= 300) throw httpStatusError(ctx, res.status, this.#authorization !== undefined);
    const body = Buffer.isBuffer(res.data) ? res.data : Buffer.alloc(0);
    if (!body.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) throw protocolError(ctx, 'a file that is not a PNG image');
    return body;
  }

  /**
   * A JPEG of the picture on screen, `width` pixels wide (`/grab?format=jpg&r=<width>`). Heavy on
   * weak boxes (they encode their framebuffer): callers cache it. Bounded in size and time, checked
   * to be a JPEG.
   */
  async grab(width: number): Promise<Buffer> {
    if (!Number.isInteger(width) || width < 1 || width > 7680) throw new RangeError(`grab width must be a whole number 1-7680, not ${width}`);
    const endpoint = '/grab';
    const ctx = this.ctx(endpoint);
    if (this.queue.size >= OWI_QUEUE_MAX) throw overloadedError(ctx, this.queue.size);
    const limits: Limits = { responseType: 'arraybuffer', maxBytes: CAMERA_GRAB_MAX_BYTES, timeoutMs: Math.max(CAMERA_GRAB_TIMEOUT_MS, this.timeoutMs) };
    const res = await this.queue.run(() => this.get(endpoint, `format=jpg&r=${width}`, 'image/jpeg', limits));
    if (res.status < 200 || res.status >= 300) throw httpStatusError(ctx, res.status, this.#authorization !== undefined);
    const body = Buffer.isBuffer(res.data) ? res.data : Buffer.alloc(0);
    if (body.length < 4 || body[0] !== 0xff || body[1] !== 0xd8) throw protocolError(ctx, 'a file that is not a JPEG image');
    return body;
  }

  // -------------------------------------------------------------------------------------------
  // Messages, timers and recordings (home control). Each verdict resolves to the box's own
  // message; a `result: false` throws `rejected` carrying it (`boxMessage`), e.g. a timer conflict.
  // -------------------------------------------------------------------------------------------

  /** Shows a message on the TV (`/api/message`: type 0 yes/no, 1 info, 2 warning, 3 error). */
  async message(spec: MessageSpec): Promise<string> {
    const type = MESSAGE_TYPES[spec.type];
    if (type === undefined) throw new TypeError(`message type must be info, warning, error or yesno, not "${String(spec.type)}"`);
    if (typeof spec.text !== 'string' || spec.text.trim() === '') throw new TypeError('message text is empty');
    if (!Number.isInteger(spec.timeoutS) || spec.timeoutS < 1 || spec.timeoutS > MESSAGE_TIMEOUT_MAX_S) {
      throw new RangeError(`message timeout must be a whole number of seconds 1-${MESSAGE_TIMEOUT_MAX_S}, not ${spec.timeoutS}`);
    }
    const text = spec.text.length > MESSAGE_TEXT_MAX_CHARS ? `${spec.text.slice(0, MESSAGE_TEXT_MAX_CHARS - 1)}…` : spec.text;
    return this.json('/api/message', `text=${encodeURIComponent(text)}&type=${type}&timeout=${spec.timeoutS}`, parseVerdict);
  }

  /** The answer to the last yes/no message: 'none' while nobody answered (or it timed out). */
  async messageAnswer(): Promise<MessageAnswer> {
    return this.json('/api/messageanswer', '', parseMessageAnswer, this.timeoutMs, true);
  }

  /** The recording timers (zap timers left out), with their state. */
  async timers(): Promise<Timer[]> {
    return this.json('/api/timerlist', '', parseTimerList);
  }

  /** Adds a recording timer; `begin`/`end` as Dates or Unix seconds. */
  async timerAdd(ref: ServiceRef | string, begin: Date | number, end: Date | number, name: string, description = ''): Promise<string> {
    const sref = typeof ref === 'string' ? parseServiceRef(ref) : ref;
    const from = unixSeconds(begin, 'begin');
    const to = unixSeconds(end, 'end');
    if (to <= from) throw new RangeError('a timer must end after it begins');
    if (typeof name !== 'string' || name.trim() === '') throw new TypeError('timer name is empty');
    const query = `sRef=${encodeServiceRef(sref)}&begin=${from}&end=${to}&name=${encodeURIComponent(name)}` +
      `&description=${encodeURIComponent(description)}&justplay=0&disabled=0&afterevent=3`;
    return this.json('/api/timeradd', query, parseVerdict);
  }

  /** Adds a recording timer for an EPG event of a channel (the box adds its recording margins). */
  async timerAddByEvent(ref: ServiceRef | string, eventId: number): Promise<string> {
    const sref = typeof ref === 'string' ? parseServiceRef(ref) : ref;
    if (!Number.isInteger(eventId) || eventId <= 0) throw new RangeError(`event id must be a whole number above 0, not ${eventId}`);
    return this.json('/api/timeraddbyeventid', `sRef=${encodeServiceRef(sref)}&eventid=${eventId}&justplay=0`, parseVerdict);
  }

  /**
   * Deletes a timer, addressed as enigma2 does: reference (sent back exactly as the timer list
   * wrote it), begin and end. A running timer stops recording.
   */
  async timerDelete(ref: string, begin: Date | number, end: Date | number): Promise<string> {
    if (typeof ref !== 'string' || ref.trim() === '') throw new TypeError('timer reference is empty');
    const query = `sRef=${encodeServiceRef(ref)}&begin=${unixSeconds(begin, 'begin')}&end=${unixSeconds(end, 'end')}`;
    return this.json('/api/timerdelete', query, parseVerdict);
  }

  /**
   * Records what the box shows: the current programme (`recordnow=event`, refused when the channel
   * has no EPG), or with `infinite` for 10 hours or until stopped.
   */
  async recordNow(infinite = false): Promise<string> {
    // OpenWebIF 2.x looks for an `infinite` argument, older versions for `recordnow=infinite`: send both.
    return this.json('/api/recordnow', infinite ? 'recordnow=infinite&infinite=1' : 'recordnow=event', parseVerdict);
  }

  // -------------------------------------------------------------------------------------------
  // Transport
  // -------------------------------------------------------------------------------------------

  /**
   * GET, parse JSON, throw the box's refusal as `rejected`, check the shape. `refusalIsAnswer`: the
   * endpoint says `result: false` for an ordinary answer (messageanswer's "No answer in time").
   */
  private async json<T>(endpoint: string, query: string, parse: Parser<T>, timeoutMs = this.timeoutMs, refusalIsAnswer = false): Promise<T> {
    const body = await this.text(endpoint, query, 'application/json', timeoutMs);
    const ctx = this.ctx(endpoint);
    let raw: unknown;
    try {
      raw = JSON.parse(body);
    } catch {
      const head = body.trimStart().slice(0, 100).toLowerCase();
      const what = head === '' ? 'an empty answer' : head.startsWith('<') ? 'an HTML page instead of JSON' : 'text that is not JSON';
      throw protocolError(ctx, what);
    }
    const refusal = refusalIsAnswer ? undefined : refusalOf(raw);
    if (refusal !== undefined) throw rejectedError(ctx, refusal);
    return this.shaped(endpoint, () => parse(raw));
  }

  private shaped<T>(endpoint: string, parse: () => T): T {
    try {
      return parse();
    } catch (err) {
      if (err instanceof ShapeError) throw protocolError(this.ctx(endpoint), err.message);
      throw err;
    }
  }

  /** GET `endpoint?query` through the queue; resolves to the body of a 2xx answer. */
  private text(endpoint: string, query: string, accept: string, timeoutMs = this.timeoutMs): Promise<string> {
    // One request at a time goes to the box; a flood beyond a bounded backlog is refused, not queued.
    if (this.queue.size >= OWI_QUEUE_MAX) return Promise.reject(overloadedError(this.ctx(endpoint), this.queue.size));
    return this.queue.run(() => this.send(endpoint, query, accept, timeoutMs));
  }

  private async send(endpoint: string, query: string, accept: string, timeoutMs: number): Promise<string> {
    const res = await this.get(endpoint, query, accept, { responseType: 'text', maxBytes: OWI_MAX_RESPONSE_BYTES, timeoutMs });
    if (res.status < 200 || res.status >= 300) throw httpStatusError(this.ctx(endpoint), res.status, this.#authorization !== undefined);
    return typeof res.data === 'string' ? res.data : '';
  }

  /** One GET to the box within `limits`; the caller judges the status. */
  private async get(endpoint: string, query: string, accept: string, limits: Limits): Promise<AxiosResponse<unknown>> {
    const ctx = this.ctx(endpoint);
    if (this.stop.signal.aborted) throw abortedError(ctx);

    const attempt = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort();
    }, limits.timeoutMs);
    const onStop = (): void => attempt.abort();
    this.stop.signal.addEventListener('abort', onStop, { once: true });

    let res: AxiosResponse<unknown>;
    try {
      res = await this.http.get(query === '' ? endpoint : `${endpoint}?${query}`, {
        signal: attempt.signal,
        responseType: limits.responseType,
        maxContentLength: limits.maxBytes,
        headers: {
          Accept: accept,
          'User-Agent': OWI_USER_AGENT,
          ...(this.#authorization !== undefined ? { Authorization: this.#authorization } : {}),
        },
      });
    } catch (err) {
      // Built from the error code alone: the axios error holds the request config and headers.
      if (this.stop.signal.aborted) throw abortedError(ctx);
      if (timedOut) throw timeoutError(ctx, limits.timeoutMs);
      throw this.transportError(ctx, errorCode(err), limits);
    } finally {
      clearTimeout(timer);
      this.stop.signal.removeEventListener('abort', onStop);
    }
    return res;
  }

  private transportError(ctx: RequestContext, code: string | undefined, limits: Limits): ReceiverError {
    if (code === undefined) return unreachableError(ctx, 'UNKNOWN');
    if (code === 'ETIMEDOUT') return timeoutError(ctx, limits.timeoutMs);
    // EPROTO on an HTTPS request: the port speaks plain HTTP (OpenSSL reads "HTTP/1.1" as a bad record).
    if (isTlsCode(code) || (code === 'EPROTO' && this.baseUrl.startsWith('https:'))) return tlsError(ctx, code);
    if (code === TOO_LARGE) return protocolError(ctx, `an answer larger than ${sizeText(limits.maxBytes)}`);
    if (code === 'ERR_BAD_RESPONSE') return protocolError(ctx, 'an answer that was cut off');
    if (code.startsWith('HPE_')) return protocolError(ctx, `not HTTP (${code})`);
    if (code === 'ERR_CANCELED') return abortedError(ctx);
    // Known connection codes get a specific sentence; unknown ones still mean "no usable connection".
    return unreachableError(ctx, code);
  }

  private ctx(endpoint: string): RequestContext {
    return { receiver: this.label, endpoint };
  }
}

/** `/api/message` type numbers (OpenWebIF's MessageMapping). */
const MESSAGE_TYPES: Record<string, number> = { yesno: 0, info: 1, warning: 2, error: 3 };

/** A Date or Unix seconds as whole Unix seconds. */
function unixSeconds(value: Date | number, what: string): number {
  const seconds = value instanceof Date ? value.getTime() / 1000 : value;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) throw new RangeError(`timer ${what} is not a valid time`);
  return Math.floor(seconds);
}

/** Without a bouquet, getservices lists the bouquets themselves: an empty ref is a caller bug. */
function checkBouquetRef(ref: string): void {
  if (typeof ref !== 'string' || ref.trim() === '') throw new TypeError('bouquet reference is empty');
}

/** How much one request may take: answer type, size and time. */
interface Limits {
  responseType: 'text' | 'arraybuffer';
  maxBytes: number;
  timeoutMs: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A picon name is one file name ending in `.png`: no folders, no control characters. */
function checkPiconName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (typeof name !== 'string' || !/^[^/\\\u0000-\u001f\u007f]{1,600}\.png$/.test(name) || name.startsWith('.')) {
    throw new TypeError('picon name must be a file name ending in .png');
  }
}

/** `512 KB`, `32 MB`: a size limit as a user reads it. */
function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MB` : `${Math.round(bytes / 1024)} KB`;
}

/** Synthetic code for axios's "maxContentLength exceeded", which it reports as ERR_BAD_RESPONSE. */
const TOO_LARGE = 'XG2G_TOO_LARGE';

/** The Node error code of a transport failure (axios copies it; the original sits in `cause`). */
function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; cause?: unknown; message?: unknown };
  const own = typeof e.code === 'string' ? e.code : undefined;
  if (own === 'ERR_BAD_RESPONSE' && typeof e.message === 'string' && e.message.includes('maxContentLength')) return TOO_LARGE;
  // axios reports a cut-off answer or parse failure under its own codes; the socket's code is more precise.
  const cause = typeof e.cause === 'object' && e.cause !== null ? (e.cause as { code?: unknown }).code : undefined;
  if (typeof cause === 'string' && (own === undefined || own === 'ERR_BAD_RESPONSE' || own === 'ERR_NETWORK')) return cause;
  return own;
}
