/**
 * What the HTTP routes need to know about each receiver, kept as an interface so the stream layer
 * does not depend on how the core keeps receivers.
 */
import type { Channel, ChannelList } from '../receiver/channels';
import type { ServiceRef } from '../receiver/service-ref';
import type { ReceiverSummary } from '../receiver/receiver';
import type { HdhrContext } from './hdhr';
import { HlsManager } from './hls';
import { SessionManager } from './sessions';

export type { ReceiverSummary };

export interface ProxyReceiver {
  readonly name: string;
  readonly sessions: SessionManager;
  readonly hls: HlsManager;
  /** Channels of the configured bouquets; empty while they could not be loaded. */
  channels(): ChannelList;
  summary(): ReceiverSummary;
}

export interface ProxyContext {
  receivers: ProxyReceiver[];
  /** '' = no token required. */
  token: string;
  /** Base URL for playlists; '' = from the request's Host header. */
  publicUrl: string;
  version: string;
  /** Channel logos for `/picon/<ref>.png`; absent = that route answers 404. */
  picons?: PiconService;
  /** The programme guide (`/xmltv.xml`, now playing); absent when `epg.enabled` is off. */
  guide?: GuideService;
  /** HDHomeRun tuner emulation (hdhr-route.ts); absent = `hdhr.enabled` is off and its paths answer 404. */
  hdhr?: HdhrContext;
}

/** The programme guide as the routes use it (stream/guide.ts). */
export interface GuideService {
  /**
   * The XMLTV document, its picon URLs under `baseUrl` and carrying `query` (the token); undefined
   * until a first guide was fetched or read from the cache.
   */
  xmltv(baseUrl: string, query: string): string | undefined;
  /** The programme airing now on a channel, from the cached guide. */
  now(channel: Channel): { title: string; begin: Date; end: Date } | undefined;
}

/** A channel logo as the proxy serves it. */
export interface Picon {
  png: Buffer;
  /** Quoted strong ETag of the bytes. */
  etag: string;
}

/**
 * found: the logo; unknown: not a channel of the configured bouquets (the box is not asked);
 * none: the box has no picon for it; failed: the box could not be asked (`reason` is a sentence).
 */
export type PiconAnswer =
  | { status: 'found'; picon: Picon }
  | { status: 'unknown' }
  | { status: 'none' }
  | { status: 'failed'; reason: string };

export interface PiconService {
  /** Never rejects. */
  lookup(ref: ServiceRef): Promise<PiconAnswer>;
}
