/**
 * HDHomeRun tuner emulation, the answers themselves: the device's identity (an id with the check
 * digit libhdhomerun validates, a UPnP UUID derived from it) and what Plex, Jellyfin, Emby and
 * Channels DVR read from a tuner: discover.json, lineup.json, lineup_status.json and device.xml.
 * Everything here is a pure function of the configuration, the receivers' state and the channel
 * list; hdhr-route.ts serves it over HTTP, ssdp.ts and hdhr-discovery.ts announce it on the LAN.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/types';
import type { Logger } from '../logger';
import type { Channel } from '../receiver/channels';
import { isIptv } from '../receiver/service-ref';
import {
  HDHR_FIRMWARE_NAME,
  HDHR_FIRMWARE_VERSION,
  HDHR_MANUFACTURER,
  HDHR_MODEL_NUMBER,
  HDHR_TUNER_COUNT_MAX,
  MAX_SESSIONS_FALLBACK,
} from '../settings';
import { streamPath } from './backend';

/** The device as clients see it at this moment. */
export interface HdhrDevice {
  friendlyName: string;
  /** 8 upper-case hex digits whose last one is libhdhomerun's check digit. */
  deviceId: string;
  /** Real tuners carry a per-device string here; ours is derived like the id (it guards nothing). */
  deviceAuth: string;
  /** Streams the receivers can carry at once: what a media server may schedule. */
  tunerCount: number;
  /** Plex offers guides by source: DVB-T is "Antenna"; satellite and cable have only "Cable". */
  source: 'Cable' | 'Antenna';
}

/** What ProxyContext carries when `hdhr.enabled` is on. */
export interface HdhrContext {
  /**
   * The device, or undefined until the first receiver's device info has loaded: its id derives
   * from the box's identity, and an id that changed once the box answered would make media servers
   * list the tuner twice.
   */
  device(): HdhrDevice | undefined;
  /** Every channel leaves the proxy with AAC audio (audio mode is not `never`): the lineup says so. */
  aacAudio: boolean;
}

/** What the emulation reads from each configured receiver (the core's receiver object has it). */
export interface HdhrReceiver {
  readonly name: string;
  readonly config: { readonly host: string };
  /** Undefined until the box has answered once. */
  readonly device: { readonly identity: string; readonly tuners: ReadonlyArray<{ readonly type: string }> } | undefined;
  summary(): { tuners: number | null };
}

// --- Device id ------------------------------------------------------------------------------

/** libhdhomerun's `hdhomerun_discover_validate_device_id` table, for the odd nibbles from the top. */
const CHECK_TABLE = [0xa, 0x5, 0xf, 0x6, 0x7, 0xc, 0x1, 0xb, 0x9, 0x2, 0x8, 0xd, 0x4, 0x3, 0xe, 0x0];

/** The XOR of the seven upper nibbles as libhdhomerun weighs them: the lowest nibble must equal it. */
function checkNibble(id: number): number {
  let sum = 0;
  for (let shift = 28; shift > 0; shift -= 4) {
    const nibble = (id >>> shift) & 0xf;
    sum ^= (shift / 4) % 2 === 1 ? CHECK_TABLE[nibble] : nibble;
  }
  return sum;
}

/** True when libhdhomerun accepts the id (its check digit is right). */
export function isValidDeviceId(id: number): boolean {
  return checkNibble(id >>> 0) === (id & 0xf);
}

/**
 * A stable device id from any seed: 28 bits of its hash plus the check digit. 0 and FFFFFFFF
 * (the wildcard, which also passes the check) are avoided: clients treat them as "any device".
 */
export function deviceIdFrom(seed: string): string {
  const hash = createHash('sha256').update(seed).digest();
  let upper = hash.readUInt32BE(0) & 0xfffffff0;
  if (upper === 0 || upper === 0xfffffff0) upper = 0x10000000 | (upper & 0x0ffffff0);
  const id = (upper | checkNibble(upper)) >>> 0;
  return id.toString(16).toUpperCase().padStart(8, '0');
}

