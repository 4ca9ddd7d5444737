/**
 * Listen addresses as users write them (`:18000`, `0.0.0.0:18000`, `127.0.0.1:0`, `[::1]:18000`,
 * or a bare port), turned into what `server.listen()` takes.
 */
import { isIP } from 'node:net';

export interface ListenAddress {
  /** Undefined = every interface. */
  host?: string;
  /** 0 = any free port. */
  port: number;
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Parse a listen address; throws an Error whose message says what is wrong (no field name). */
export function parseListen(input: string): ListenAddress {
  const s = String(input).trim();
  if (s === '') throw new Error('is empty (expected e.g. ":18000" or "0.0.0.0:18000")');
  let hostPart: string;
  let portPart: string;
  if (/^\d+$/.test(s)) {
    hostPart = '';
    portPart = s;
  } else if (s.startsWith('[')) {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(s);
    if (!m || isIP(m[1]) !== 6) throw new Error(`"${s}" is not an address like "[::1]:18000"`);
    hostPart = m[1];
    portPart = m[2];
  } else {
    const idx = s.lastIndexOf(':');
    if (idx < 0 || s.indexOf(':') !== idx) {
      throw new Error(`"${s}" is not an address like ":18000" or "0.0.0.0:18000" (IPv6 hosts go in brackets)`);
    }
    hostPart = s.slice(0, idx);
    portPart = s.slice(idx + 1);
    if (hostPart !== '' && isIP(hostPart) !== 4 && !HOSTNAME.test(hostPart)) {
      throw new Error(`"${s}" has an invalid host "${hostPart}"`);
    }
  }
  if (!/^\d+$/.test(portPart)) throw new Error(`"${s}" has no port number (expected e.g. ":18000")`);
  const port = Number(portPart);
  if (port > 65535) throw new Error(`"${s}" has port ${port}, above 65535`);
  return hostPart === '' ? { port } : { host: hostPart, port };
}

/** The address in the form parseListen reads back (IPv6 bracketed). */
export function formatListen(addr: ListenAddress): string {
  if (addr.host === undefined) return `:${addr.port}`;
  return isIP(addr.host) === 6 ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}
