/**
 * What the HTTP routes need to know about each receiver, kept as an interface so the stream layer
 * does not depend on how the core keeps receivers.
 */
import type { ChannelList } from '../receiver/channels';
import { HlsManager } from './hls';
import { SessionManager } from './sessions';

export interface ReceiverSummary {
  name: string;
  /** Host and port of the web interface; never credentials. */
  address: string;
  reachable: boolean;
  channels: number;
  tuners: number | null;
  lastError: string | null;
}

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
}
