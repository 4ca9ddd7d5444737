/**
 * The XMLTV document (`/xmltv.xml`) built from the receivers' guides: a pure function of its
 * inputs. One `<channel>` per channel that has programmes (its id is the playlist's tvg-id, so
 * players match the two; a channel without programmes gives a player nothing and makes XMLTV's
 * validator complain), with its name and picon, then its `<programme>`s in time order. Every text
 * is escaped for XML and stripped of the characters XML 1.0 forbids, so no name or title from the
 * box can break the document or add elements to it.
 */
import type { GuideChannel, GuideProgramme } from '../receiver/guide';
import { xmltvId } from '../receiver/channels';
import { encodeServiceRef } from '../receiver/service-ref';

export interface XmltvOptions {
  /** Base of the picon URLs (`http://host:port`, no trailing slash). */
  baseUrl: string;
  /** Appended to every URL (the access token: `?token=…`), '' for none. */
  query: string;
  /** Programmes that ended by this time (ms) are left out; 0 keeps all. */
  since?: number;
}

/**
 * Characters XML 1.0 forbids (C0 controls but tab, newline and return; lone surrogates; U+FFFE/F),
 * and those it discourages and XMLTV's validator rejects (DEL and the C1 controls).
 */
const NOT_XML = /[^\t\n\r\u0020-\u007e\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text or an attribute value, safe anywhere in the document. */
export function xmlEscape(text: string): string {
  return text.replace(NOT_XML, '').replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** One line of text (names, titles): line breaks and runs of spaces become one space. */
function line(text: string): string {
  return xmlEscape(text.replace(/\s+/g, ' ').trim());
}

/** Paragraphs (descriptions): Windows and old Mac line ends become `\n`. */
function paragraphs(text: string): string {
  return xmlEscape(text.replace(/\r\n?/g, '\n').trim());
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** XMLTV's time format in UTC: `20240131193000 +0000`. */
export function xmltvTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())} +0000`;
}

export function buildXmltv(channels: readonly GuideChannel[], options: XmltvOptions): string {
  const since = options.since ?? 0;
  const shown: Array<{ channel: GuideChannel; programmes: GuideProgramme[] }> = [];
  const ids = new Set<string>();
  for (const channel of channels) {
    // One element per id (the same service on two receivers is one channel to a player).
    if (ids.has(channel.id)) continue;
    const programmes = channel.programmes.filter((p) => p.end > since && line(p.title) !== '');
    if (programmes.length === 0) continue;
    ids.add(channel.id);
    shown.push({ channel, programmes });
  }

  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<!DOCTYPE tv SYSTEM "xmltv.dtd">', '<tv generator-info-name="xg2g">'];
  for (const { channel } of shown) {
    const icon = `${options.baseUrl}/picon/${encodeServiceRef(channel.ref)}.png${options.query}`;
    out.push(
      `  <channel id="${xmlEscape(xmltvId(channel))}">`,
      `    <display-name>${line(channel.name) || xmlEscape(xmltvId(channel))}</display-name>`,
      `    <icon src="${xmlEscape(icon)}"/>`,
      '  </channel>',
    );
  }
  for (const { channel, programmes } of shown) {
    const id = xmlEscape(xmltvId(channel));
    for (const p of programmes) {
      out.push(`  <programme start="${xmltvTime(p.begin)}" stop="${xmltvTime(p.end)}" channel="${id}">`, `    <title>${line(p.title)}</title>`);
      // XMLTV wants no element rather than an empty one.
      const desc = paragraphs(p.description);
      if (desc !== '') out.push(`    <desc>${desc}</desc>`);
      const category = line(p.genre);
      if (category !== '') out.push(`    <category>${category}</category>`);
      out.push('  </programme>');
    }
  }
  out.push('</tv>', '');
  return out.join('\n');
}