/** A name-based UUID (RFC 4122 version 5 layout) for device.xml's UDN and the SSDP USN. */
export function deviceUuid(deviceId: string): string {
  const b = createHash('sha1').update(`xg2g-hdhomerun:${deviceId}`).digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// --- The device -----------------------------------------------------------------------------

/** The device over the configured receivers; warns once when the token shuts the clients out. */
export function createHdhrContext(config: Config, receivers: readonly HdhrReceiver[], log: Logger): HdhrContext {
  if (config.proxy.token !== '') {
    log.warn('hdhr.enabled is on but proxy.token is set: Plex, Jellyfin, Emby and Channels DVR cannot send a token, so the tuner emulation answers them 401. Clear proxy.token (XG2G_API_TOKEN) to use it.');
  }
  return {
    aacAudio: config.proxy.audio.mode !== 'never',
    device: () => {
      const first = receivers[0];
      if (!first?.device) return undefined;
      // The config name keeps two xg2g instances on one box apart.
      const seed = `${first.device.identity}\n${config.name}`;
      const deviceId = deviceIdFrom(seed);
      return {
        friendlyName: config.hdhr.friendlyName || `xg2g ${first.name}`,
        deviceId,
        deviceAuth: createHash('sha256').update(`auth\n${seed}`).digest('base64url').slice(0, 24),
        tunerCount: tunerCount(receivers, config.proxy.maxSessions),
        source: terrestrial(first.device.tuners) ? 'Antenna' : 'Cable',
      };
    },
  };
}

/** Tuner types read like "Vuplus DVB-S NIM(45308X FBC) (DVB-S2X)": all of them DVB-T, none S or C. */
function terrestrial(tuners: ReadonlyArray<{ readonly type: string }>): boolean {
  return tuners.length > 0 && tuners.every((t) => /DVB-T/i.test(t.type) && !/DVB-[SC]/i.test(t.type));
}

/** Each receiver streams as many channels as its session limit allows; the tuner count is their sum. */
function tunerCount(receivers: readonly HdhrReceiver[], maxSessions: number | null): number {
  const sum = receivers.reduce((n, r) => n + (maxSessions ?? r.summary().tuners ?? MAX_SESSIONS_FALLBACK), 0);
  return Math.min(Math.max(sum, 1), HDHR_TUNER_COUNT_MAX);
}

// --- discover.json, lineup_status.json, device.xml ------------------------------------------

export interface DiscoverJson {
  FriendlyName: string;
  Manufacturer: string;
  ModelNumber: string;
  FirmwareName: string;
  FirmwareVersion: string;
  DeviceID: string;
  DeviceAuth: string;
  BaseURL: string;
  LineupURL: string;
  TunerCount: number;
}

/** `base` has no trailing slash; `query` carries the token when the request did. */
export function discoverJson(device: HdhrDevice, base: string, query: string): DiscoverJson {
  return {
    FriendlyName: device.friendlyName,
    Manufacturer: HDHR_MANUFACTURER,
    ModelNumber: HDHR_MODEL_NUMBER,
    FirmwareName: HDHR_FIRMWARE_NAME,
    FirmwareVersion: HDHR_FIRMWARE_VERSION,
    DeviceID: device.deviceId,
    DeviceAuth: device.deviceAuth,
    BaseURL: base,
    LineupURL: `${base}/lineup.json${query}`,
    TunerCount: device.tunerCount,
  };
}

/** Channels come from the bouquets, never from a scan: there is never one in progress. */
export function lineupStatusJson(device: HdhrDevice): Record<string, unknown> {
  return { ScanInProgress: 0, ScanPossible: 1, Source: device.source, SourceList: [device.source] };
}

/** XML text: the five special characters escaped, characters XML 1.0 forbids dropped. */
function xmlText(value: string): string {
  return value
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The UPnP device description SSDP's LOCATION points at. */
export function deviceXml(device: HdhrDevice, base: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <specVersion><major>1</major><minor>0</minor></specVersion>
  <URLBase>${xmlText(base)}</URLBase>
  <device>
    <deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType>
    <friendlyName>${xmlText(device.friendlyName)}</friendlyName>
    <manufacturer>${HDHR_MANUFACTURER}</manufacturer>
    <modelName>${HDHR_MODEL_NUMBER}</modelName>
    <modelNumber>${HDHR_MODEL_NUMBER}</modelNumber>
    <serialNumber>${device.deviceId}</serialNumber>
    <UDN>uuid:${deviceUuid(device.deviceId)}</UDN>
  </device>
</root>
`;
}

// --- lineup.json ----------------------------------------------------------------------------

export interface LineupEntry {
  GuideNumber: string;
  GuideName: string;
  URL: string;
  /** Present (1) on HD channels only, as real tuners write it. */
  HD?: 1;
  VideoCodec?: 'MPEG2' | 'H264' | 'HEVC';
  AudioCodec?: 'AAC';
}

/**
 * DVB service types (EN 300 468 table 87) as the box writes them in the ref's third field: video
 * codec and whether the service is HD. Unlisted types get no hint.
 */
const SERVICE_TYPES: ReadonlyMap<number, { codec: 'MPEG2' | 'H264' | 'HEVC'; hd: boolean }> = new Map([
  [0x01, { codec: 'MPEG2', hd: false }],
  [0x11, { codec: 'MPEG2', hd: true }],
  [0x16, { codec: 'H264', hd: false }],
  [0x19, { codec: 'H264', hd: true }],
  [0x1c, { codec: 'H264', hd: true }],
  [0x1f, { codec: 'HEVC', hd: true }],
  [0x20, { codec: 'HEVC', hd: true }],
]);

/** Digital radio and advanced-codec radio service types. */
const RADIO_SERVICE_TYPES = new Set([0x02, 0x0a]);

/**
 * The lineup: the TV channels of the combined list (listed-channels.ts), in order. Radio channels
 * are left out (media servers file every tuner channel as TV and cannot play an audio-only stream
 * as one). GuideNumber is the channel number; GuideName goes out as JSON, so names with quotes or
 * line breaks stay one entry.
 */
export function buildLineup(channels: readonly Channel[], base: string, query: string, aacAudio: boolean): LineupEntry[] {
  return channels
    .filter((channel) => channel.kind !== 'radio' && !RADIO_SERVICE_TYPES.has(channel.ref.stype))
    .map((channel) => lineupEntry(channel, base, query, aacAudio));
}

function lineupEntry(channel: Channel, base: string, query: string, aacAudio: boolean): LineupEntry {
  const entry: LineupEntry = { GuideNumber: String(channel.number), GuideName: channel.name, URL: `${base}${streamPath(channel.ref)}${query}` };
  // An IPTV ref's service type is whatever the bouquet's author wrote: no hint beats a wrong one.
  const type = isIptv(channel.ref) ? undefined : SERVICE_TYPES.get(channel.ref.stype);
  if (type?.hd) entry.HD = 1;
  if (type) entry.VideoCodec = type.codec;
  if (aacAudio) entry.AudioCodec = 'AAC';
  return entry;
}
