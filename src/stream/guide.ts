/**
 * The programme guide the proxy serves: one ReceiverGuide per receiver fetches (receiver/guide.ts),
 * this keeps the last guide of each in memory and in the cache folder (so a restart serves it at
 * once), tells the fetchers when the box is tuning (a zap seen by the monitor, a stream start), and
 * answers the XMLTV document and what is on now from the guides it has.
 */
import { join } from 'node:path';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import type { EpgConfig } from '../config/types';
import { Logger } from '../logger';
import { LogOnce } from '../retry';
import type { Channel, ChannelList } from '../receiver/channels';
import { GuideClient, GuideTiming, ReceiverGuide, ReceiverGuideData } from '../receiver/guide';
import type { ReceiverState } from '../receiver/monitor';
import { GUIDE_CACHE_FILE } from '../settings';
import { GuideCacheWriter, readGuideCache } from './guide-cache';
import type { GuideService } from './proxy-types';
import { buildXmltv } from './xmltv';

/** What the guide needs of a receiver (a `Receiver` is one). */
export interface GuideReceiver {
  readonly name: string;
  readonly client: GuideClient;
  readonly monitor: { on(event: 'state', listener: (state: ReceiverState, previous: ReceiverState) => void): unknown };
  channels(): ChannelList;
  on(event: 'loaded', listener: () => void): unknown;
}

export interface GuideSource {
  receiver: GuideReceiver;
  /** The receiver's stream sessions: a stream start tunes the box like a zap. */
  sessions?: { on(event: 'session-started' | 'client-joined', listener: () => void): unknown };
}

export interface GuideOptions {
  sources: GuideSource[];
  epg: EpgConfig;
  /** The App's cache folder. */
  cacheDir: string;
  log: Logger;
  signal: AbortSignal;
  timing?: Partial<GuideTiming>;
  clock?: Clock;
}

/** An hour: programmes that ended are left out of the document at this granularity, so one build serves an hour. */
const HOUR_MS = 3_600_000;

export class Guide implements GuideService {
  private readonly guides: Array<{ name: string; guide: ReceiverGuide; receiver: GuideSource['receiver'] }> = [];
  private readonly writer: GuideCacheWriter;
  private readonly clock: Clock;
  /** Bumped on every new guide: the built document below is only reused for the same version. */
  private version = 0;
  private built: { key: string; xml: string } | undefined;

  constructor(options: GuideOptions) {
    const { sources, epg, cacheDir, log, signal, timing } = options;
    this.clock = options.clock ?? systemClock;
    const path = join(cacheDir, GUIDE_CACHE_FILE);
    const cached = readGuideCache(path);
    if (cached.problem) log.warn(`The programme guide's cache ${path} is not used: ${cached.problem}. The guide is fetched from the receiver anew.`);
    // A folder that cannot be written fails on every refresh: say so once.
    const saveProblem = new LogOnce((line) => log.warn(line));
    this.writer = new GuideCacheWriter(path, (message) => saveProblem.say(`The programme guide could not be saved to ${cacheDir} (${message}); it is fetched anew after a restart. Check that the folder is writable.`));

    for (const { receiver, sessions } of sources) {
      const guide = new ReceiverGuide({
        client: receiver.client,
        channels: () => receiver.channels(),
        days: epg.days,
        refreshHours: epg.refreshHours,
        log,
        signal,
        cached: cached.receivers.get(receiver.name),
        onUpdate: () => this.updated(),
        timing,
        clock: options.clock,
      });
      this.guides.push({ name: receiver.name, guide, receiver });
      receiver.on('loaded', () => {
        // Names come from the current channel list: a renamed channel shows its new name at once.
        this.built = undefined;
        guide.channelsLoaded();
      });
      // A zap from one known channel to another, or waking up onto one (not the first poll's news).
      receiver.monitor.on('state', (state, previous) => {
        if (state.channel && previous.power !== 'unknown' && state.channel.ref !== previous.channel?.ref) guide.quiet();
      });
      // From a viewer's request (tuning starts) to a minute after the first bytes (tuning is done).
      sessions?.on('client-joined', () => guide.quiet());
      sessions?.on('session-started', () => guide.quiet());
      // The list may have loaded before this was built (the receivers start first).
      if (receiver.channels().size > 0) guide.channelsLoaded();
    }
  }

  xmltv(baseUrl: string, query: string): string | undefined {
    if (!this.guides.some(({ guide }) => guide.data)) return undefined;
    const channels = this.guides.flatMap(({ guide, receiver }) => (guide.data?.channels ?? []).map((c) => {
      const listed = receiver.channels().find(c.ref);
      return listed && listed.id === c.id ? { ...c, name: listed.name } : c;
    }));
    const since = Math.floor(this.clock.now() / HOUR_MS) * HOUR_MS;
    const key = JSON.stringify([baseUrl, query, since, this.version]);
    if (this.built?.key !== key) this.built = { key, xml: buildXmltv(channels, { baseUrl, query, since }) };
    return this.built.xml;
  }

  now(channel: Channel): { title: string; begin: Date; end: Date } | undefined {
    const at = this.clock.now();
    for (const { guide } of this.guides) {
      const programmes = guide.data?.channels.find((c) => c.id === channel.id)?.programmes;
      const on = programmes?.find((p) => p.begin <= at && at < p.end);
      if (on) return { title: on.title, begin: new Date(on.begin), end: new Date(on.end) };
    }
    return undefined;
  }

  /** Ends the refreshes and waits for the cache file being written. */
  async stop(): Promise<void> {
    for (const { guide } of this.guides) guide.stop();
    await this.writer.flush();
  }

  private updated(): void {
    this.version++;
    this.built = undefined;
    const receivers = new Map<string, ReceiverGuideData>();
    for (const { name, guide } of this.guides) if (guide.data) receivers.set(name, guide.data);
    this.writer.write(receivers);
  }
}
