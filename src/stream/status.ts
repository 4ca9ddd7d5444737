/**
 * The JSON of /api/status: every receiver and every session, with figures a dashboard can show.
 * Built from summaries that never hold credentials or the access token.
 */
import { HlsStatus } from './hls';
import { SessionStatus } from './session';
import { ProxyContext, ReceiverSummary } from './proxy-types';

export interface ProxyStatus {
  version: string;
  uptimeSeconds: number;
  receivers: ReceiverSummary[];
  sessions: Array<SessionStatus & { receiver: string }>;
  hls: Array<HlsStatus & { receiver: string }>;
}

const startedAt = Date.now();

export function buildStatus(context: ProxyContext): ProxyStatus {
  return {
    version: context.version,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    receivers: context.receivers.map((r) => r.summary()),
    sessions: context.receivers.flatMap((r) => r.sessions.list().map((s) => ({ receiver: r.name, ...s.status() }))),
    hls: context.receivers.flatMap((r) => r.hls.list().map((h) => ({ receiver: r.name, ...h }))),
  };
}
