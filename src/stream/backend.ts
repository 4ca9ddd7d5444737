/**
 * Where the proxy fetches a channel from: the receiver's stream server (port 8001), its
 * descrambling relay (17999), or, with `auto`, whatever the box's own /web/stream.m3u names for the
 * channel. Whatever the box answers, only the port and path are taken from it: the proxy connects
 * to the configured receiver and nowhere else.
 */
import { OpenWebIfClient } from '../receiver/client';
import { isIptv, ServiceRef } from '../receiver/service-ref';
import { UpstreamTarget } from './session';

/** The ref as the box itself writes stream URLs: colons literal, everything else encoded. */
export function streamPath(ref: ServiceRef): string {
  return '/' + encodeURIComponent(ref.ref).replace(/%3A/gi, ':');
}

export function createUpstreamResolver(
  streamTarget: string,
  receiverHost: string,
  client: Pick<OpenWebIfClient, 'streamTarget'>,
): (ref: ServiceRef, name: string) => Promise<UpstreamTarget> {
  const program = (ref: ServiceRef): number | undefined => (isIptv(ref) ? undefined : ref.sid);
  if (streamTarget !== 'auto') {
    const base = new URL(streamTarget);
    return async (ref) => ({ url: new URL(streamPath(ref), base), program: program(ref) });
  }
  return async (ref, name) => {
    const target = await client.streamTarget(ref, name);
    const answered = new URL(target.url);
    const url = new URL(`${answered.protocol}//${formatHost(receiverHost)}:${target.port}`);
    url.pathname = answered.pathname;
    return { url, program: target.program ?? program(ref) };
  };
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
