/**
 * SSDP (UPnP discovery) for the HDHomeRun emulation, the protocol only: reading an M-SEARCH and
 * writing the unicast answers whose LOCATION is the tuner's device.xml. hdhr-discovery.ts owns the
 * socket. Datagrams come from anyone on the network: everything is length-checked, and an answer
 * only ever names search targets of ours, never text from the request.
 */
import { HDHR_SSDP_MAX_AGE_S, HDHR_SSDP_PACKET_MAX_BYTES } from '../settings';

const ROOT_DEVICE = 'upnp:rootdevice';
const MEDIA_SERVER = 'urn:schemas-upnp-org:device:MediaServer:1';
const HDHOMERUN = 'urn:silicondust-com:device:HDHomeRun:1';

/** The device types we answer for, as `urn:<domain>:device:<type>` with the version we have. */
const DEVICE_TYPES: ReadonlyArray<{ prefix: string; version: number }> = [
  { prefix: 'urn:schemas-upnp-org:device:MediaServer', version: 1 },
  { prefix: 'urn:silicondust-com:device:HDHomeRun', version: 1 },
];

/** The part of an M-SEARCH that decides the answer. */
export interface MSearch {
  /** Search target, e.g. `ssdp:all`. */
  st: string;
}

/** An M-SEARCH request, or undefined for anything else (NOTIFY, answers, garbage). */
export function parseMSearch(packet: Buffer): MSearch | undefined {
  if (packet.length === 0 || packet.length > HDHR_SSDP_PACKET_MAX_BYTES) return undefined;
  const lines = packet.toString('latin1').split(/\r?\n/);
  if (!/^M-SEARCH \* HTTP\/1\.[01]$/i.test(lines[0].trim())) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  // UPnP requires MAN: "ssdp:discover" (quotes included); some clients leave the quotes off.
  if (headers.get('man')?.replace(/"/g, '').toLowerCase() !== 'ssdp:discover') return undefined;
  const st = headers.get('st');
  return st ? { st } : undefined;
}

/**
 * The search targets of ours an M-SEARCH for `st` matches, each as the ST to answer with. A device
 * type matches at its version or below (UPnP), and is answered with the ST as asked.
 */
export function matchingTargets(st: string, uuid: string): string[] {
  if (st === 'ssdp:all') return [ROOT_DEVICE, `uuid:${uuid}`, MEDIA_SERVER, HDHOMERUN];
  if (st === ROOT_DEVICE || st === `uuid:${uuid}`) return [st];
  for (const type of DEVICE_TYPES) {
    if (st === type.prefix) return [st];
    if (st.startsWith(`${type.prefix}:`)) {
      const version = st.slice(type.prefix.length + 1);
      if (/^[1-9][0-9]{0,2}$/.test(version) && Number(version) <= type.version) return [st];
    }
  }
  return [];
}

/** The unique service name of one target (UPnP: the UUID alone for `uuid:`, else UUID::target). */
function usn(target: string, uuid: string): string {
  return target.startsWith('uuid:') ? target : `uuid:${uuid}::${target}`;
}

/** The answers to one M-SEARCH: one datagram per matching target; none when nothing matches. */
export function ssdpAnswers(search: MSearch, uuid: string, location: string, server: string, now: Date = new Date()): Buffer[] {
  const oneLine = (value: string): string => value.replace(/[\r\n]/g, '');
  return matchingTargets(search.st, uuid).map((target) => Buffer.from([
    'HTTP/1.1 200 OK',
    `CACHE-CONTROL: max-age=${HDHR_SSDP_MAX_AGE_S}`,
    `DATE: ${now.toUTCString()}`,
    'EXT:',
    `LOCATION: ${oneLine(location)}`,
    `SERVER: ${oneLine(server)}`,
    `ST: ${target}`,
    `USN: ${usn(target, uuid)}`,
    '',
    '',
  ].join('\r\n'), 'utf8'));
}
