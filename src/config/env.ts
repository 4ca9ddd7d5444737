/**
 * The XG2G_* environment variables of DESIGN.md, turned into an overlay in the platform block's
 * shape plus a map from each overlaid field to the variable that set it, so validation errors name
 * the variable the user actually wrote. Values stay strings here where the validator can coerce
 * them; only variables that change the shape (XG2G_OWI_BASE, XG2G_BOUQUET, ...) are parsed here.
 */
import { OWI_HTTP_PORT, OWI_HTTPS_PORT } from '../settings';
import { show, toBoolean } from './values';

/** Every variable the command understands; anything else starting with XG2G_ draws a warning. */
export const ENV_VARS = [
  'XG2G_OWI_BASE', 'XG2G_OWI_USER', 'XG2G_OWI_PASS', 'XG2G_BOUQUET', 'XG2G_PROXY_TARGET',
  'XG2G_ENABLE_STREAM_PROXY', 'XG2G_PROXY_LISTEN', 'XG2G_PUBLIC_URL', 'XG2G_MAX_SESSIONS',
  'XG2G_API_TOKEN', 'XG2G_ENABLE_AUDIO_TRANSCODING', 'XG2G_AUDIO_CODEC', 'XG2G_AUDIO_BITRATE',
  'XG2G_AUDIO_CHANNELS', 'XG2G_FFMPEG_PATH', 'XG2G_LISTEN', 'XG2G_EPG_ENABLED', 'XG2G_MQTT_URL',
  'XG2G_MQTT_USERNAME', 'XG2G_MQTT_PASSWORD', 'XG2G_MQTT_PREFIX', 'XG2G_MQTT_DISCOVERY',
  'XG2G_MQTT_BROKER_PORT', 'XG2G_EPG_DAYS', 'XG2G_HDHR_ENABLED', 'XG2G_HDHR_FRIENDLY_NAME',
  'XG2G_HLS_TRANSCODE_VIDEO', 'XG2G_HLS_VIDEO_ENCODER', 'XG2G_APPLE_REDIRECT',
  // Read by the app, not the config: where the guide and picon caches live.
  'XG2G_CACHE_DIR',
  'XG2G_OWI_MAC', 'XG2G_WAKE_BROADCAST', 'XG2G_OFF_MODE', 'XG2G_STANDBY_GUARD',
  'XG2G_CAMERA_MAX_STREAMS',
] as const;

/** Variables that describe receiver one (they need XG2G_OWI_BASE when the file has no receiver). */
export const RECEIVER_ENV_VARS = [
  'XG2G_OWI_USER', 'XG2G_OWI_PASS', 'XG2G_BOUQUET', 'XG2G_PROXY_TARGET', 'XG2G_OWI_MAC', 'XG2G_WAKE_BROADCAST',
  'XG2G_OFF_MODE', 'XG2G_STANDBY_GUARD',
];

export type Overlay = Record<string, unknown>;

export interface EnvOverlay {
  /** Partial platform block; `receivers` (when present) holds receiver one's fields only. */
  overlay: Overlay;
  /** Field path (`proxy.audio.bitrate`, `receivers[0].host`) → variable that set it. */
  origins: Map<string, string>;
  errors: string[];
  warnings: string[];
  /** Receiver variables that were set, in table order. */
  receiverVars: string[];
}

export interface ParsedBase {
  host: string;
  port: number;
  https: boolean;
  username?: string;
  password?: string;
}

/** Parse XG2G_OWI_BASE (`http://host:port`, `https://host`, or a bare `host[:port]`). */
export function parseOwiBase(value: string): ParsedBase | string {
  const s = value.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `http://${s}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return `${show(s)} is not a URL like http://192.168.1.100:80`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `${show(s)} must start with http:// or https://`;
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return `${show(s)} must not have a path (the web interface's address only, e.g. http://192.168.1.100:80)`;
  }
  if (url.hostname === '') return `${show(s)} has no host`;
  const https = url.protocol === 'https:';
  const out: ParsedBase = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : https ? OWI_HTTPS_PORT : OWI_HTTP_PORT,
    https,
  };
  if (url.username) out.username = decodeURIComponent(url.username);
  if (url.password) out.password = decodeURIComponent(url.password);
  return out;
}

