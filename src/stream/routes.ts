/**
 * The proxy's HTTP routes, one handler served on both the proxy and the API listener:
 *   GET|HEAD /<service ref>   the channel as MPEG-TS (AAC audio where needed)
 *   GET /hls/<ref>/index.m3u8  the channel as HLS, for Apple devices (which /<ref> redirects there)
 *   GET /playlist.m3u          every channel, for VLC and IPTV apps
 *   GET /xmltv.xml[.gz]        the programme guide (guide-route.ts)
 *   GET /picon/<ref>.png       the channel's logo (picon-route.ts)
 *   GET /discover.json, /lineup.json, /lineup_status.json, /device.xml, POST /lineup.post
 *                              HDHomeRun emulation when hdhr.enabled (hdhr-route.ts)
 *   GET /api/status            sessions and receivers as JSON
 *   GET /metrics               Prometheus text format
 *   GET /healthz               liveness
 *   GET /                      the web page: channels, player, active streams (web-route.ts)
 *   GET /api/channels          channels by bouquet with URLs and what is on now (web-route.ts)
 *   GET /assets/<file>         the web page's script, stylesheet and hls.js (web-route.ts)
 * Anything that is not a valid, playable service reference is answered 400 before any upstream
 * request is made. The handler never throws.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Logger } from '../logger';
import type { ServiceRef } from '../receiver/service-ref';
import { REQUEST_PATH_MAX_LENGTH } from '../settings';
import { hlsLocation, redirectsToHls } from './apple';
import { httpSink } from './client-sink';
import { isHlsFile } from './hls';
import type { ProxyMetrics } from './metrics';
import { servePicon } from './picon-route';
import { GUIDE_PATHS, serveGuide } from './guide-route';
import { HDHR_POST_PATH, isHdhrPath, serveHdhr } from './hdhr-route';
import { listedChannels } from './listed-channels';
import { pathRefs } from './path-ref';
import { buildPlaylist } from './playlist';
import { ProxyContext, ProxyReceiver } from './proxy-types';
import { buildStatus } from './status';
import { serveAsset, serveChannels, servePage } from './web-route';
import { baseUrl } from './base-url';
import { json, text } from './http-reply';

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

  if (request.method !== 'GET' && request.method !== 'HEAD' && !(request.method === 'POST' && path === HDHR_POST_PATH)) {
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
      return servePage(context, request, response, tokenQuery);
    case '/api/channels':
      return serveChannels(context, request, response, tokenQuery);
    case '/api/status':
      return json(response, 200, buildStatus(context));
    case '/metrics': {
      const { body, contentType } = await metrics.render();
      response.writeHead(200, { 'Content-Type': contentType });
      return void response.end(body);
    }
    case '/playlist.m3u': {
      const body = buildPlaylist(baseUrl(context, request), listedChannels(context.receivers), tokenQuery, { guide: context.guide !== undefined });
      response.writeHead(200, { 'Content-Type': 'audio/x-mpegurl; charset=utf-8', 'Content-Disposition': 'inline; filename="xg2g.m3u"' });
      return void response.end(request.method === 'HEAD' ? undefined : body);
    }
    default:
      if (path.startsWith('/assets/')) return serveAsset(request, response, path);
      if (path.startsWith('/picon/')) return servePicon(context, request, response, path);
      if (GUIDE_PATHS.includes(path)) return serveGuide(context, request, response, path, tokenQuery);
      if (isHdhrPath(path)) return serveHdhr(context, request, response, path, query, tokenQuery);
      if (path.startsWith('/hls/')) return hls(context, request, response, path, tokenQuery);
      return stream(context, request, response, path, query, tokenQuery);
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

function stream(context: ProxyContext, request: IncomingMessage, response: ServerResponse, path: string, query: URLSearchParams, tokenQuery: string): void {
  const target = channelTarget(context, response, path.slice(1));
  if (!target) return;
  const { receiver, ref } = target;
  // Apple players cannot play a TS stream: they get the channel's HLS (apple.ts; ?direct=1 opts out).
  if (request.method === 'GET' && receiver.hls.appleRedirect && redirectsToHls(request.headers['user-agent'], query)) {
    response.writeHead(302, { Location: hlsLocation(ref.ref, tokenQuery), 'Cache-Control': 'no-store', 'Content-Length': 0 });
    return void response.end();
  }
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
  const refs = pathRefs(response, encoded, 'cannot be streamed');
  if (!refs) return undefined;
  const [ref] = refs;
  for (const candidate of refs) {
    for (const receiver of context.receivers) {
      const channel = receiver.channels().exact(candidate);
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

/** A request path for a log line: bounded, and without the query (it may carry the token). */
function safePath(url: string | undefined): string {
  return (url ?? '').split('?')[0].slice(0, 200);
}
