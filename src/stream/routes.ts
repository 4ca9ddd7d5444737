/**
 * The proxy's HTTP routes, one handler served on both the proxy and the API listener:
 *   GET|HEAD /<service ref>   the channel as MPEG-TS (AAC audio where needed)
 *   GET /hls/<ref>/index.m3u8  the channel as HLS, for Apple devices
 *   GET /playlist.m3u          every channel, for VLC and IPTV apps
 *   GET /api/status            sessions and receivers as JSON
 *   GET /metrics               Prometheus text format
 *   GET /healthz               liveness
 *   GET /                      a short index page
 * Anything that is not a valid, playable service reference is answered 400 before any upstream
 * request is made. The handler never throws.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Logger } from '../logger';
import { isPlayable, parseServiceRef, ServiceRef, ServiceRefError, tryParseServiceRef } from '../receiver/service-ref';
import { REQUEST_PATH_MAX_LENGTH } from '../settings';
import { httpSink } from './client-sink';
import { isHlsFile } from './hls';
import type { ProxyMetrics } from './metrics';
import { buildPlaylist } from './playlist';
import { ProxyContext, ProxyReceiver } from './proxy-types';
import { buildStatus } from './status';
import { html, json, text } from './http-reply';

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

export function createRouter(context: ProxyContext, metrics: ProxyMetrics, log: Logger): RequestHandler {
  return (request, response) => {
    handle(context, metrics, request, response).catch((error: unknown) => {
      log.error(`The proxy failed to answer ${request.method} ${safePath(request.url)}: ${(error as Error).message}`);
      if (!response.headersSent) text(response, 500, 'internal error');
      else response.destroy();
    });
  };
}

async function handle(context: ProxyContext, metrics: ProxyMetrics, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const rawUrl = request.url ?? '/';
  if (rawUrl.length > REQUEST_PATH_MAX_LENGTH) return text(response, 400, 'request path too long');
  const queryAt = rawUrl.indexOf('?');
  const path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? '' : rawUrl.slice(queryAt + 1));

  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return text(response, 405, 'only GET and HEAD are supported');
  }
  if (path === '/healthz') return json(response, 200, { status: 'ok' });
  if (context.token && !hasToken(request, query, context.token)) {
    response.setHeader('WWW-Authenticate', 'Bearer realm="xg2g"');
    return text(response, 401, 'an access token is required: add ?token=… or an Authorization: Bearer header');
  }
  // Players follow the links they are given and drop the query they came with: every URL in an
  // answer to a tokened request carries the token (there are no others once a token is set).
  const tokenQuery = context.token ? `?token=${encodeURIComponent(context.token)}` : '';

  switch (path) {
    case '/':
      return html(response, indexPage(context, tokenQuery));
    case '/api/status':
      return json(response, 200, buildStatus(context));
    case '/metrics': {
      const { body, contentType } = await metrics.render();
      response.writeHead(200, { 'Content-Type': contentType });
      return void response.end(body);
    }
    case '/playlist.m3u': {
      const channels = context.receivers.flatMap((r) => r.channels().all);
      const body = buildPlaylist(baseUrl(context, request), channels, tokenQuery);
      response.writeHead(200, { 'Content-Type': 'audio/x-mpegurl; charset=utf-8', 'Content-Disposition': 'inline; filename="xg2g.m3u"' });
      return void response.end(request.method === 'HEAD' ? undefined : body);
    }
    default:
      if (path.startsWith('/hls/')) return hls(context, request, response, path, tokenQuery);
      return stream(context, request, response, path);
  }
}

/** /hls/<ref>/<file>: the ref is everything between the prefix and the last slash. */
async function hls(context: ProxyContext, request: IncomingMessage, response: ServerResponse, path: string, tokenQuery: string): Promise<void> {
  const slash = path.lastIndexOf('/');
  const file = path.slice(slash + 1);
  if (!isHlsFile(file)) return text(response, 404, 'no such HLS file: use /hls/<service reference>/index.m3u8');
  const target = channelTarget(context, response, path.slice('/hls/'.length, slash));
  if (!target) return;
  await target.receiver.hls.serve(target.ref, file, request.method === 'HEAD', response, tokenQuery);
}

