/**
 * `GET|HEAD /xmltv.xml` (gzip-compressed when the request's Accept-Encoding allows it) and
 * `/xmltv.xml.gz` (always a gzip file): the programme guide for players, from the guide's memory.
 * 404 with the setting to change when the guide is off; 503 with Retry-After until the first
 * guide arrived. The router has checked the token already; `tokenQuery` goes into the document's URLs.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { GUIDE_RETRY_AFTER_S } from '../settings';
import { baseUrl } from './base-url';
import { text } from './http-reply';
import { ProxyContext } from './proxy-types';

const gzipAsync = promisify(gzip);

export const GUIDE_PATHS: readonly string[] = ['/xmltv.xml', '/xmltv.xml.gz'];

/** The last compressed document: players poll the same guide, and compressing megabytes takes a while. */
let compressed: { xml: string; gz: Buffer } | undefined;

export async function serveGuide(context: ProxyContext, request: IncomingMessage, response: ServerResponse, path: string, tokenQuery: string): Promise<void> {
  const { guide } = context;
  if (!guide) return text(response, 404, 'The programme guide is off: set "epg.enabled" to true (XG2G_EPG_ENABLED=true) and restart to serve /xmltv.xml.');
  const xml = guide.xmltv(baseUrl(context, request), tokenQuery);
  if (xml === undefined) {
    response.setHeader('Retry-After', String(GUIDE_RETRY_AFTER_S));
    return text(response, 503, `The programme guide is being fetched from the receiver for the first time; try again in ${GUIDE_RETRY_AFTER_S} seconds.`);
  }
  const file = path.endsWith('.gz');
  const zipped = file || acceptsGzip(request.headers['accept-encoding']);
  const body = zipped ? await gzipped(xml) : Buffer.from(xml, 'utf8');
  const headers: Record<string, string | number> = {
    // The .gz URL is a gzip file (players unpack it themselves); /xmltv.xml is XML, compressed in transit.
    'Content-Type': file ? 'application/gzip' : 'application/xml; charset=utf-8',
    'Content-Length': body.length,
    'Content-Disposition': `inline; filename="${file ? 'xmltv.xml.gz' : 'xmltv.xml'}"`,
    'Cache-Control': 'no-cache',
  };
  if (!file) headers.Vary = 'Accept-Encoding';
  if (zipped && !file) headers['Content-Encoding'] = 'gzip';
  response.writeHead(200, headers);
  response.end(request.method === 'HEAD' ? undefined : body);
}

async function gzipped(xml: string): Promise<Buffer> {
  if (compressed?.xml === xml) return compressed.gz;
  const gz = await gzipAsync(Buffer.from(xml, 'utf8'));
  compressed = { xml, gz };
  return gz;
}

/** True when Accept-Encoding allows gzip: named (or `*` when it is not) with a q above 0. */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  const weights = new Map<string, number>();
  for (const part of value.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';').map((s) => s.trim());
    const q = params.find((p) => p.startsWith('q='));
    weights.set(coding, q === undefined ? 1 : Number(q.slice(2)) || 0);
  }
  const q = weights.get('gzip') ?? weights.get('x-gzip') ?? weights.get('*') ?? 0;
  return q > 0;
}
