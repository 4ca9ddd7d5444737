/**
 * Turns a raw platform block (file or Homebridge, with the environment overlay already merged in)
 * into a complete, typed Config. Every problem is collected, not thrown, so the user sees all of
 * them at once; unknown keys become warnings. Secret fields are never echoed in messages.
 */
import { isIP } from 'node:net';
import {
  API_LISTEN_DEFAULT, AUDIO_BITRATE_DEFAULT, AUDIO_BITRATE_MAX_K, AUDIO_BITRATE_MIN_K,
  AUDIO_CHANNELS_DEFAULT, AUDIO_CODEC_DEFAULT, BOUQUET_DEFAULT, CONFIG_NAME_DEFAULT,
  INFO_KEY_DEFAULT, MAX_CLIENTS_PER_CHANNEL_DEFAULT, MQTT_DISCOVERY_PREFIX_DEFAULT,
  MQTT_EMBEDDED_BROKER_PORT_DEFAULT, MQTT_PREFIX_DEFAULT, MQTT_URL_DEFAULT, OWI_HTTP_PORT,
  OWI_HTTPS_PORT, PROXY_LISTEN_DEFAULT, RECEIVER_NAME_DEFAULT, REFRESH_INTERVAL_DEFAULT_S,
  REFRESH_INTERVAL_MAX_S, REFRESH_INTERVAL_MIN_S, STREAM_PORT, EPG_DAYS_DEFAULT, EPG_DAYS_MAX,
  EPG_REFRESH_HOURS_DEFAULT, EPG_REFRESH_HOURS_MIN, CAMERA_MAX_STREAMS_DEFAULT,
} from '../settings';
import { keyName, parseKey } from '../receiver/keys';
import { parseListen } from './listen';
import type { AudioChannels, AudioEngine, AudioMode, CameraConfig, Config, EpgConfig, HdhrConfig, HlsConfig, MqttConfig, OffMode, ProxyConfig, ReceiverConfig, SensorsConfig, VideoEncoder } from './types';
import { isPlainObject, show, toBoolean } from './values';

/** Keys Homebridge itself puts into a platform block: accepted without a warning. */
const HOMEBRIDGE_KEYS = ['platform', '_bridge'];
const AUDIO_MODES: readonly AudioMode[] = ['auto', 'always', 'never'];
const AUDIO_ENGINES: readonly AudioEngine[] = ['splice', 'ffmpeg'];
const VIDEO_ENCODERS: readonly VideoEncoder[] = ['libx264', 'h264_vaapi', 'h264_qsv', 'h264_nvenc', 'h264_v4l2m2m'];
const AUDIO_CHANNEL_COUNTS: readonly number[] = [1, 2, 6];
const MQTT_PROTOCOLS = ['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:'];
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?)*\.?$/;
const MAX_SESSIONS_LIMIT = 64;
const MAX_CLIENTS_LIMIT = 1000;

interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

/** Collects problems; labels a field with the XG2G_* variable that set it, when one did. */
class Checker {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  constructor(private readonly origins: ReadonlyMap<string, string>) {}

  label(path: string): string {
    return this.origins.get(path) ?? path;
  }

  error(path: string, message: string): void {
    this.errors.push(`${this.label(path)}: ${message}`);
  }