/** Read the XG2G_* variables. Empty variables count as unset, except XG2G_LISTEN ('' = API off). */
export function readEnv(env: NodeJS.ProcessEnv): EnvOverlay {
  const result: EnvOverlay = { overlay: {}, origins: new Map(), errors: [], warnings: [], receiverVars: [] };
  const { overlay, origins } = result;

  const get = (name: string): string | undefined => {
    const v = env[name];
    if (v === undefined) return undefined;
    const t = v.trim();
    return t === '' && name !== 'XG2G_LISTEN' ? undefined : t;
  };
  const section = (path: string[]): Record<string, unknown> => {
    let node: Record<string, unknown> = overlay;
    for (const key of path) {
      if (key === 'receivers') {
        if (!Array.isArray(node.receivers)) node.receivers = [{}];
        node = (node.receivers as Record<string, unknown>[])[0];
        continue;
      }
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    return node;
  };
  const fieldPath = (path: string[], key: string): string =>
    [...path, key].join('.').replace(/^receivers/, 'receivers[0]');
  const set = (name: string, path: string[], key: string, value: unknown): void => {
    section(path)[key] = value;
    origins.set(fieldPath(path, key), name);
  };
  const simple = (name: string, path: string[], key: string): void => {
    const v = get(name);
    if (v !== undefined) set(name, path, key, v);
  };

  for (const name of Object.keys(env)) {
    if (name.startsWith('XG2G_') && !(ENV_VARS as readonly string[]).includes(name)) {
      result.warnings.push(`${name}: unknown variable, ignored`);
    }
  }

  const base = get('XG2G_OWI_BASE');
  if (base !== undefined) {
    const parsed = parseOwiBase(base);
    if (typeof parsed === 'string') {
      result.errors.push(`XG2G_OWI_BASE: ${parsed}`);
    } else {
      set('XG2G_OWI_BASE', ['receivers'], 'host', parsed.host);
      set('XG2G_OWI_BASE', ['receivers'], 'port', parsed.port);
      set('XG2G_OWI_BASE', ['receivers'], 'https', parsed.https);
      if (parsed.username !== undefined) set('XG2G_OWI_BASE', ['receivers'], 'username', parsed.username);
      if (parsed.password !== undefined) set('XG2G_OWI_BASE', ['receivers'], 'password', parsed.password);
    }
  }
  for (const name of RECEIVER_ENV_VARS) if (get(name) !== undefined) result.receiverVars.push(name);
  simple('XG2G_OWI_USER', ['receivers'], 'username');
  simple('XG2G_OWI_PASS', ['receivers'], 'password');
  simple('XG2G_OWI_MAC', ['receivers'], 'mac');
  simple('XG2G_WAKE_BROADCAST', ['receivers'], 'wakeBroadcast');
  simple('XG2G_OFF_MODE', ['receivers'], 'offMode');
  simple('XG2G_STANDBY_GUARD', ['receivers'], 'standbyGuard');
  const bouquets = get('XG2G_BOUQUET');
  if (bouquets !== undefined) {
    const names = bouquets.split(',').map((b) => b.trim()).filter((b) => b !== '');
    if (names.length === 0) result.errors.push(`XG2G_BOUQUET: ${show(bouquets)} names no bouquet`);
    else set('XG2G_BOUQUET', ['receivers'], 'bouquets', names);
  }
  simple('XG2G_PROXY_TARGET', ['receivers'], 'streamTarget');

  simple('XG2G_ENABLE_STREAM_PROXY', ['proxy'], 'enabled');
  simple('XG2G_PROXY_LISTEN', ['proxy'], 'listen');
  simple('XG2G_PUBLIC_URL', ['proxy'], 'publicUrl');
  simple('XG2G_MAX_SESSIONS', ['proxy'], 'maxSessions');
  simple('XG2G_API_TOKEN', ['proxy'], 'token');
  const transcode = get('XG2G_ENABLE_AUDIO_TRANSCODING');
  if (transcode !== undefined) {
    const on = toBoolean(transcode);
    if (on === undefined) {
      result.errors.push(`XG2G_ENABLE_AUDIO_TRANSCODING: ${show(transcode)} is not true or false (also 1/0/yes/no)`);
    } else {
      set('XG2G_ENABLE_AUDIO_TRANSCODING', ['proxy', 'audio'], 'mode', on ? 'auto' : 'never');
    }
  }
  simple('XG2G_AUDIO_ENGINE', ['proxy', 'audio'], 'engine');
  simple('XG2G_AUDIO_CODEC', ['proxy', 'audio'], 'codec');
  simple('XG2G_AUDIO_BITRATE', ['proxy', 'audio'], 'bitrate');
  simple('XG2G_AUDIO_CHANNELS', ['proxy', 'audio'], 'channels');
  simple('XG2G_FFMPEG_PATH', ['proxy'], 'ffmpegPath');

  simple('XG2G_LISTEN', ['api'], 'listen');
  simple('XG2G_EPG_ENABLED', ['epg'], 'enabled');
  simple('XG2G_EPG_DAYS', ['epg'], 'days');
  simple('XG2G_HDHR_ENABLED', ['hdhr'], 'enabled');
  simple('XG2G_CAMERA_MAX_STREAMS', ['camera'], 'maxStreams');
  simple('XG2G_HDHR_FRIENDLY_NAME', ['hdhr'], 'friendlyName');
  simple('XG2G_HLS_TRANSCODE_VIDEO', ['proxy', 'hls'], 'transcodeVideo');
  simple('XG2G_HLS_VIDEO_ENCODER', ['proxy', 'hls'], 'videoEncoder');
  simple('XG2G_APPLE_REDIRECT', ['proxy', 'hls'], 'appleRedirect');

  const mqttUrl = get('XG2G_MQTT_URL');
  if (mqttUrl !== undefined) {
    set('XG2G_MQTT_URL', ['mqtt'], 'url', mqttUrl);
    set('XG2G_MQTT_URL', ['mqtt'], 'enabled', true);
  }
  simple('XG2G_MQTT_USERNAME', ['mqtt'], 'username');
  simple('XG2G_MQTT_PASSWORD', ['mqtt'], 'password');
  simple('XG2G_MQTT_PREFIX', ['mqtt'], 'prefix');
  simple('XG2G_MQTT_DISCOVERY', ['mqtt'], 'discovery');
  const brokerPort = get('XG2G_MQTT_BROKER_PORT');
  if (brokerPort !== undefined) {
    set('XG2G_MQTT_BROKER_PORT', ['mqtt', 'embeddedBroker'], 'port', brokerPort);
    set('XG2G_MQTT_BROKER_PORT', ['mqtt', 'embeddedBroker'], 'enabled', true);
    // The embedded broker exists for setups without one, so the bridge publishes to it.
    set('XG2G_MQTT_BROKER_PORT', ['mqtt'], 'enabled', true);
  }
  return result;
}

