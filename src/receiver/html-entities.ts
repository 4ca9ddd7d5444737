/**
 * Decodes the HTML entities OpenWebIF puts into EPG strings of its `/api` answers (`&amp;`,
 * `&#39;`…). One left-to-right pass, so `&amp;lt;` becomes the text `&lt;`, not `<`. Unknown or
 * malformed entities stay as they are: a title is better shown raw than mangled.
 */

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|([A-Za-z]+));/g;

function fromCodePoint(cp: number, raw: string): string {
  // NUL, surrogates and values past Unicode are not characters; keep the text as written.
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return raw;
  return String.fromCodePoint(cp);
}

export function decodeHtmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (raw, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (dec !== undefined) return fromCodePoint(parseInt(dec, 10), raw);
    if (hex !== undefined) return fromCodePoint(parseInt(hex, 16), raw);
    const named = NAMED[(name ?? '').toLowerCase()];
    return named ?? raw;
  });
}
