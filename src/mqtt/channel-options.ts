/**
 * The configured bouquets' channels as the options of Home Assistant's channel select. Options must
 * be unique, but bouquets repeat names (an SD and an HD "Das Erste", the same name in two bouquets),
 * so duplicates get their bouquet, then their short id, appended. Home Assistant reads a select
 * state of "None" (any case) as "unknown" and never as an option, so a channel named that way is
 * offered as "None (channel)". Maps options back to channels for `channel/set`, which also takes
 * anything ChannelList.find understands (ref, short id, name).
 */
import { Channel, ChannelList } from '../receiver/channels';

const fold = (name: string): string => name.trim().replace(/\s+/g, ' ').toLowerCase();

/** The select state Home Assistant takes for "unknown" (compared lower-cased). */
const UNKNOWN_STATE = 'none';

export class ChannelOptions {
  /** Select options, in bouquet order, unique. */
  readonly options: string[] = [];
  private readonly byOption = new Map<string, Channel>();
  private readonly optionByRef = new Map<string, string>();

  constructor(readonly list: ChannelList) {
    const channels = list.all;
    const counts = new Map<string, number>();
    for (const c of channels) counts.set(fold(c.name), (counts.get(fold(c.name)) ?? 0) + 1);
    const bouquetCounts = new Map<string, number>();
    for (const c of channels) {
      const key = `${fold(c.name)}\u0000${fold(c.bouquet)}`;
      bouquetCounts.set(key, (bouquetCounts.get(key) ?? 0) + 1);
    }
    const taken = new Set<string>();
    for (const c of channels) {
      const name = c.name.trim() || c.id;
      let option = name;
      if ((counts.get(fold(c.name)) ?? 0) > 1) {
        const unique = bouquetCounts.get(`${fold(c.name)}\u0000${fold(c.bouquet)}`) === 1;
        option = unique && c.bouquet ? `${name} (${c.bouquet})` : `${name} (${c.id})`;
      }
      if (fold(option) === UNKNOWN_STATE) option = `${name} (channel)`;
      // A channel literally named like another's disambiguated option still needs its own.
      if (taken.has(fold(option))) option = `${name} (${c.id})`;
      for (let n = 2; taken.has(fold(option)); n++) option = `${name} (${c.id} ${n})`;
      taken.add(fold(option));
      this.options.push(option);
      this.byOption.set(option, c);
      if (!this.optionByRef.has(c.ref.ref)) this.optionByRef.set(c.ref.ref, option);
    }
  }

  /** How the tuned channel shows: its option when it is a listed channel, else the box's name. */
  label(ref: string, boxName: string): { name: string; listed: boolean } {
    const option = this.optionByRef.get(ref) ?? this.optionByRef.get(this.find(ref)?.ref.ref ?? '');
    return option !== undefined ? { name: option, listed: true } : { name: boxName, listed: false };
  }

  /** A listed channel by select option, service reference, short id or name; undefined if none. */
  find(text: string): Channel | undefined {
    return this.byOption.get(text) ?? this.byOption.get(text.trim()) ?? this.list.find(text);
  }
}
