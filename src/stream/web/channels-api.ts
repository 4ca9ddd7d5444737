/**
 * The JSON of /api/channels: every receiver's channels grouped by bouquet, in channel-number order,
 * each with the URLs a player or dashboard needs (logo, MPEG-TS stream, HLS) and what is on now.
 * URLs are absolute (the configured public URL, else the address the client used) and carry the
 * access token query when one is set, as in the playlist.
 */
import type { Channel, ChannelKind } from '../../receiver/channels';
import { encodeServiceRef } from '../../receiver/service-ref';
import { streamPath } from '../backend';
import { channelsByReceiver } from '../listed-channels';
import type { ProxyContext } from '../proxy-types';

export interface NowPlaying {
  title: string;
  /** ISO 8601. */
  begin: string;
  end: string;
}

export interface ChannelEntry {
  number: number;
  name: string;
  ref: string;
  id: string;
  kind: ChannelKind;
  logo: string;
  stream: string;
  hls: string;
  now: NowPlaying | null;
}

export interface BouquetEntry {
  name: string;
  channels: ChannelEntry[];
}

export interface ReceiverChannels {
  name: string;
  reachable: boolean;
  /** Why the channels may be missing; null when the receiver answers. */
  lastError: string | null;
  bouquets: BouquetEntry[];
}

export interface ChannelsDocument {
  receivers: ReceiverChannels[];
}

/** `base` without a trailing slash; `tokenQuery` is `?token=…` or ''. */
export function buildChannels(context: ProxyContext, base: string, tokenQuery: string): ChannelsDocument {
  return {
    receivers: channelsByReceiver(context.receivers).map((listed, i) => {
      const receiver = context.receivers[i];
      const summary = receiver.summary();
      return {
        name: receiver.name,
        reachable: summary.reachable,
        lastError: summary.lastError,
        bouquets: byBouquet(listed).map(([name, channels]) => ({
          name,
          channels: channels.map((channel) => entry(context, channel, base, tokenQuery)),
        })),
      };
    }),
  };
}

/** Channels come numbered bouquet after bouquet, so grouping keeps both orders. */
function byBouquet(channels: readonly Channel[]): Array<[string, Channel[]]> {
  const groups = new Map<string, Channel[]>();
  for (const channel of channels) {
    const group = groups.get(channel.bouquet);
    if (group) group.push(channel);
    else groups.set(channel.bouquet, [channel]);
  }
  return [...groups];
}

function entry(context: ProxyContext, channel: Channel, base: string, tokenQuery: string): ChannelEntry {
  const encoded = encodeServiceRef(channel.ref);
  return {
    number: channel.number,
    name: channel.name,
    ref: channel.ref.ref,
    id: channel.id,
    kind: channel.kind,
    logo: `${base}/picon/${encoded}.png${tokenQuery}`,
    stream: `${base}${streamPath(channel.ref)}${tokenQuery}`,
    hls: `${base}/hls/${encoded}/index.m3u8${tokenQuery}`,
    now: nowPlaying(context, channel),
  };
}

function nowPlaying(context: ProxyContext, channel: Channel): NowPlaying | null {
  const now = context.guide?.now(channel);
  return now ? { title: now.title, begin: now.begin.toISOString(), end: now.end.toISOString() } : null;
}
