/**
 * Enigma2 service references: strict parsing, the playable-channel rule, encodings for URLs and
 * picons, and short stable ids. Everything that takes a reference from outside (HTTP paths, MQTT
 * commands, receiver answers) goes through `parseServiceRef` first.
 *
 * Grammar: ten fields `type:flags:stype:sid:tsid:onid:namespace:p1:p2:p3`, each followed by `:`
 * (enigma2 writes type and flags in decimal, the other eight in hex: `1:64:…` is a marker), then an optional path (IPTV URL, with its own colons encoded as `%3a`, or a bouquet query)
 * and an optional `:name`. The trailing colon of a plain channel ref may be left off.
 */
import { createHash } from 'node:crypto';
import { CHANNEL_ID_HASH_HEX, SERVICE_REF_MAX_LENGTH } from '../settings';

export interface ServiceRef {
  /** The reference in canonical form: hex fields upper case, trailing colon present. */
  readonly ref: string;
  readonly type: number;
  readonly flags: number;
  readonly stype: number;
  readonly sid: number;
  readonly tsid: number;
  readonly onid: number;
  readonly namespace: number;
  /** IPTV URL (still percent-encoded as enigma2 stores it) or bouquet query; '' for broadcast. */
  readonly path: string;
  /** Display name carried in the ref (markers, IPTV); '' when absent. */
  readonly name: string;
}

export class ServiceRefError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceRefError';
  }
}


const DECIMAL_FIELD = /^[0-9]{1,10}$/;
const HEX_FIELD = /^[0-9A-Fa-f]{1,8}$/;
const FIELD_NAMES = ['type', 'flags', 'stype', 'sid', 'tsid', 'onid', 'namespace', 'p1', 'p2', 'p3'];
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Parse and validate a reference; throws `ServiceRefError` with a reason a user can act on. */
export function parseServiceRef(input: string): ServiceRef {
  if (typeof input !== 'string' || input.length === 0) {
    throw new ServiceRefError('service reference is empty');
  }
  if (input.length > SERVICE_REF_MAX_LENGTH) {
    throw new ServiceRefError(`service reference is longer than ${SERVICE_REF_MAX_LENGTH} characters`);
  }
  if (CONTROL_CHARS.test(input)) {
    throw new ServiceRefError('service reference contains control characters');
  }
  if (input.includes('..')) {
    throw new ServiceRefError('service reference contains ".."');
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input) || input.startsWith('/') || input.includes('\\')) {
    throw new ServiceRefError('a URL or file path is not a service reference');
  }

  const parts = input.split(':');
  if (parts.length < 10) {
    throw new ServiceRefError(`service reference needs 10 fields separated by ":", got ${parts.length}`);
  }
  const values: number[] = [];
  for (let i = 0; i < 10; i++) {
    const decimal = i < 2;
    if (!(decimal ? DECIMAL_FIELD : HEX_FIELD).test(parts[i])) {
      const kind = decimal ? 'a decimal number' : 'hex';
      throw new ServiceRefError(`service reference field ${FIELD_NAMES[i]} is not ${kind}: "${parts[i].slice(0, 20)}"`);
    }
    values.push(parseInt(parts[i], decimal ? 10 : 16));
  }
  // parts[10] is the path (may be ''), the rest (rejoined) the name; a name may contain colons.
  const path = parts[10] ?? '';
  const name = parts.length > 11 ? parts.slice(11).join(':') : '';
  if (path !== '' && /\s/.test(path) && !path.startsWith('FROM BOUQUET') && !path.startsWith('(')) {
    throw new ServiceRefError('service reference path contains whitespace');
  }

  const fields = parts.slice(0, 10).map((p) => p.toUpperCase()).join(':') + ':';
  const ref = parts.length > 11 ? `${fields}${path}:${name}` : `${fields}${path}`;
  return {
    ref,
    type: values[0],
    flags: values[1],
    stype: values[2],
    sid: values[3],
    tsid: values[4],
    onid: values[5],
    namespace: values[6],
    path,
    name,
  };
}

/** `parseServiceRef` without the throw: undefined for anything that is not a reference. */
export function tryParseServiceRef(input: string): ServiceRef | undefined {
  try {
    return parseServiceRef(input);
  } catch {
    return undefined;
  }
}

/** Only flags == 0 entries are channels: markers, hidden entries and sub-bouquets are not. */
export function isPlayable(ref: ServiceRef): boolean {
  return ref.flags === 0 && !ref.path.startsWith('FROM BOUQUET');
}

/** True for streams the box fetches from the network (4097 gstreamer, 5001-5003 exteplayer3). */
export function isIptv(ref: ServiceRef): boolean {
  return ref.path !== '' && !ref.path.startsWith('FROM BOUQUET');
}

/** The whole reference encoded for a query parameter or a URL path segment (IPTV refs hold `%3a`). */
export function encodeServiceRef(ref: ServiceRef | string): string {
  return encodeURIComponent(typeof ref === 'string' ? ref : ref.ref);
}

/** Picon file name: the ref without trailing ':' (and without the name), ':' → '_', plus `.png`. */
export function piconName(ref: ServiceRef): string {
  const base = isIptv(ref) ? `${ref.ref.split(':').slice(0, 10).join(':')}:${ref.path}` : ref.ref;
  return base.replace(/:+$/, '').replace(/:/g, '_').replace(/%3a/gi, '_').replace(/[/?&=]/g, '_') + '.png';
}

/**
 * The part of a reference that identifies the service itself: sid, tsid, onid and namespace for
 * broadcast channels (type and stype vary between bouquets for the same service), the URL for IPTV.
 * The display name never counts, so renames and reorders keep ids stable.
 */
function identityOf(ref: ServiceRef): string {
  const dvb = [ref.sid, ref.tsid, ref.onid, ref.namespace].map((n) => n.toString(16)).join(':');
  return isIptv(ref) ? `${dvb}|${ref.path.toLowerCase()}` : dvb;
}

function identityHash(ref: ServiceRef): string {
  return createHash('sha1').update(identityOf(ref)).digest('hex').slice(0, CHANNEL_ID_HASH_HEX);
}

/**
 * A short id for a channel, safe in MQTT topics, Home Assistant object ids and HomeKit serials:
 * `283d_3fb_1_c00000` for broadcast channels, `iptv_<hash>` for network streams.
 */
export function channelId(ref: ServiceRef): string {
  if (isIptv(ref)) return `iptv_${identityHash(ref)}`;
  return [ref.sid, ref.tsid, ref.onid, ref.namespace].map((n) => n.toString(16)).join('_');
}

/**
 * A non-zero 32-bit number for a channel, for HomeKit's InputSource `Identifier` (a UInt32). Derived
 * from the service identity, so it survives reorders and new channels; 0 is avoided because HomeKit
 * uses it for "no input".
 */
export function channelNumber(ref: ServiceRef): number {
  const n = parseInt(identityHash(ref), 16) >>> 0;
  return n === 0 ? 1 : n;
}
