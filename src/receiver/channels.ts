/**
 * Channel lists: resolves the bouquet names a user configured into one ordered, de-duplicated
 * channel list, and finds a channel by reference, short id or name (for MQTT and HomeKit commands).
 */
import { channelId, tryParseServiceRef } from './service-ref';
import type { Bouquet, Channel } from './types';

/** The part of the client this needs, so callers (and tests) can pass anything that lists bouquets. */
export interface ChannelSource {
  bouquets(kind?: 'tv' | 'radio'): Promise<Bouquet[]>;
  channels(bouquetRef: string): Promise<Channel[]>;
}

/** A channel with the name of the configured bouquet it was found in (playlist groups, HomeKit). */
export interface BouquetChannel extends Channel {
  bouquet: string;
}

export interface LoadedChannels {
  /** Channels of all found bouquets in config order; a ref seen twice keeps its first place. */
  channels: BouquetChannel[];
  /** Configured names that match no bouquet on the box. */
  missing: string[];
}

function key(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * Looks the names up among the TV bouquets, then (only if some are still unknown) the radio
 * bouquets, and loads each found bouquet once. Requests go one after another like every request
 * to the box.
 */
export async function loadChannels(client: ChannelSource, bouquetNames: string[]): Promise<LoadedChannels> {
  const wanted: string[] = [];
  for (const name of bouquetNames) {
    if (key(name) !== '' && !wanted.some((w) => key(w) === key(name))) wanted.push(name);
  }
  const found = new Map<string, Bouquet>();
  const lookup = (list: Bouquet[]): void => {
    for (const b of list) if (!found.has(key(b.name))) found.set(key(b.name), b);
  };
  if (wanted.length > 0) lookup(await client.bouquets('tv'));
  if (wanted.some((w) => !found.has(key(w)))) lookup(await client.bouquets('radio'));

  const channels: BouquetChannel[] = [];
  const seen = new Set<string>();
  const missing: string[] = [];
  for (const name of wanted) {
    const bouquet = found.get(key(name));
    if (!bouquet) {
      missing.push(name);
      continue;
    }
    for (const channel of await client.channels(bouquet.ref)) {
      if (seen.has(channel.ref.ref)) continue;
      seen.add(channel.ref.ref);
      channels.push({ ...channel, bouquet: bouquet.name });
    }
  }
  return { channels, missing };
}

/**
 * A channel by service reference (the same service in another bouquet matches too), by short id
 * (`283d_3fb_1_c00000`), or by name (case and extra spaces ignored). Undefined when none matches.
 */
export function findChannel(channels: readonly Channel[], nameOrRef: string): Channel | undefined {
  const text = nameOrRef.trim();
  if (text === '') return undefined;
  const ref = tryParseServiceRef(text);
  if (ref) {
    const exact = channels.find((c) => c.ref.ref === ref.ref);
    if (exact) return exact;
    const id = channelId(ref);
    const same = channels.find((c) => channelId(c.ref) === id);
    if (same) return same;
  }
  const lowerId = text.toLowerCase();
  const byId = channels.find((c) => channelId(c.ref) === lowerId);
  if (byId) return byId;
  const wantedName = key(text);
  return channels.find((c) => key(c.name) === wantedName);
}
