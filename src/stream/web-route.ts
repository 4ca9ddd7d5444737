/**
 * The web page's routes, dispatched from routes.ts (which has already checked the access token):
 *   GET /               the page (channels, player, active streams), under a strict CSP
 *   GET /api/channels   receivers → bouquets → channels with URLs and what is on now, as JSON
 *   GET /assets/<file>  the page's script and stylesheet, and hls.js
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { WEB_CHANNELS_REFRESH_MS, WEB_STATUS_POLL_MS } from '../settings';
import { baseUrl } from './base-url';
import { json, text } from './http-reply';
import type { ProxyContext } from './proxy-types';
import { asset, hlsVersion } from './web/assets';
import { buildChannels } from './web/channels-api';
import { PAGE_CSP, pageHtml } from './web/page';

export function servePage(context: ProxyContext, request: IncomingMessage, response: ServerResponse, tokenQuery: string): void {
  const body = Buffer.from(pageHtml({
    version: context.version,
    tokenQuery,
    hlsVersion: hlsVersion(),
    statusPollMs: WEB_STATUS_POLL_MS,
    channelsRefreshMs: WEB_CHANNELS_REFRESH_MS,
  }));
  response.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': body.length,
    'Content-Security-Policy': PAGE_CSP,
    'X-Content-Type-Options': 'nosniff',
    // The page's URL may hold the token: no other site gets to see it.
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

export function serveChannels(context: ProxyContext, request: IncomingMessage, response: ServerResponse, tokenQuery: string): void {
  json(response, 200, buildChannels(context, baseUrl(context, request), tokenQuery));
}

/** /assets/<file>: only the known files, by exact name. */
export async function serveAsset(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
  const pending = asset(path.slice('/assets/'.length));
  if (!pending) return text(response, 404, 'no such asset');
  let found;
  try {
    found = await pending;
  } catch {
    return text(response, 500, 'hls.js is missing from the installation: reinstall homebridge-xg2g');
  }
  const headers = {
    'Cache-Control': found.cacheControl,
    ETag: found.etag,
    'X-Content-Type-Options': 'nosniff',
  };
  if (request.headers['if-none-match'] === found.etag) {
    response.writeHead(304, headers);
    return void response.end();
  }
  response.writeHead(200, { ...headers, 'Content-Type': found.contentType, 'Content-Length': found.body.length });
  response.end(request.method === 'HEAD' ? undefined : found.body);
}