  /** Warn about keys outside `known`; Homebridge's own keys pass silently at the top level. */
  unknownKeys(obj: Record<string, unknown>, path: string, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (known.includes(key) || (path === '' && HOMEBRIDGE_KEYS.includes(key))) continue;
      this.warnings.push(`${join(path, key)}: unknown setting, ignored`);
    }
  }

  section(obj: Record<string, unknown>, key: string, path: string): Record<string, unknown> {
    const v = obj[key];
    if (v === undefined || v === null) return {};
    if (!isPlainObject(v)) {
      this.error(join(path, key), `must be an object, not ${show(v)}`);
      return {};
    }
    return v;
  }

  str(obj: Record<string, unknown>, key: string, path: string, def: string, secret = false): string {
    const v = obj[key];
    if (v === undefined || v === null) return def;
    if (typeof v === 'number' && !secret) return String(v);
    if (typeof v !== 'string') {
      this.error(join(path, key), secret ? 'must be text' : `must be text, not ${show(v)}`);
      return def;
    }
    return secret ? v : v.trim();
  }

  bool(obj: Record<string, unknown>, key: string, path: string, def: boolean): boolean {
    const v = obj[key];
    if (v === undefined || v === null || v === '') return def;
    const b = toBoolean(v);
    if (b === undefined) {
      this.error(join(path, key), `${show(v)} is not true or false (also 1/0/yes/no)`);
      return def;
    }
    return b;
  }

  num(obj: Record<string, unknown>, key: string, path: string, def: number, rule: NumberRule): number {
    const v = obj[key];
    if (v === undefined || v === null || v === '') return def;
    const n = this.toNumber(v, join(path, key), rule);
    return n === undefined ? def : n;
  }

  toNumber(v: unknown, field: string, rule: NumberRule): number | undefined {
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) n = Number(v);
    else {
      this.error(field, `${show(v)} is not a number`);
      return undefined;
    }
    if (!Number.isFinite(n)) {
      this.error(field, `${show(v)} is not a number`);
      return undefined;
    }
    if (rule.integer && !Number.isInteger(n)) {
      this.error(field, `${n} is not a whole number`);
      return undefined;
    }
    if (rule.min !== undefined && n < rule.min) {
      this.error(field, `${n} is below the minimum ${rule.min}`);
      return undefined;
    }
    if (rule.max !== undefined && n > rule.max) {
      this.error(field, `${n} is above the maximum ${rule.max}`);
      return undefined;
    }
    return n;
  }

  listen(obj: Record<string, unknown>, key: string, path: string, def: string, allowEmpty: boolean): string {
    const s = this.str(obj, key, path, def);
    if (s === '' && allowEmpty) return '';
    try {
      parseListen(s);
    } catch (err) {
      this.error(join(path, key), (err as Error).message);
    }
    return s;
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function isHost(host: string): boolean {
  return isIP(host) !== 0 || (host.length <= 253 && HOSTNAME.test(host));
}

/** Host as it goes into a URL (IPv6 bracketed). */
export function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** An http(s) URL without query or fragment, normalised without trailing slash; undefined if invalid. */
function httpUrl(value: string, allowPath: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname || url.search || url.hash) {
    return undefined;
  }
  if (!allowPath && url.pathname !== '/') return undefined;
  return value.replace(/\/+$/, '');
}

