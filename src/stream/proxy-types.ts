/**
 * What the HTTP routes need to know about each receiver, kept as an interface so the stream layer
 * does not depend on how the core keeps receivers.
 */
import { ServiceRef } from '../receiver/service-ref';
import { HlsManager } from './hls';
import { SessionManager } from './sessions';

export interface ProxyChannel {
  ref: ServiceRef;
  name: string;
  /** Bouquet it came from, for playlist groups. */
  bouquet: string;
}

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
  channels(): ProxyChannel[];
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
