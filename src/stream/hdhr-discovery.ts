/**
 * How media servers find the emulated HDHomeRun on the LAN: the SSDP socket (UDP 1900, answers from
 * ssdp.ts) and the HDHomeRun discovery protocol (UDP 65001, codec below, after libhdhomerun's
 * hdhomerun_pkt.h). Both answer only peers on a network this machine is on, with the proxy's
 * address on that network (or proxy.publicUrl): discovery is a LAN affair, and an answer to the
 * Internet would only reflect traffic at a forged sender. A socket that cannot open logs one
 * sentence and the rest runs on; datagrams are hostile input, and no handler throws.
 */
import dgram, { RemoteInfo, Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { parseListen } from '../config/listen';
import type { Logger } from '../logger';
import { LogOnce } from '../retry';
import { HDHR_DISCOVERY_PACKET_MAX_BYTES, HDHR_SSDP_GROUP } from '../settings';
import { deviceUuid, HdhrContext, HdhrDevice } from './hdhr';
import { parseMSearch, ssdpAnswers } from './ssdp';

// --- The HDHomeRun discovery packet ---------------------------------------------------------
// uint16 type, uint16 payload length, payload of TLVs (uint8 tag, 1-2 byte length, value),
// uint32 CRC-32 of everything before it. Big-endian except the CRC, which is little-endian.

export const HDHR_TYPE_DISCOVER_REQ = 0x0002;
export const HDHR_TYPE_DISCOVER_RPY = 0x0003;
export const HDHR_TAG_DEVICE_TYPE = 0x01;
export const HDHR_TAG_DEVICE_ID = 0x02;
export const HDHR_TAG_TUNER_COUNT = 0x10;
export const HDHR_TAG_LINEUP_URL = 0x27;
export const HDHR_TAG_BASE_URL = 0x2a;
export const HDHR_TAG_DEVICE_AUTH_STR = 0x2b;
export const HDHR_TAG_MULTI_TYPE = 0x2d;
export const HDHR_DEVICE_TYPE_TUNER = 0x00000001;
export const HDHR_WILDCARD = 0xffffffff;

const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Ethernet CRC-32 (what libhdhomerun computes); zlib.crc32 only exists from Node 20.15. */
export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export interface DiscoverRequest {
  /** Device types asked for (DEVICE_TYPE and MULTI_TYPE tags). */
  types: number[];
  /** The device asked for; undefined = any. */
  deviceId?: number;
}

/** A well-formed discover request with a valid CRC, or undefined for anything else. */
export function parseDiscoverRequest(packet: Buffer): DiscoverRequest | undefined {
  if (packet.length < 8 || packet.length > HDHR_DISCOVERY_PACKET_MAX_BYTES) return undefined;
  if (packet.readUInt16BE(0) !== HDHR_TYPE_DISCOVER_REQ) return undefined;
  const end = 4 + packet.readUInt16BE(2);
  if (end + 4 !== packet.length) return undefined;
  if (crc32(packet.subarray(0, end)) !== packet.readUInt32LE(end)) return undefined;
  const request: DiscoverRequest = { types: [] };
  let pos = 4;
  while (pos + 2 <= end) {
    const tag = packet[pos++];
    let length = packet[pos++];
    if (length & 0x80) {
      if (pos >= end) return undefined;
      length = (length & 0x7f) | (packet[pos++] << 7);
    }
    if (pos + length > end) return undefined;
    if ((tag === HDHR_TAG_DEVICE_TYPE && length === 4) || (tag === HDHR_TAG_MULTI_TYPE && length % 4 === 0)) {
      for (let at = pos; at < pos + length; at += 4) request.types.push(packet.readUInt32BE(at));
    } else if (tag === HDHR_TAG_DEVICE_ID && length === 4) {
      request.deviceId = packet.readUInt32BE(pos);
    }
    // Unknown tags are skipped, as the protocol asks.
    pos += length;
  }
  return request;
}

/** True when a request asks for tuners (or any device) and for this device id (or any). */
export function asksFor(request: DiscoverRequest, deviceId: string): boolean {
  const type = request.types.some((t) => t === HDHR_DEVICE_TYPE_TUNER || t === HDHR_WILDCARD);
  const id = request.deviceId === undefined || request.deviceId === HDHR_WILDCARD || request.deviceId === parseInt(deviceId, 16);
  return type && id;
}

function tlv(tag: number, value: Buffer): Buffer {
  const length = value.length < 0x80 ? Buffer.from([value.length]) : Buffer.from([(value.length & 0x7f) | 0x80, value.length >> 7]);
  return Buffer.concat([Buffer.from([tag]), length, value]);
}

const u32 = (value: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
};

/**
 * The discover reply libhdhomerun and Plex read: device type tuner, id, tuner count, auth, base and
 * lineup URL. The lineup URL never carries the access token: this goes to anyone who asks.
 */
export function buildDiscoverReply(device: HdhrDevice, base: string): Buffer {
  const payload = Buffer.concat([
    tlv(HDHR_TAG_DEVICE_TYPE, u32(HDHR_DEVICE_TYPE_TUNER)),
    tlv(HDHR_TAG_DEVICE_ID, u32(parseInt(device.deviceId, 16))),
    tlv(HDHR_TAG_TUNER_COUNT, Buffer.from([device.tunerCount & 0xff])),
    tlv(HDHR_TAG_DEVICE_AUTH_STR, Buffer.from(device.deviceAuth, 'utf8')),
    tlv(HDHR_TAG_BASE_URL, Buffer.from(base, 'utf8')),
    tlv(HDHR_TAG_LINEUP_URL, Buffer.from(`${base}/lineup.json`, 'utf8')),
  ]);
  const header = Buffer.alloc(4);
  header.writeUInt16BE(HDHR_TYPE_DISCOVER_RPY, 0);
  header.writeUInt16BE(payload.length, 2);
  const frame = Buffer.concat([header, payload]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(frame));
  return Buffer.concat([frame, crc]);
}

// --- Where to listen and which address to name ----------------------------------------------

interface Scope {
  /** Address the UDP sockets bind. */
  bind: string;
  /** Interface addresses to join the SSDP group on. */
  multicast: string[];
  /** Answer only peers on this address's network (a proxy bound to one address); undefined = any of ours. */
  only?: string;
}

const isLoopback = (address: string): boolean => address.startsWith('127.');

/** The discovery scope for proxy.listen, or a sentence saying why there is none. */
function scopeFor(listen: string): Scope | string {
  const host = parseListen(listen).host;
  if (host === undefined || host === '0.0.0.0' || host === '::') {
    const lan = ipv4Interfaces().filter((a) => !a.internal).map((a) => a.address);
    return { bind: '0.0.0.0', multicast: lan };
  }
  const address = host === 'localhost' ? '127.0.0.1' : host;
  if (!isIPv4(address)) return `HDHomeRun discovery is off: it needs proxy.listen on every interface or on an IPv4 address, not "${listen}". Add the tuner in the media server by its address instead.`;
  // Nothing off this machine can reach a loopback proxy: the sockets stay there too (no multicast on lo).
  if (isLoopback(address)) return { bind: address, multicast: [], only: address };
  // Multicast only reaches a socket bound to the wildcard; answers still name this address only.
  return { bind: '0.0.0.0', multicast: [address], only: address };
}

function ipv4Interfaces(): Array<{ address: string; netmask: string; internal: boolean }> {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => a.family === 'IPv4'));
}

