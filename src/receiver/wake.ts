/**
 * Wake-on-LAN: the magic packet (6 × 0xFF, then the MAC 16 times) sent over UDP with SO_BROADCAST to
 * each configured target, or, when none is configured, to 255.255.255.255 and every local IPv4
 * subnet's broadcast address. It never throws: a caller gets what was sent and what failed, so an
 * event handler (a HomeKit tap, an MQTT command) can report it as a sentence.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { WOL_BROADCAST_ALL, WOL_PORT_DEFAULT } from '../settings';

export interface WakeTarget {
  address: string;
  port: number;
}

export interface WakeResult {
  /** `address:port` of each target the packet went to. */
  sent: string[];
  /** Targets it could not go to, with the reason (no route, bad address, …). */
  failed: Array<{ target: string; reason: string }>;
}

const MAC_TEXT = /^([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})$/i;

/** The six bytes of a MAC written `aa:bb:cc:dd:ee:ff` (or with dashes, or none); undefined otherwise. */
export function macBytes(mac: string): Buffer | undefined {
  const m = MAC_TEXT.exec(typeof mac === 'string' ? mac.trim() : '');
  if (!m) return undefined;
  const bytes = Buffer.from(m.slice(1, 7).map((h) => parseInt(h, 16)));
  // All zeros or broadcast is no card's address: boxes report 00:00:… when they know none.
  return bytes.every((b) => b === 0) || bytes.every((b) => b === 0xff) ? undefined : bytes;
}

/** The 102-byte magic packet for a MAC; undefined when the MAC is not one. */
export function magicPacket(mac: string): Buffer | undefined {
  const bytes = macBytes(mac);
  if (!bytes) return undefined;
  return Buffer.concat([Buffer.alloc(6, 0xff), ...Array.from({ length: 16 }, () => bytes)]);
}

/** `a.b.c.d` or `a.b.c.d:port` as a target; undefined when it is neither. */
export function parseWakeTarget(text: string): WakeTarget | undefined {
  const m = /^([0-9.]+)(?::(\d{1,5}))?$/.exec(typeof text === 'string' ? text.trim() : '');
  if (!m || isIP(m[1]) !== 4) return undefined;
  const port = m[2] === undefined ? WOL_PORT_DEFAULT : Number(m[2]);
  return port >= 1 && port <= 65535 ? { address: m[1], port } : undefined;
}

/** The broadcast address of every non-internal IPv4 interface (address | ~netmask). */
export function localBroadcasts(interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string[] {
  const found: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (info.family !== 'IPv4' || info.internal) continue;
      const ip = ipv4Number(info.address);
      const mask = ipv4Number(info.netmask);
      if (ip === undefined || mask === undefined || mask === 0xffffffff) continue;
      const broadcast = ipv4Text((ip | ~mask) >>> 0);
      if (!found.includes(broadcast)) found.push(broadcast);
    }
  }
  return found;
}

/** The targets for a `wakeBroadcast` setting: its entries, or the default list when it is empty. */
export function wakeTargets(configured: readonly string[]): WakeTarget[] {
  if (configured.length > 0) {
    return configured.map(parseWakeTarget).filter((t): t is WakeTarget => t !== undefined);
  }
  const addresses = [WOL_BROADCAST_ALL, ...localBroadcasts().filter((a) => a !== WOL_BROADCAST_ALL)];
  return addresses.map((address) => ({ address, port: WOL_PORT_DEFAULT }));
}

/**
 * Sends the magic packet for `mac` to each target (`a.b.c.d[:port]` strings, or an empty list for
 * the default broadcasts). Resolves when every send finished; never rejects.
 */
export async function sendMagicPacket(mac: string, targets: readonly string[] = []): Promise<WakeResult> {
  const result: WakeResult = { sent: [], failed: [] };
  const packet = magicPacket(mac);
  const list = wakeTargets(targets);
  const bad = targets.filter((t) => parseWakeTarget(t) === undefined);
  for (const target of bad) result.failed.push({ target, reason: 'not an IPv4 address with an optional port' });
  if (!packet) {
    for (const t of list) result.failed.push({ target: `${t.address}:${t.port}`, reason: `"${mac}" is not a MAC address` });
    return result;
  }
  let socket: Socket | undefined;
  try {
    socket = await openBroadcastSocket();
  } catch (error) {
    for (const t of list) result.failed.push({ target: `${t.address}:${t.port}`, reason: reasonOf(error) });
    return result;
  }
  const open = socket;
  try {
    await Promise.all(list.map((t) => new Promise<void>((resolve) => {
      const target = `${t.address}:${t.port}`;
      open.send(packet, t.port, t.address, (error) => {
        if (error) result.failed.push({ target, reason: reasonOf(error) });
        else result.sent.push(target);
        resolve();
      });
    })));
  } finally {
    open.close();
  }
  return result;
}

/** A UDP socket bound to any port with SO_BROADCAST on (broadcast needs a bound socket). */
function openBroadcastSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const fail = (error: Error): void => {
      socket.close();
      reject(error);
    };
    socket.once('error', fail);
    socket.bind(0, () => {
      socket.off('error', fail);
      // Later errors (an ICMP "unreachable" for one target) arrive per send; none may crash the app.
      socket.on('error', () => undefined);
      try {
        socket.setBroadcast(true);
        resolve(socket);
      } catch (error) {
        fail(error as Error);
      }
    });
  });
}

function reasonOf(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e?.code ?? (e?.message || 'unknown error');
}

function ipv4Number(text: string): number | undefined {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

function ipv4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}
