/**
 * The M3U playlist VLC, Kodi and IPTV apps open: every channel of every receiver, grouped by
 * bouquet, each pointing at the proxy. `query` carries the access token when the playlist was asked
 * for with one (a player opens the entries without the playlist's own query).
 */
import { streamPath } from './backend';
import type { Channel } from '../receiver/channels';

/** Quotes are not allowed inside M3U attribute values; commas end the title. */
const attribute = (value: string): string => value.replace(/["\r\n]/g, "'");
const title = (value: string): string => value.replace(/[\r\n]/g, ' ');

export function buildPlaylist(baseUrl: string, channels: readonly Channel[], query = ''): string {
  const lines = ['#EXTM3U'];
  for (const channel of channels) {
    lines.push(
      `#EXTINF:-1 tvg-id="${channel.id}" tvg-name="${attribute(channel.name)}" group-title="${attribute(channel.bouquet)}",${title(channel.name)}`,
      `${baseUrl}${streamPath(channel.ref)}${query}`,
    );
  }
  return lines.join('\n') + '\n';
}
