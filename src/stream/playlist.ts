/**
 * The M3U playlist VLC, Kodi and IPTV apps open: every channel of every receiver, grouped by
 * bouquet, numbered, with its logo, each pointing at the proxy, and the guide's URL in the header.
 * `query` carries the access token when the playlist was asked for with one (a player opens the
 * entries without the playlist's own query).
 */
import { Channel, xmltvId } from '../receiver/channels';
import { encodeServiceRef } from '../receiver/service-ref';
import { streamPath } from './backend';

/** An entry is one line, and quotes would end an attribute value. */
const title = (value: string): string => value.replace(/[\r\n]+/g, ' ');
const attribute = (value: string): string => title(value).replace(/"/g, "'");

export interface PlaylistOptions {
  /** Put `x-tvg-url` (the XMLTV guide) in the header: only when the guide is served. */
  guide: boolean;
}

export function buildPlaylist(baseUrl: string, channels: readonly Channel[], query = '', options: PlaylistOptions = { guide: false }): string {
  const header = options.guide ? `#EXTM3U x-tvg-url="${baseUrl}/xmltv.xml${query}"` : '#EXTM3U';
  const lines = [header];
  for (const channel of channels) {
    const attributes = [
      `tvg-id="${xmltvId(channel)}"`,
      `tvg-chno="${channel.number}"`,
      `tvg-name="${attribute(channel.name)}"`,
      `tvg-logo="${baseUrl}/picon/${encodeServiceRef(channel.ref)}.png${query}"`,
      `group-title="${attribute(channel.bouquet)}"`,
      // Kodi's IPTV Simple client lists these under Radio.
      ...(channel.kind === 'radio' ? ['radio="true"'] : []),
    ];
    lines.push(`#EXTINF:-1 ${attributes.join(' ')},${title(channel.name)}`, `${baseUrl}${streamPath(channel.ref)}${query}`);
  }
  return lines.join('\n') + '\n';
}
