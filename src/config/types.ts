/**
 * The one typed configuration of homebridge-xg2g, as every layer sees it after loading and
 * validation (src/config/load.ts). Shapes follow DESIGN.md's platform block; every field is filled
 * in (defaults applied), so consumers never re-check for undefined.
 */

export type AudioMode = 'auto' | 'always' | 'never';

export type AudioChannels = 1 | 2 | 6;

export interface ReceiverConfig {
  /** Display name; unique among receivers (it names accessories and MQTT topics). */
  name: string;
  /** Host name or IP address of the web interface, without scheme or path. */
  host: string;
  port: number;
  https: boolean;
  /** Accept the self-signed certificate most boxes serve on HTTPS. */
  allowSelfSigned: boolean;
  /** '' = no authentication. */
  username: string;
  password: string;
  /** Bouquet names (as the box shows them), at least one. */
  bouquets: string[];
  /** 'auto' (resolved per channel via /web/stream.m3u) or an http(s) base URL without trailing slash. */
  streamTarget: string;
  tvAccessory: boolean;
  channelAccessories: boolean;
  /** Remote key sent for the iOS Remote's info button: a KEY_CODES name (src/receiver/keys.ts), or a code as digits. */
  infoKey: string;
  /** statusinfo poll interval, in s. */
  refreshInterval: number;
}

/** How transcoded audio is made: `splice` re-encodes only the audio tracks, `ffmpeg` remuxes the whole stream. */
export type AudioEngine = 'splice' | 'ffmpeg';

export interface AudioConfig {
  mode: AudioMode;
  engine: AudioEngine;
  codec: 'aac';
  /** ffmpeg bitrate form, e.g. '192k'. */
  bitrate: string;
  channels: AudioChannels;
}

export interface ProxyConfig {
  enabled: boolean;
  /** Listen address: ':18000', '0.0.0.0:18000', '[::1]:18000' (see parseListen). */
  listen: string;
  /** Base URL put into playlists, without trailing slash; '' = taken from each request. */
  publicUrl: string;
  /** Distinct channels streamed at once; null = the receiver's tuner count, else MAX_SESSIONS_FALLBACK. */
  maxSessions: number | null;
  /** Viewers per channel. */
  maxClients: number;
  /** Access token required from clients; '' = none. */
  token: string;
  audio: AudioConfig;
  /** '' = ffmpeg-for-homebridge, else ffmpeg on PATH. */
  ffmpegPath: string;
}

export interface MqttConfig {
  enabled: boolean;
  url: string;
  username: string;
  password: string;
  /** '' = the MQTT layer derives one. */
  clientId: string;
  prefix: string;
  discovery: boolean;
  discoveryPrefix: string;
  embeddedBroker: { enabled: boolean; port: number };
}

export interface Config {
  name: string;
  /** Zero receivers is valid: the plugin waits to be configured (see isConfigured). */
  receivers: ReceiverConfig[];
  proxy: ProxyConfig;
  /** Second listener serving the proxy's routes; '' = off. */
  api: { listen: string };
  mqtt: MqttConfig;
  epg: { enabled: boolean };
}

