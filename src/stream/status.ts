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
  /** This process's memory, in MB: resident, JavaScript heap in use, and buffers outside it. */
  memory: { rssMb: number; heapUsedMb: number; externalMb: number };
  receivers: ReceiverSummary[];
  sessions: Array<SessionStatus & { receiver: string }>;
  hls: Array<HlsStatus & { receiver: string }>;
}

const startedAt = Date.now();

export function buildStatus(context: ProxyContext): ProxyStatus {
  return {
    version: context.version,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    memory: memory(),
    receivers: context.receivers.map((r) => r.summary()),
    sessions: context.receivers.flatMap((r) => r.sessions.list().map((s) => ({ receiver: r.name, ...s.status() }))),
    hls: context.receivers.flatMap((r) => r.hls.list().map((h) => ({ receiver: r.name, ...h }))),
  };
}

function memory(): ProxyStatus['memory'] {
  const m = process.memoryUsage();
  const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external + m.arrayBuffers) };
}
