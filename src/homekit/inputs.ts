/**
 * Which channels become HomeKit inputs and channel accessories: bouquet order, one per service
 * (a channel in two bouquets counts once), an Identifier derived from the service itself so it
 * survives reorders and new channels, cleaned names, and HomeKit's caps with the cut named.
 */
import { channelId, channelNumber, ServiceRef, tryParseServiceRef } from '../receiver/service-ref';
import type { Channel } from '../receiver/channels';
import { cleanName } from './names';

export interface PlannedChannel {
  ref: ServiceRef;
  /** InputSource Identifier: non-zero, stable for the service. */
  identifier: number;
  /** Short id for UUIDs, subtypes and serial numbers. */
  id: string;
  /** The name cleaned to HomeKit's rules. */
  name: string;
  /** The name as the box sends it, for log lines. */
  original: string;
}

export interface ChannelPlan {
  kept: PlannedChannel[];
  /** Channels beyond the cap, in bouquet order. */
  left: PlannedChannel[];
}

/** The channels in order, deduplicated by service, cut after `max`. */
export function planChannels(channels: readonly Pick<Channel, 'ref' | 'name'>[], max: number): ChannelPlan {
  const seen = new Set<number>();
  const all: PlannedChannel[] = [];
  for (const c of channels) {
    const identifier = channelNumber(c.ref);
    if (seen.has(identifier)) continue;
    seen.add(identifier);
    all.push({ ref: c.ref, identifier, id: channelId(c.ref), name: cleanName(c.name, c.ref.ref), original: c.name });
  }
  const cap = Math.max(0, Math.floor(max));
  return { kept: all.slice(0, cap), left: all.slice(cap) };
}

/** The Identifier of the channel the box reports as tuned, 0 (HomeKit's "none") when none or unparsable. */
export function identifierOf(ref: string | undefined | null): number {
  if (!ref) return 0;
  const parsed = tryParseServiceRef(ref);
  return parsed ? channelNumber(parsed) : 0;
}

/** "A, B, C and 12 more": names of channels left out, short enough for one log line. */
export function describeLeftOut(left: readonly PlannedChannel[], shown = 10): string {
  const names = left.slice(0, shown).map((c) => `"${c.original}"`);
  const rest = left.length - names.length;
  return rest > 0 ? `${names.join(', ')} and ${rest} more` : names.join(', ');
}

/**
 * Splits one budget among receivers in config order: each gets what it wants while budget remains.
 * Receivers whose channels are not loaded yet ask for 0, so a later load can shift the cut.
 */
export function shareBudget(wanted: readonly number[], budget: number): number[] {
  let remaining = Math.max(0, budget);
  return wanted.map((w) => {
    const take = Math.min(Math.max(0, w), remaining);
    remaining -= take;
    return take;
  });
}

/**
 * The Television's DisplayOrder: a TLV8 list of input Identifiers (tag 1, 4 bytes little-endian),
 * each pair separated by an empty tag 0, base64 as HAP-NodeJS takes TLV8 values. Without it the
 * Home app orders inputs as it likes; with it, they follow the bouquets.
 */
export function displayOrder(identifiers: readonly number[]): string {
  const parts: Buffer[] = [];
  identifiers.forEach((identifier, i) => {
    if (i > 0) parts.push(Buffer.from([0x00, 0x00]));
    const item = Buffer.alloc(6);
    item.writeUInt8(0x01, 0);
    item.writeUInt8(4, 1);
    item.writeUInt32LE(identifier >>> 0, 2);
    parts.push(item);
  });
  return Buffer.concat(parts).toString('base64');
}
