/**
 * GET|HEAD /picon/<service ref>.png: a configured channel's logo, as the playlist's `tvg-logo`
 * points at it (the ref percent-encoded). `picons.ts` finds and caches it; this only turns its
 * answer into HTTP: the PNG with a cache lifetime and an ETag (304 when the client has it), 404
 * with a sentence when there is none, 400 for what is not a channel reference.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PICON_FAILURE_TTL_MS, PICON_HTTP_MAX_AGE_S } from '../settings';
import { text } from './http-reply';
import { pathRefs } from './path-ref';
import type { PiconAnswer, ProxyContext } from './proxy-types';

const PREFIX = '/picon/';
const SUFFIX = '.png';

/** Answers a request whose path starts with `/picon/`. Never throws. */
export async function servePicon(context: ProxyContext, request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
  const encoded = path.slice(PREFIX.length);
  if (!encoded.endsWith(SUFFIX)) return text(response, 404, 'no such picon: ask for /picon/<service reference>.png');
  const refs = pathRefs(response, encoded.slice(0, -SUFFIX.length), 'have no logo');
  if (!refs) return;
  if (!context.picons) return text(response, 404, 'channel logos are not served here');

  let answer: PiconAnswer = { status: 'unknown' };
  // An IPTV ref may also arrive as the box writes it, its `%3a` not encoded again.
  for (const ref of refs) {
    answer = await context.picons.lookup(ref);
    if (answer.status !== 'unknown') break;
  }
  switch (answer.status) {
    case 'unknown':
      return text(response, 404, 'not a channel of the configured bouquets, so there is no logo for it');
    case 'none':
      return text(response, 404, 'the receiver has no picon for this channel');
    case 'failed':
      response.setHeader('Retry-After', String(Math.ceil(PICON_FAILURE_TTL_MS / 1000)));
      return text(response, 502, `the channel logo could not be fetched from the receiver: ${answer.reason}`);
    case 'found': {
      const { png, etag } = answer.picon;
      const headers = { ETag: etag, 'Cache-Control': `max-age=${PICON_HTTP_MAX_AGE_S}` };
      if (matches(request.headers['if-none-match'], etag)) {
        response.writeHead(304, headers);
        return void response.end();
      }
      response.writeHead(200, { ...headers, 'Content-Type': 'image/png', 'Content-Length': png.length });
      return void response.end(request.method === 'HEAD' ? undefined : png);
    }
  }
}

/** If-None-Match holds this ETag (weak or strong, or `*`). */
function matches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const tags = (Array.isArray(header) ? header.join(',') : header).split(',').map((t) => t.trim().replace(/^W\//, ''));
  return tags.includes('*') || tags.includes(etag);
}
