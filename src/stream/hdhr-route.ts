/**
 * The HDHomeRun emulation's HTTP routes (answers from hdhr.ts), served by the proxy's router:
 *   GET /discover.json        the device: model, id, tuner count, lineup URL
 *   GET /lineup.json          the TV channels with their stream URLs
 *   GET /lineup_status.json   "no scan running, scanning possible"
 *   POST /lineup.post?scan=start|abort   accepted and ignored: the bouquets are the lineup
 *   GET /device.xml           the UPnP description SSDP points at
 *   GET /auto/v<number>       the channel with that GuideNumber, by redirect to its stream URL
 *                             (the URL real tuners use, which some clients build themselves)
 * 404 while `hdhr.enabled` is off; 503 until the first receiver has been reached (the device id
 * derives from it). Never throws.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { HDHR_NOT_READY_RETRY_S } from '../settings';
import { baseUrl } from './base-url';
import { buildLineup, deviceXml, discoverJson, HdhrContext, LineupEntry, lineupStatusJson } from './hdhr';
import { json, text } from './http-reply';
import { listedChannels } from './listed-channels';
import type { ProxyContext } from './proxy-types';

/** The one path of the proxy that takes POST (clients start a "channel scan" there). */
export const HDHR_POST_PATH = '/lineup.post';

const PATHS = new Set(['/discover.json', '/lineup.json', '/lineup_status.json', HDHR_POST_PATH, '/device.xml']);
const AUTO = /^\/auto\/v(\d{1,6})$/;

export function isHdhrPath(path: string): boolean {
  return PATHS.has(path) || AUTO.test(path);
}

export function serveHdhr(context: ProxyContext, request: IncomingMessage, response: ServerResponse, path: string, query: URLSearchParams, tokenQuery: string): void {
  const hdhr = context.hdhr;
  if (!hdhr) return text(response, 404, 'HDHomeRun tuner emulation is off: set hdhr.enabled (XG2G_HDHR_ENABLED) to turn it on');
  const post = path === HDHR_POST_PATH;
  if (post !== (request.method === 'POST')) {
    response.setHeader('Allow', post ? 'POST' : 'GET, HEAD');
    return text(response, 405, post ? 'lineup.post takes POST' : 'only GET and HEAD are supported');
  }
  const device = hdhr.device();
  if (!device) {
    response.setHeader('Retry-After', String(HDHR_NOT_READY_RETRY_S));
    return text(response, 503, 'the receiver has not answered yet: the tuner is there as soon as it does');
  }
  const base = baseUrl(context, request);
  switch (path) {
    case '/discover.json':
      return json(response, 200, discoverJson(device, base, tokenQuery));
    case '/lineup.json':
      return json(response, 200, lineup(context, hdhr, base, tokenQuery));
    case '/lineup_status.json':
      return json(response, 200, lineupStatusJson(device));
    case '/device.xml':
      return xml(response, deviceXml(device, base));
    case HDHR_POST_PATH:
      return scan(response, query);
    default:
      return auto(context, hdhr, response, path, base, tokenQuery);
  }
}

function lineup(context: ProxyContext, hdhr: HdhrContext, base: string, tokenQuery: string): LineupEntry[] {
  return buildLineup(listedChannels(context.receivers), base, tokenQuery, hdhr.aacAudio);
}

/** Plex posts `scan=start` (and `source=`) when the user asks for a scan, `scan=abort` to stop it. */
function scan(response: ServerResponse, query: URLSearchParams): void {
  const action = query.get('scan');
  if (action !== 'start' && action !== 'abort') return text(response, 400, 'scan must be start or abort');
  response.writeHead(200, { 'Content-Length': 0 });
  response.end();
}

function auto(context: ProxyContext, hdhr: HdhrContext, response: ServerResponse, path: string, base: string, tokenQuery: string): void {
  const number = AUTO.exec(path)?.[1];
  const entry = lineup(context, hdhr, base, tokenQuery).find((e) => e.GuideNumber === String(Number(number)));
  if (!entry) return text(response, 404, `no channel with number ${Number(number)} in the lineup`);
  response.writeHead(302, { Location: entry.URL, 'Cache-Control': 'no-store', 'Content-Length': 0 });
  response.end();
}

function xml(response: ServerResponse, body: string): void {
  response.writeHead(200, { 'Content-Type': 'application/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}
