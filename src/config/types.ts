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
  /** The box's MAC for Wake-on-LAN, `aa:bb:cc:dd:ee:ff`; '' = the one read from the box (and remembered). */
  mac: string;
  /** Send a magic packet when asked to power on while the box is unreachable (needs a MAC). */
  wakeOnLan: boolean;
  /** IPv4 broadcast addresses (`a.b.c.d` or `a.b.c.d:port`, UDP 9 by default) for the magic packet; empty = 255.255.255.255 and each local subnet's broadcast. */
  wakeBroadcast: string[];
  /** What "off" sends the box to. */
  offMode: OffMode;
  /** Refuse standby and deep standby from HomeKit and MQTT while proxy viewers watch (MQTT `OFF_FORCE` overrides). */
  standbyGuard: boolean;
  /** HomeKit: a "Record" switch (on = record the current programme now; off = stop that recording). */
  recordSwitch: boolean;
  /** HomeKit: sensors for automations (a TV accessory cannot trigger any). */
  sensors: SensorsConfig;
  /** HomeKit: momentary switches for deep standby and reboot. */
  deepStandbySwitch: boolean;
  rebootSwitch: boolean;
  /** HomeKit: a camera "<receiver> Live" showing the current channel (snapshots and live view). */
  cameraAccessory: boolean;
}

export type OffMode = 'standby' | 'deepStandby';

export interface SensorsConfig {
  /** On while the box records. */
  recording: boolean;
  /** On while someone watches through the proxy. */
  streaming: boolean;
  /** On while the box is on (for setups without the TV accessory). */
  power: boolean;
  /** The HomeKit service the sensors are. */
  type: 'contact' | 'occupancy';
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

/** Encoders `proxy.hls.videoEncoder` accepts for MPEG-2 channels on Apple devices. */
export type VideoEncoder = 'libx264' | 'h264_vaapi' | 'h264_qsv' | 'h264_nvenc' | 'h264_v4l2m2m';

export interface HlsConfig {
  /** Send Apple players (AppleCoreMedia, iPhone, iPad, Safari) that ask for `/<ref>` to the channel's HLS. */
  appleRedirect: boolean;
  /** Encode MPEG-2 video to H.264 for HLS (costs a CPU core on small hosts); off = HLS answers 415 for them. */
  transcodeVideo: boolean;
  videoEncoder: VideoEncoder;
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
  hls: HlsConfig;
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
  epg: EpgConfig;
  hdhr: HdhrConfig;
  camera: CameraConfig;
}

/** The receivers' HomeKit cameras (receivers[].cameraAccessory). */
export interface CameraConfig {
  /** Live views at once over all cameras: each runs an encoder, and CPU is the limit on small hosts. */
  maxStreams: number;
  /** Encoder when the channel's video cannot be copied (not H.264, or larger than asked). */
  videoEncoder: VideoEncoder;
}

export interface EpgConfig {
  /** Fetch the programme guide (now/next for HomeKit and MQTT, and /xmltv.xml). */
  enabled: boolean;
  /** Days of guide in /xmltv.xml, 1-14. */
  days: number;
  /** Hours between guide refreshes. */
  refreshHours: number;
}

/** HDHomeRun tuner emulation for Plex, Jellyfin, Emby and Channels DVR. */
export interface HdhrConfig {
  enabled: boolean;
  /** Shown in the media server; '' = "xg2g <first receiver's name>". */
  friendlyName: string;
  /** Answer SSDP M-SEARCH (UDP 1900) and HDHomeRun discovery (UDP 65001) so servers find the tuner. */
  discovery: boolean;
}

