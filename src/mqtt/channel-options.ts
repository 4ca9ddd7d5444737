/**
 * The configured bouquets' channels as the options of Home Assistant's channel select. Options must
 * be unique, but bouquets repeat names (an SD and an HD "Das Erste", the same name in two bouquets),
 * so duplicates get their bouquet, then their short id, appended. Maps options back to channels for
 * `channel/set`, which also takes anything findChannel understands (ref, short id, name).
 */
import { findChannel } from '../receiver/channels';
import { channelId } from '../receiver/service-ref';
import { Channel } from '../receiver/types';
import { ProxyChannel } from '../stream/proxy-types';

const fold = (name: string): string => name.trim().replace(/\s+/g, ' ').toLowerCase();

export class ChannelOptions {
  /** Select options, in bouquet order, unique. */
  readonly options: string[] = [];
  private readonly byOption = new Map<string, ProxyChannel>();
  private readonly optionByRef = new Map<string, string>();
  private readonly lookup: Channel[];

  constructor(readonly channels: readonly ProxyChannel[]) {
    const counts = new Map<string, number>();
    for (const c of channels) counts.set(fold(c.name), (counts.get(fold(c.name)) ?? 0) + 1);
    const bouquetCounts = new Map<string, number>();
    for (const c of channels) {
      const key = `${fold(c.name)}\u0000${fold(c.bouquet)}`;
      bouquetCounts.set(key, (bouquetCounts.get(key) ?? 0) + 1);
    }
    const taken = new Set<string>();
    for (const c of channels) {
      const name = c.name.trim() || channelId(c.ref);
      let option = name;
      if ((counts.get(fold(c.name)) ?? 0) > 1) {
        const unique = bouquetCounts.get(`${fold(c.name)}\u0000${fold(c.bouquet)}`) === 1;
        option = unique && c.bouquet ? `${name} (${c.bouquet})` : `${name} (${channelId(c.ref)})`;
      }
      // A channel literally named like another's disambiguated option still needs its own.
      if (taken.has(fold(option))) option = `${name} (${channelId(c.ref)})`;
      for (let n = 2; taken.has(fold(option)); n++) option = `${name} (${channelId(c.ref)} ${n})`;
      taken.add(fold(option));
      this.options.push(option);
      this.byOption.set(option, c);
      if (!this.optionByRef.has(c.ref.ref)) this.optionByRef.set(c.ref.ref, option);
    }
    this.lookup = channels.map((c, i) => ({ ref: c.ref, name: c.name, program: c.ref.sid, position: i + 1 }));
  }

  /** How the tuned channel shows: its option when it is a listed channel, else the box's name. */
  label(ref: string, boxName: string): { name: string; listed: boolean } {
    const option = this.optionByRef.get(ref) ?? this.optionByRef.get(this.find(ref)?.ref.ref ?? '');
    return option !== undefined ? { name: option, listed: true } : { name: boxName, listed: false };
  }

  /** A listed channel by select option, service reference, short id or name; undefined if none. */
  find(text: string): ProxyChannel | undefined {
    const exact = this.byOption.get(text) ?? this.byOption.get(text.trim());
    if (exact) return exact;
    const found = findChannel(this.lookup, text);
    return found ? this.channels[found.position - 1] : undefined;
  }
}
