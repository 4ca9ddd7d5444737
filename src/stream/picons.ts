/**
 * Channel logos for the proxy's `/picon/<ref>.png`: finds a configured channel's picon on the
 * receiver that lists it, trying names in the order OpenWebIF's own getPicon does (the reference;
 * for HD/UHD service types the same reference as SD; the channel's name), keeps what it found in
 * the picon cache, remembers misses and failures for a while so the box is not asked on every
 * request, and lets concurrent requests for one channel share one lookup.
 *
 * Only channels of the configured bouquets are looked up: any other reference is answered without
 * a request to the box.
 */
import { join } from 'node:path';
import type { Logger } from '../logger';
import { sentences } from '../logger';
import type { Channel, ChannelList } from '../receiver/channels';
import { isReceiverError } from '../receiver/errors';
import { parseServiceRef, piconName, type ServiceRef } from '../receiver/service-ref';
import {
  PICON_DISK_MAX_BYTES,
  PICON_FAILURE_TTL_MS,
  PICON_FETCH_CONCURRENCY,
  PICON_MEMORY_MAX_BYTES,
  PICON_MISSING_TTL_MS,
  PICON_TOUCH_INTERVAL_MS,
} from '../settings';
import { PiconCache } from './picon-cache';
import type { PiconAnswer, PiconService } from './proxy-types';

/** The part of the OpenWebIF client this needs. */
export interface PiconClient {
  /** The file `/picon/<name>` of the box, undefined when it has none. */
  picon(name: string): Promise<Buffer | undefined>;
}

/** A receiver as this needs it: its client and its configured channels. */
export interface PiconReceiver {
  readonly client: PiconClient;
  channels(): ChannelList;
}

export interface PiconsOptions {
  receivers: readonly PiconReceiver[];
  cache: PiconCache;
  log: Logger;
  missingTtlMs?: number;
  failureTtlMs?: number;
  /** Picon requests to the boxes at a time. */
  concurrency?: number;
  now?: () => number;
}

/** Service types OpenWebIF falls back to SD (stype 1) for: HD H.264 (0x19, 0x16, 0x11) and UHD HEVC (0x1F). */
const HD_SERVICE_TYPES = new Set([0x19, 0x1f, 0x16, 0x11]);

/**
 * A channel name as OpenWebIF looks it up among picons: accents folded, `&` `+` `*` spelled out,
 * lower case, only a-z and 0-9 kept, plus `.png` ("Das Erste HD" → `daserstehd.png`); undefined
 * when nothing is left.
 */
export function piconNameOfTitle(name: string): string | undefined {
  const folded = name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/&/g, 'and')
    .replace(/\+/g, 'plus')
    .replace(/\*/g, 'star')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
  return folded === '' ? undefined : `${folded}.png`;
}

/** The names to ask the box for, in order, without repeats. */
export function piconCandidates(channel: Pick<Channel, 'ref' | 'name'>): string[] {
  const names = [piconName(channel.ref)];
  if (HD_SERVICE_TYPES.has(channel.ref.stype)) {
    const fields = channel.ref.ref.split(':');
    fields[2] = '1';
    names.push(piconName(parseServiceRef(fields.join(':'))));
  }
  const byTitle = piconNameOfTitle(channel.name);
  if (byTitle !== undefined) names.push(byTitle);
  return [...new Set(names)];
}

/** Runs at most `size` tasks at once; the rest wait in order. */
class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

interface Remembered {
  until: number;
  answer: PiconAnswer;
}

export class Picons implements PiconService {
  private readonly inFlight = new Map<string, Promise<PiconAnswer>>();
  /** Misses and failures by cache key, until they expire. */
  private readonly negative = new Map<string, Remembered>();
  private readonly limiter: Limiter;
  private readonly now: () => number;
  private failing = false;

  constructor(private readonly options: PiconsOptions) {
    this.limiter = new Limiter(options.concurrency ?? PICON_FETCH_CONCURRENCY);
    this.now = options.now ?? Date.now;
  }

  /** Waits for lookups under way and the disk writes they started (the App's stop, before its cache folder may go). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
    await this.options.cache.flush();
  }

  lookup(ref: ServiceRef): Promise<PiconAnswer> {
    let found: { receiver: PiconReceiver; channel: Channel } | undefined;
    for (const receiver of this.options.receivers) {
      const channel = receiver.channels().byRef(ref);
      if (channel) {
        found = { receiver, channel };
        break;
      }
    }
    if (!found) return Promise.resolve({ status: 'unknown' });
    // One entry per listed channel: the same service asked for under another service type shares it.
    const key = piconName(found.channel.ref);
    const remembered = this.negative.get(key);
    if (remembered && remembered.until > this.now()) return Promise.resolve(remembered.answer);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.resolve(key, found.receiver, found.channel).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async resolve(key: string, receiver: PiconReceiver, channel: Channel): Promise<PiconAnswer> {
    const { cache } = this.options;
    const failureTtlMs = this.options.failureTtlMs ?? PICON_FAILURE_TTL_MS;
    try {
      const cached = await cache.get(key);
      if (cached) return { status: 'found', picon: cached };
      for (const name of piconCandidates(channel)) {
        const png = await this.limiter.run(() => receiver.client.picon(name));
        if (png === undefined) continue;
        this.recovered();
        this.negative.delete(key);
        return { status: 'found', picon: cache.put(key, png) };
      }
      this.recovered();
      return this.remember(key, { status: 'none' }, this.options.missingTtlMs ?? PICON_MISSING_TTL_MS);
    } catch (error) {
      const reason = (error as Error).message;
      // Stopping cancels the requests in flight: nothing went wrong, and nothing is remembered.
      if (isReceiverError(error, 'aborted')) return { status: 'failed', reason };
      if (!this.failing) {
        this.failing = true;
        this.options.log.warn(sentences(`Channel logos could not be fetched (${channel.name} first)`, reason, `Each is tried again after ${Math.round(failureTtlMs / 1000)} s`));
      }
      return this.remember(key, { status: 'failed', reason }, failureTtlMs);
    }
  }

  private remember(key: string, answer: PiconAnswer, ttlMs: number): PiconAnswer {
    const now = this.now();
    // Expired entries go whenever one is added: only configured channels get here, so this stays small.
    for (const [k, r] of this.negative) if (r.until <= now) this.negative.delete(k);
    this.negative.set(key, { until: now + ttlMs, answer });
    return answer;
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.options.log.info('Channel logos are fetched from the receiver again.');
  }
}

/** The picon service of the app: its cache in `<cacheDir>/picons`, bounded by the settings. */
export function createPicons(cacheDir: string, receivers: readonly PiconReceiver[], log: Logger): Picons {
  const cache = new PiconCache({
    dir: join(cacheDir, 'picons'),
    maxDiskBytes: PICON_DISK_MAX_BYTES,
    maxMemoryBytes: PICON_MEMORY_MAX_BYTES,
    touchIntervalMs: PICON_TOUCH_INTERVAL_MS,
    log,
  });
  return new Picons({ receivers, cache, log });
}
