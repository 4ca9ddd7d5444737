/**
 * The base URL put into playlists, guides, lineups and pages: the configured public URL, else the
 * address the client used (when its Host header is a plain host[:port]), else the socket's own.
 */
import { IncomingMessage } from 'node:http';
import { ProxyContext } from './proxy-types';

export function baseUrl(context: Pick<ProxyContext, 'publicUrl'>, request: IncomingMessage): string {
  if (context.publicUrl) return context.publicUrl.replace(/\/+$/, '');
  const host = request.headers.host ?? '';
  if (/^[A-Za-z0-9.-]+(:\d+)?$/.test(host) || /^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(host)) return `http://${host}`;
  const local = request.socket.localAddress ?? '127.0.0.1';
  return `http://${local.includes(':') ? `[${local}]` : local}:${request.socket.localPort}`;
}