const toInt = (address: string): number => address.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);

/** Our address on the peer's network, or undefined when the peer is not on one of ours. */
function localAddressFor(peer: string, only: string | undefined): string | undefined {
  if (!isIPv4(peer)) return undefined;
  if (only && isLoopback(only)) return isLoopback(peer) ? only : undefined;
  for (const iface of ipv4Interfaces()) {
    if (only && iface.address !== only) continue;
    const mask = toInt(iface.netmask);
    if (((toInt(iface.address) ^ toInt(peer)) & mask) === 0) return iface.address;
  }
  return undefined;
}

// --- The sockets ----------------------------------------------------------------------------

export interface HdhrDiscoveryOptions {
  hdhr: HdhrContext;
  /** proxy.listen, which decides the interfaces discovery serves. */
  listen: string;
  /** Port of the proxy listener the answers point at. */
  httpPort: number;
  /** proxy.publicUrl; '' = the proxy's address on the asking peer's network. */
  publicUrl: string;
  /** UDP ports; 0 = any free one (tests). */
  ssdpPort: number;
  discoveryPort: number;
  version: string;
  log: Logger;
}

export interface HdhrDiscovery {
  /** Ports bound; a protocol whose socket could not open has none. */
  readonly ports: { ssdp?: number; hdhr?: number };
  close(): Promise<void>;
}