function buildReceiver(raw: unknown, index: number, c: Checker): ReceiverConfig | undefined {
  const path = `receivers[${index}]`;
  if (!isPlainObject(raw)) {
    c.error(path, `must be an object, not ${show(raw)}`);
    return undefined;
  }
  c.unknownKeys(raw, path, [
    'name', 'host', 'port', 'https', 'allowSelfSigned', 'username', 'password', 'bouquets',
    'streamTarget', 'tvAccessory', 'channelAccessories', 'infoKey', 'refreshInterval', 'mac', 'wakeOnLan',
    'wakeBroadcast', 'offMode', 'standbyGuard', 'recordSwitch', 'sensors', 'deepStandbySwitch', 'rebootSwitch',
    'cameraAccessory',
  ]);
  const name = c.str(raw, 'name', path, '') || (index === 0 ? RECEIVER_NAME_DEFAULT : `${RECEIVER_NAME_DEFAULT} ${index + 1}`);

  let host = c.str(raw, 'host', path, '');
  if (host === '') {
    c.error(`${path}.host`, 'is required (the receiver\'s IP address or host name)');
  } else if (/^[a-z]+:\/\//i.test(host) || host.includes('/')) {
    c.error(`${path}.host`, `${show(host)} must be a host name or IP address only, without http:// or a path`);
  } else {
    host = host.replace(/^\[(.*)\]$/, '$1');
    if (!isHost(host)) c.error(`${path}.host`, `${show(host)} is not a valid host name or IP address`);
  }

  const https = c.bool(raw, 'https', path, false);
  const port = c.num(raw, 'port', path, https ? OWI_HTTPS_PORT : OWI_HTTP_PORT, { integer: true, min: 1, max: 65535 });
  const allowSelfSigned = c.bool(raw, 'allowSelfSigned', path, false);
  const username = c.str(raw, 'username', path, '');
  const password = c.str(raw, 'password', path, '', true);

  let bouquets: string[] = [];
  const rawBouquets = raw.bouquets;
  if (typeof rawBouquets === 'string') {
    if (rawBouquets.trim() !== '') bouquets = [rawBouquets.trim()];
  } else if (Array.isArray(rawBouquets)) {
    rawBouquets.forEach((b, i) => {
      if (typeof b !== 'string' || b.trim() === '') c.error(`${path}.bouquets[${i}]`, `${show(b)} is not a bouquet name`);
      else if (!bouquets.includes(b.trim())) bouquets.push(b.trim());
    });
  } else if (rawBouquets !== undefined && rawBouquets !== null) {
    c.error(`${path}.bouquets`, `must be a list of bouquet names, not ${show(rawBouquets)}`);
  }
  if (bouquets.length === 0) bouquets = [BOUQUET_DEFAULT];

  const rawTarget = c.str(raw, 'streamTarget', path, '');
  let streamTarget = `http://${urlHost(host)}:${STREAM_PORT}`;
  if (rawTarget.toLowerCase() === 'auto') {
    streamTarget = 'auto';
  } else if (/^\d{1,5}$/.test(rawTarget) && Number(rawTarget) >= 1 && Number(rawTarget) <= 65535) {
    // A bare port (the settings form offers 8001 / 17999, as it cannot know the host) means that
    // port on the receiver itself.
    streamTarget = `http://${urlHost(host)}:${Number(rawTarget)}`;
  } else if (rawTarget !== '') {
    const url = httpUrl(rawTarget, false);
    if (url === undefined) {
      c.error(`${path}.streamTarget`, `${show(rawTarget)} is not "auto", a port (8001, 17999) or an http(s) URL like http://192.168.1.100:8001`);
    } else {
      streamTarget = url;
    }
  }

  const tvAccessory = c.bool(raw, 'tvAccessory', path, true);
  const channelAccessories = c.bool(raw, 'channelAccessories', path, true);
  const rawKey = c.str(raw, 'infoKey', path, INFO_KEY_DEFAULT);
  let infoKey = INFO_KEY_DEFAULT;
  try {
    // Stored by canonical name (MENU, DIGIT_1), so every consumer can hand it to parseKey.
    const code = parseKey(rawKey);
    infoKey = keyName(code) ?? String(code);
  } catch (err) {
    c.error(`${path}.infoKey`, `${show(rawKey)} is not a remote key (${(err as Error).message.replace(/^unknown remote key "[^"]*": /, '')})`);
  }
  const refreshInterval = c.num(raw, 'refreshInterval', path, REFRESH_INTERVAL_DEFAULT_S, {
    min: REFRESH_INTERVAL_MIN_S, max: REFRESH_INTERVAL_MAX_S,
  });
  let mac = c.str(raw, 'mac', path, '');
  if (mac !== '') {
    const normalised = normaliseMac(mac);
    if (normalised === undefined) c.error(`${path}.mac`, `${show(mac)} is not a MAC address like 00:1d:ec:0e:12:34`);
    mac = normalised ?? '';
  }
  const wakeBroadcast: string[] = [];
  const rawBroadcast = raw.wakeBroadcast;
  const broadcastList = typeof rawBroadcast === 'string' ? rawBroadcast.split(',') : Array.isArray(rawBroadcast) ? rawBroadcast : [];
  if (rawBroadcast !== undefined && rawBroadcast !== null && typeof rawBroadcast !== 'string' && !Array.isArray(rawBroadcast)) {
    c.error(`${path}.wakeBroadcast`, `must be a list of IPv4 addresses, not ${show(rawBroadcast)}`);
  }
  broadcastList.forEach((b, i) => {
    const address = typeof b === 'string' ? b.trim() : '';
    if (address === '' && typeof b === 'string') return;
    // An optional port (the magic packet goes to UDP 9 by default; some setups forward another).
    const m = /^([0-9.]+)(?::(\d{1,5}))?$/.exec(address);
    const port = m?.[2] === undefined ? 9 : Number(m[2]);
    if (!m || isIP(m[1]) !== 4 || port < 1 || port > 65535) c.error(`${path}.wakeBroadcast[${i}]`, `${show(b)} is not an IPv4 address like 192.168.1.255 (optionally with a port, 192.168.1.255:9)`);
    else if (!wakeBroadcast.includes(address)) wakeBroadcast.push(address);
  });
  const offRaw = c.str(raw, 'offMode', path, 'standby');
  const offMode: OffMode = offRaw.toLowerCase() === 'deepstandby' ? 'deepStandby' : 'standby';
  if (offRaw.toLowerCase() !== 'standby' && offRaw.toLowerCase() !== 'deepstandby') c.error(`${path}.offMode`, `${show(offRaw)} is not standby or deepStandby`);
  const sensorsRaw = c.section(raw, 'sensors', path);
  c.unknownKeys(sensorsRaw, `${path}.sensors`, ['recording', 'streaming', 'power', 'type']);
  const typeRaw = c.str(sensorsRaw, 'type', `${path}.sensors`, 'contact').toLowerCase();
  if (typeRaw !== 'contact' && typeRaw !== 'occupancy') c.error(`${path}.sensors.type`, `${show(typeRaw)} is not contact or occupancy`);
  const sensors: SensorsConfig = {
    recording: c.bool(sensorsRaw, 'recording', `${path}.sensors`, false),
    streaming: c.bool(sensorsRaw, 'streaming', `${path}.sensors`, false),
    power: c.bool(sensorsRaw, 'power', `${path}.sensors`, false),
    type: typeRaw === 'occupancy' ? 'occupancy' : 'contact',
  };
  return {
    name, host, port, https, allowSelfSigned, username, password, bouquets, streamTarget,
    tvAccessory, channelAccessories, infoKey,
    refreshInterval,
    mac,
    wakeOnLan: c.bool(raw, 'wakeOnLan', path, true),
    wakeBroadcast,
    offMode,
    standbyGuard: c.bool(raw, 'standbyGuard', path, true),
    recordSwitch: c.bool(raw, 'recordSwitch', path, false),
    sensors,
    deepStandbySwitch: c.bool(raw, 'deepStandbySwitch', path, false),
    rebootSwitch: c.bool(raw, 'rebootSwitch', path, false),
    cameraAccessory: c.bool(raw, 'cameraAccessory', path, false),
  };
}