/** The playable service reference in a (percent-encoded) path part; answers 400 itself when there is none. */
function channelRef(response: ServerResponse, encoded: string): ServiceRef | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch {
    text(response, 400, 'the path is not valid percent-encoding');
    return undefined;
  }
  let ref: ServiceRef;
  try {
    ref = parseServiceRef(decoded);
  } catch (error) {
    text(response, 400, `not a channel: ${error instanceof ServiceRefError ? error.message : 'invalid'}`);
    return undefined;
  }
  if (!isPlayable(ref)) {
    text(response, 400, 'not a channel: markers, hidden entries and bouquets cannot be streamed');
    return undefined;
  }
  return ref;
}

function stream(context: ProxyContext, request: IncomingMessage, response: ServerResponse, path: string): void {
  const target = channelTarget(context, response, path.slice(1));
  if (!target) return;
  const { receiver, ref } = target;
  if (request.method === 'HEAD') {
    response.writeHead(200, { 'Content-Type': 'video/mp2t', 'Cache-Control': 'no-cache, no-store' });
    return void response.end();
  }
  const peer = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
  const result = receiver.sessions.join(ref, httpSink(response), peer);
  if (result instanceof Error) {
    response.setHeader('Retry-After', '10');
    return text(response, result.httpStatus, result.message);
  }
}

/**
 * The receiver and reference to stream for a request path; answers 400/503 itself when there is
 * none. A broadcast reference goes to the receiver whose bouquets hold it, else receiver one. A
 * reference with a URL or name part (IPTV) makes the box fetch that URL, so it is only streamed as
 * a channel of the configured bouquets, spelled exactly as the box stores it.
 */
function channelTarget(context: ProxyContext, response: ServerResponse, encoded: string): { receiver: ProxyReceiver; ref: ServiceRef } | undefined {
  const ref = channelRef(response, encoded);
  if (!ref) return undefined;
  // An IPTV ref may also arrive as the box writes it, its `%3a` not encoded again.
  const raw = tryParseServiceRef(encoded);
  for (const candidate of raw && raw.path !== '' ? [ref, raw] : [ref]) {
    for (const receiver of context.receivers) {
      const channel = receiver.channels().byRef(candidate);
      if (channel) return { receiver, ref: channel.ref };
    }
  }
  if (ref.path !== '' || ref.name !== '') {
    text(response, 400, 'not a channel of the configured bouquets: references with a URL or a name are only streamed when they are');
    return undefined;
  }
  const receiver = context.receivers[0];
  if (!receiver) {
    text(response, 503, 'no receiver is configured');
    return undefined;
  }
  return { receiver, ref };
}

function hasToken(request: IncomingMessage, query: URLSearchParams, token: string): boolean {
  const header = request.headers.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice(7) : (query.get('token') ?? '');
  // Digests have one length whatever was sent, so the comparison's time tells nothing, not even the length.
  return timingSafeEqual(digest(given), digest(token));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The configured public URL, else the address the client used (when it is a plain host[:port]). */
function baseUrl(context: ProxyContext, request: IncomingMessage): string {
  if (context.publicUrl) return context.publicUrl.replace(/\/+$/, '');
  const host = request.headers.host ?? '';
  if (/^[A-Za-z0-9.-]+(:\d+)?$/.test(host) || /^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(host)) return `http://${host}`;
  const local = request.socket.localAddress ?? '127.0.0.1';
  return `http://${local.includes(':') ? `[${local}]` : local}:${request.socket.localPort}`;
}

function indexPage(context: ProxyContext, query: string): string {
  const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const items = context.receivers
    .flatMap((r) => r.channels().all)
    .map((c) => `<li><a href="/${encodeURIComponent(c.ref.ref)}${escape(query)}">${escape(c.name)}</a> · <a href="/hls/${encodeURIComponent(c.ref.ref)}/index.m3u8${escape(query)}">HLS</a></li>`)
    .join('\n');
  return `<!doctype html><meta charset="utf-8"><title>xg2g</title>
<h1>xg2g ${escape(context.version)}</h1>
<p><a href="/playlist.m3u${escape(query)}">playlist.m3u</a> (open in VLC) · <a href="/api/status${escape(query)}">status</a> · <a href="/metrics${escape(query)}">metrics</a></p>
<ul>
${items}
</ul>
`;
}

/** A request path for a log line: bounded, and without the query (it may carry the token). */
function safePath(url: string | undefined): string {
  return (url ?? '').split('?')[0].slice(0, 200);
}
