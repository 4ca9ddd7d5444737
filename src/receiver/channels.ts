/**
 * The one channel model every part uses (playlist, guide, picons, HDHomeRun, HomeKit, MQTT, the
 * proxy's routes), how it is loaded from the configured bouquets, and the one lookup by reference,
 * short id or name.
 */
import { channelId, isIptv, ServiceRef, tryParseServiceRef } from './service-ref';
import type { Bouquet, BouquetService } from './types';

export type ChannelKind = 'tv' | 'radio';

/** A channel of the configured bouquets. */
export interface Channel {
  ref: ServiceRef;
  /** The name as the box sends it (may hold quotes, commas, `&`: escape where it goes). */
  name: string;
  /** Name of the configured bouquet it was first found in (playlist groups, lineup). */
  bouquet: string;
  /** Channel number: 1-based place in the configured bouquets, in config order (`tvg-chno`, GuideNumber). */
  number: number;
  /** From the bouquet it was found in: radio bouquets hold audio-only services. */
  kind: ChannelKind;
  /** Short stable id (`channelId`): playlist `tvg-id`, XMLTV channel id, MQTT and HomeKit ids. */
  id: string;
}

/**
 * The channel's id in the guide and the playlist (XMLTV `channel id`, M3U `tvg-id`): the short id
 * in the dotted form XMLTV tools require (`283d-3fb-1-c00000.xg2g`; `tv_validate_file` refuses
 * ids without a dot or with underscores).
 */
export function xmltvId(channel: Pick<Channel, 'id'>): string {
  return `${channel.id.replace(/_/g, '-')}.xg2g`;
}

/** The part of the client this needs, so callers (and tests) can pass anything that lists bouquets. */
export interface ChannelSource {
  bouquets(kind?: ChannelKind): Promise<Bouquet[]>;
  channels(bouquetRef: string): Promise<BouquetService[]>;
}

export interface LoadedChannels {
  channels: ChannelList;
  /** Configured names that match no bouquet on the box. */
  missing: string[];
}

function key(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** The reference up to its path: an IPTV channel without the display name at its end. */
function withoutName(ref: ServiceRef): string {
  return `${ref.ref.split(':').slice(0, 10).join(':')}:${ref.path}`;
}

/** An ordered, de-duplicated channel list with the lookups every part needs. */
export class ChannelList {
  static readonly EMPTY = new ChannelList([]);
  private readonly byRefText = new Map<string, Channel>();
  private readonly byId = new Map<string, Channel>();

  constructor(readonly all: readonly Channel[]) {
    for (const c of all) {
      if (!this.byRefText.has(c.ref.ref)) this.byRefText.set(c.ref.ref, c);
      if (!this.byId.has(c.id)) this.byId.set(c.id, c);
    }
  }

  get size(): number {
    return this.all.length;
  }

  /**
   * The listed channel spelled exactly like `ref` (an IPTV ref may come without its display name).
   * The proxy streams only these: what it sends the box is the box's own spelling.
   */
  exact(ref: ServiceRef): Channel | undefined {
    const found = this.byRefText.get(ref.ref);
    if (found || !isIptv(ref)) return found;
    return this.all.find((c) => isIptv(c.ref) && withoutName(c.ref) === withoutName(ref));
  }

  /**
   * The listed channel for a reference: the same spelling, else the same service (the same channel
   * in another bouquet has another service type).
   */
  byRef(ref: ServiceRef): Channel | undefined {
    return this.exact(ref) ?? (isIptv(ref) ? undefined : this.byId.get(channelId(ref)));
  }

  /**
   * A channel by service reference, by short id (`283d_3fb_1_c00000`), or by name (case and extra
   * spaces ignored). Undefined when none matches.
   */
  find(nameOrRef: string): Channel | undefined {
    const text = nameOrRef.trim();
    if (text === '') return undefined;
    const ref = tryParseServiceRef(text);
    if (ref) {
      const found = this.byRef(ref);
      if (found) return found;
    }
    const byId = this.byId.get(text.toLowerCase());
    if (byId) return byId;
    const wantedName = key(text);
    return this.all.find((c) => key(c.name) === wantedName);
  }
}

/**
 * Resolves the bouquet names a user configured into one channel list: looks the names up among
 * the TV bouquets, then (only if some are still unknown) the radio bouquets, and loads each found
 * bouquet once, in config order; a ref seen twice keeps its first place. Requests go one after
 * another like every request to the box.
 */
export async function loadChannels(client: ChannelSource, bouquetNames: string[]): Promise<LoadedChannels> {
  const wanted: string[] = [];
  for (const name of bouquetNames) {
    if (key(name) !== '' && !wanted.some((w) => key(w) === key(name))) wanted.push(name);
  }
  const found = new Map<string, { bouquet: Bouquet; kind: ChannelKind }>();
  const lookup = (list: Bouquet[], kind: ChannelKind): void => {
    for (const bouquet of list) if (!found.has(key(bouquet.name))) found.set(key(bouquet.name), { bouquet, kind });
  };
  if (wanted.length > 0) lookup(await client.bouquets('tv'), 'tv');
  if (wanted.some((w) => !found.has(key(w)))) lookup(await client.bouquets('radio'), 'radio');

  const channels: Channel[] = [];
  const seen = new Set<string>();
  const missing: string[] = [];
  for (const name of wanted) {
    const entry = found.get(key(name));
    if (!entry) {
      missing.push(name);
      continue;
    }
    for (const service of await client.channels(entry.bouquet.ref)) {
      if (seen.has(service.ref.ref)) continue;
      seen.add(service.ref.ref);
      channels.push({
        ref: service.ref,
        name: service.name,
        bouquet: entry.bouquet.name,
        number: channels.length + 1,
        kind: entry.kind,
        id: channelId(service.ref),
      });
    }
  }
  return { channels: new ChannelList(channels), missing };
}