/** `00:1D:EC:0E:12:34`, `00-1d-ec-0e-12-34` or `001dec0e1234` as `00:1d:ec:0e:12:34`; undefined if not a MAC. */
export function normaliseMac(text: string): string | undefined {
  const hex = text.trim().toLowerCase().replace(/[:-]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex) || !/^([0-9a-f]{2}[:-]?){5}[0-9a-f]{2}$/i.test(text.trim())) return undefined;
  return hex.match(/../g)!.join(':');
}

function buildProxy(root: Record<string, unknown>, c: Checker): ProxyConfig {
  const path = 'proxy';
  const raw = c.section(root, 'proxy', '');
  c.unknownKeys(raw, path, ['enabled', 'listen', 'publicUrl', 'maxSessions', 'maxClients', 'token', 'audio', 'ffmpegPath', 'hls']);
  const enabled = c.bool(raw, 'enabled', path, true);
  const listen = c.listen(raw, 'listen', path, PROXY_LISTEN_DEFAULT, !enabled);

  let publicUrl = c.str(raw, 'publicUrl', path, '');
  if (publicUrl !== '') {
    const url = httpUrl(publicUrl, true);
    if (url === undefined) c.error('proxy.publicUrl', `${show(publicUrl)} is not an http(s) URL like http://192.168.1.10:18000`);
    publicUrl = url ?? '';
  }

  let maxSessions: number | null = null;
  const rawMax = raw.maxSessions;
  if (rawMax !== undefined && rawMax !== null && rawMax !== '' && !(typeof rawMax === 'string' && rawMax.trim().toLowerCase() === 'auto')) {
    maxSessions = c.toNumber(rawMax, 'proxy.maxSessions', { integer: true, min: 1, max: MAX_SESSIONS_LIMIT }) ?? null;
  }
  const maxClients = c.num(raw, 'maxClients', path, MAX_CLIENTS_PER_CHANNEL_DEFAULT, { integer: true, min: 1, max: MAX_CLIENTS_LIMIT });

  const token = c.str(raw, 'token', path, '', true);
  if (/\s/.test(token)) c.error('proxy.token', 'must not contain spaces (it goes into URLs)');

  const audioRaw = c.section(raw, 'audio', path);
  c.unknownKeys(audioRaw, 'proxy.audio', ['mode', 'engine', 'codec', 'bitrate', 'channels']);
  const modeRaw = c.str(audioRaw, 'mode', 'proxy.audio', 'auto').toLowerCase();
  const mode: AudioMode = (AUDIO_MODES as readonly string[]).includes(modeRaw) ? (modeRaw as AudioMode) : 'auto';
  if (mode !== modeRaw) c.error('proxy.audio.mode', `${show(modeRaw)} is not one of auto, always, never`);
  const engineRaw = c.str(audioRaw, 'engine', 'proxy.audio', 'splice').toLowerCase();
  const engine: AudioEngine = (AUDIO_ENGINES as readonly string[]).includes(engineRaw) ? (engineRaw as AudioEngine) : 'splice';
  if (engine !== engineRaw) c.error('proxy.audio.engine', `${show(engineRaw)} is not one of splice, ffmpeg`);
  const codecRaw = c.str(audioRaw, 'codec', 'proxy.audio', AUDIO_CODEC_DEFAULT).toLowerCase();
  if (codecRaw !== 'aac') c.error('proxy.audio.codec', `${show(codecRaw)} is not supported (only aac)`);
  let bitrate = c.str(audioRaw, 'bitrate', 'proxy.audio', AUDIO_BITRATE_DEFAULT).toLowerCase();
  const m = /^(\d+)k$/.exec(bitrate);
  if (!m) {
    c.error('proxy.audio.bitrate', `${show(bitrate)} is not a bitrate like 192k`);
    bitrate = AUDIO_BITRATE_DEFAULT;
  } else if (Number(m[1]) < AUDIO_BITRATE_MIN_K || Number(m[1]) > AUDIO_BITRATE_MAX_K) {
    c.error('proxy.audio.bitrate', `${show(bitrate)} is outside ${AUDIO_BITRATE_MIN_K}k-${AUDIO_BITRATE_MAX_K}k`);
    bitrate = AUDIO_BITRATE_DEFAULT;
  }
  let channels = c.num(audioRaw, 'channels', 'proxy.audio', AUDIO_CHANNELS_DEFAULT, { integer: true });
  if (!AUDIO_CHANNEL_COUNTS.includes(channels)) {
    c.error('proxy.audio.channels', `${channels} is not 1, 2 or 6`);
    channels = AUDIO_CHANNELS_DEFAULT;
  }
  const ffmpegPath = c.str(raw, 'ffmpegPath', path, '');
  const hlsRaw = c.section(raw, 'hls', path);
  c.unknownKeys(hlsRaw, 'proxy.hls', ['appleRedirect', 'transcodeVideo', 'videoEncoder']);
  const encoderRaw = c.str(hlsRaw, 'videoEncoder', 'proxy.hls', 'libx264').toLowerCase();
  const videoEncoder = (VIDEO_ENCODERS as readonly string[]).includes(encoderRaw) ? (encoderRaw as VideoEncoder) : 'libx264';
  if (videoEncoder !== encoderRaw) c.error('proxy.hls.videoEncoder', `${show(encoderRaw)} is not one of ${VIDEO_ENCODERS.join(', ')}`);
  const hls: HlsConfig = {
    appleRedirect: c.bool(hlsRaw, 'appleRedirect', 'proxy.hls', true),
    transcodeVideo: c.bool(hlsRaw, 'transcodeVideo', 'proxy.hls', false),
    videoEncoder,
  };
  return {
    enabled, listen, publicUrl, maxSessions, maxClients, token,
    audio: { mode, engine, codec: 'aac', bitrate, channels: channels as AudioChannels },
    ffmpegPath,
    hls,
  };
}