/** Opens both discovery sockets; never rejects (a socket that cannot open is logged and left out). */
export async function startHdhrDiscovery(options: HdhrDiscoveryOptions): Promise<HdhrDiscovery> {
  const { log } = options;
  const scope = scopeFor(options.listen);
  if (typeof scope === 'string') {
    log.warn(scope);
    return { ports: {}, close: async () => undefined };
  }
  const trouble = new LogOnce((line) => log.warn(line));
  const baseFor = (peer: string): string | undefined => {
    const address = localAddressFor(peer, scope.only);
    if (address === undefined) return undefined;
    return options.publicUrl ? options.publicUrl.replace(/\/+$/, '') : `http://${address}:${options.httpPort}`;
  };
  const server = `${process.platform}/1 UPnP/1.0 xg2g/${options.version}`;
  const reply = (socket: Socket, packet: Buffer, peer: RemoteInfo): void => {
    socket.send(packet, peer.port, peer.address, (error) => {
      // One line per kind of failure, not per peer: a busy network must not flood the log.
      if (error) trouble.say(`The tuner emulation could not answer a media server searching for it: ${error.message}.`);
    });
  };

  const onSsdp = (socket: Socket, message: Buffer, peer: RemoteInfo): void => {
    const search = parseMSearch(message);
    const device = search && options.hdhr.device();
    const base = device && baseFor(peer.address);
    if (!search || !device || !base) return;
    for (const answer of ssdpAnswers(search, deviceUuid(device.deviceId), `${base}/device.xml`, server)) reply(socket, answer, peer);
  };
  const onDiscover = (socket: Socket, message: Buffer, peer: RemoteInfo): void => {
    const request = parseDiscoverRequest(message);
    const device = request && options.hdhr.device();
    if (!request || !device || !asksFor(request, device.deviceId)) return;
    const base = baseFor(peer.address);
    if (base) reply(socket, buildDiscoverReply(device, base), peer);
  };

  const ssdp = await openUdp(scope.bind, options.ssdpPort, 'SSDP discovery', log, trouble, onSsdp);
  if (ssdp) joinGroup(ssdp, scope.multicast, log);
  const hdhr = await openUdp(scope.bind, options.discoveryPort, 'HDHomeRun discovery', log, trouble, onDiscover);
  const sockets = [ssdp, hdhr].filter((s): s is Socket => s !== undefined);
  return {
    ports: { ssdp: ssdp?.address().port, hdhr: hdhr?.address().port },
    close: () => Promise.all(sockets.map(closeUdp)).then(() => undefined),
  };
}

type Handler = (socket: Socket, message: Buffer, peer: RemoteInfo) => void;

/** A bound UDP socket calling `handler` per datagram, or undefined (logged) when it cannot bind. */
function openUdp(address: string, port: number, part: string, log: Logger, trouble: LogOnce, handler: Handler): Promise<Socket | undefined> {
  // Shared: Plex Media Server and DLNA servers on the same host hold port 1900 as well.
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  return new Promise((resolve) => {
    socket.once('error', (error: NodeJS.ErrnoException) => {
      log.warn(`${part} (UDP port ${port}) is off: ${bindFailure(port, error)}. Media servers can still add the tuner by the proxy's address.`);
      void closeUdp(socket);
      resolve(undefined);
    });
    socket.bind({ port, address, exclusive: false }, () => {
      socket.removeAllListeners('error');
      socket.on('error', (error) => trouble.say(`${part} failed: ${error.message}.`));
      socket.on('message', (message: Buffer, peer: RemoteInfo) => {
        try {
          handler(socket, message, peer);
        } catch (error) {
          trouble.say(`${part} could not answer a media server: ${(error as Error).message}.`);
        }
      });
      resolve(socket);
    });
  });
}

function bindFailure(port: number, error: NodeJS.ErrnoException): string {
  if (error.code === 'EADDRINUSE') return `port ${port} is in use by a program that does not share it`;
  if (error.code === 'EACCES') return `port ${port} needs privileges this process does not have`;
  return error.message;
}

/** Joins the SSDP group on each address; says once if none worked (unicast searches still do). */
function joinGroup(socket: Socket, addresses: string[], log: Logger): void {
  const failed = addresses.filter((address) => {
    try {
      socket.addMembership(HDHR_SSDP_GROUP, address);
      return false;
    } catch {
      return true;
    }
  });
  if (addresses.length > 0 && failed.length === addresses.length) {
    log.warn(`SSDP could not join the multicast group ${HDHR_SSDP_GROUP} on ${failed.join(', ')}: media servers that search by multicast will not find the tuner; HDHomeRun discovery and adding it by address still work.`);
  }
}

function closeUdp(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      // Already closed.
      resolve();
    }
  });
}