function topicPrefix(c: Checker, raw: Record<string, unknown>, key: string, def: string): string {
  const s = c.str(raw, key, 'mqtt', def);
  if (s === '' || /[#+\s]/.test(s) || s.startsWith('/') || s.endsWith('/')) {
    c.error(`mqtt.${key}`, `${show(s)} is not a topic prefix like ${JSON.stringify(def)} (no spaces, #, + or leading/trailing /)`);
    return def;
  }
  return s;
}

function buildMqtt(root: Record<string, unknown>, c: Checker): MqttConfig {
  const raw = c.section(root, 'mqtt', '');
  c.unknownKeys(raw, 'mqtt', [
    'enabled', 'url', 'username', 'password', 'clientId', 'prefix', 'discovery', 'discoveryPrefix', 'embeddedBroker',
  ]);
  const brokerRaw = c.section(raw, 'embeddedBroker', 'mqtt');
  c.unknownKeys(brokerRaw, 'mqtt.embeddedBroker', ['enabled', 'port']);
  const embeddedBroker = {
    enabled: c.bool(brokerRaw, 'enabled', 'mqtt.embeddedBroker', false),
    port: c.num(brokerRaw, 'port', 'mqtt.embeddedBroker', MQTT_EMBEDDED_BROKER_PORT_DEFAULT, { integer: true, min: 1, max: 65535 }),
  };
  const enabled = c.bool(raw, 'enabled', 'mqtt', false);
  // With the embedded broker on and no URL given, the bridge publishes to that broker.
  const urlDefault = embeddedBroker.enabled ? `mqtt://127.0.0.1:${embeddedBroker.port}` : MQTT_URL_DEFAULT;
  let url = c.str(raw, 'url', 'mqtt', '') || urlDefault;
  let valid = false;
  try {
    const u = new URL(url);
    valid = MQTT_PROTOCOLS.includes(u.protocol) && u.hostname !== '';
  } catch {
    valid = false;
  }
  if (!valid) {
    c.error('mqtt.url', `${show(url)} is not a broker URL like mqtt://192.168.1.10:1883`);
    url = urlDefault;
  }
  return {
    enabled,
    url,
    username: c.str(raw, 'username', 'mqtt', ''),
    password: c.str(raw, 'password', 'mqtt', '', true),
    clientId: c.str(raw, 'clientId', 'mqtt', ''),
    prefix: topicPrefix(c, raw, 'prefix', MQTT_PREFIX_DEFAULT),
    discovery: c.bool(raw, 'discovery', 'mqtt', true),
    discoveryPrefix: topicPrefix(c, raw, 'discoveryPrefix', MQTT_DISCOVERY_PREFIX_DEFAULT),
    embeddedBroker,
  };
}

export interface BuildResult {
  config: Config;
  errors: string[];
  warnings: string[];
}

/**
 * Build a Config from a merged raw block; `origins` maps field paths to the XG2G_* variable that set
 * them; `apiListenDefault` is api.listen when unset (it differs under Homebridge).
 */
export function buildConfig(block: unknown, origins: ReadonlyMap<string, string> = new Map(), apiListenDefault = API_LISTEN_DEFAULT): BuildResult {
  const c = new Checker(origins);
  let root: Record<string, unknown> = {};
  if (isPlainObject(block)) root = block;
  else if (block !== undefined && block !== null) c.error('config', `must be an object, not ${show(block)}`);
  c.unknownKeys(root, '', ['name', 'receivers', 'proxy', 'api', 'mqtt', 'epg', 'hdhr', 'camera']);

  const name = c.str(root, 'name', '', CONFIG_NAME_DEFAULT) || CONFIG_NAME_DEFAULT;
  const receivers: ReceiverConfig[] = [];
  const rawReceivers = root.receivers;
  if (Array.isArray(rawReceivers)) {
    rawReceivers.forEach((r, i) => {
      const rc = buildReceiver(r, i, c);
      if (rc) receivers.push(rc);
    });
  } else if (rawReceivers !== undefined && rawReceivers !== null) {
    c.error('receivers', `must be a list of receivers, not ${show(rawReceivers)}`);
  }
  const seen = new Map<string, number>();
  receivers.forEach((r, i) => {
    const key = r.name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) c.error(`receivers[${i}].name`, `${show(r.name)} is already the name of receivers[${first}]; names must differ`);
    else seen.set(key, i);
  });

  const proxy = buildProxy(root, c);
  const apiRaw = c.section(root, 'api', '');
  c.unknownKeys(apiRaw, 'api', ['listen']);
  const api = { listen: c.listen(apiRaw, 'listen', 'api', apiListenDefault, true) };
  if (proxy.enabled && api.listen !== '') {
    try {
      const a = parseListen(proxy.listen);
      const b = parseListen(api.listen);
      if (a.port !== 0 && a.port === b.port && (a.host ?? '') === (b.host ?? '')) {
        c.error('api.listen', `uses port ${b.port} like proxy.listen; give it another port or leave it empty to turn it off`);
      }
    } catch {
      // Already reported by the listen checks.
    }
  }
  const mqtt = buildMqtt(root, c);
  const epgRaw = c.section(root, 'epg', '');
  c.unknownKeys(epgRaw, 'epg', ['enabled', 'days', 'refreshHours']);
  const epg: EpgConfig = {
    enabled: c.bool(epgRaw, 'enabled', 'epg', true),
    days: c.num(epgRaw, 'days', 'epg', EPG_DAYS_DEFAULT, { integer: true, min: 1, max: EPG_DAYS_MAX }),
    refreshHours: c.num(epgRaw, 'refreshHours', 'epg', EPG_REFRESH_HOURS_DEFAULT, { integer: false, min: EPG_REFRESH_HOURS_MIN, max: 168 }),
  };
  const hdhrRaw = c.section(root, 'hdhr', '');
  c.unknownKeys(hdhrRaw, 'hdhr', ['enabled', 'friendlyName', 'discovery']);
  const hdhr: HdhrConfig = {
    enabled: c.bool(hdhrRaw, 'enabled', 'hdhr', false),
    friendlyName: c.str(hdhrRaw, 'friendlyName', 'hdhr', ''),
    discovery: c.bool(hdhrRaw, 'discovery', 'hdhr', true),
  };

  const cameraRaw = c.section(root, 'camera', '');
  c.unknownKeys(cameraRaw, 'camera', ['maxStreams', 'videoEncoder']);
  const cameraEncoderRaw = c.str(cameraRaw, 'videoEncoder', 'camera', 'libx264').toLowerCase();
  const cameraEncoder = (VIDEO_ENCODERS as readonly string[]).includes(cameraEncoderRaw) ? (cameraEncoderRaw as VideoEncoder) : 'libx264';
  if (cameraEncoder !== cameraEncoderRaw) c.error('camera.videoEncoder', `${show(cameraEncoderRaw)} is not one of ${VIDEO_ENCODERS.join(', ')}`);
  const camera: CameraConfig = {
    maxStreams: c.num(cameraRaw, 'maxStreams', 'camera', CAMERA_MAX_STREAMS_DEFAULT, { integer: true, min: 1, max: 16 }),
    videoEncoder: cameraEncoder,
  };

  return { config: { name, receivers, proxy, api, mqtt, epg, hdhr, camera }, errors: c.errors, warnings: c.warnings };
}
