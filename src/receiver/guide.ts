/**
 * The programme guide of one receiver, fetched from the box: the EPG of every channel of the
 * configured bouquets, `days` ahead, one `epgservice` request at a time (through the client's
 * queue, like every request to the box), refreshed every `refreshHours`. Gentle on the box: a pause
 * between channels, and no request while it is tuning (`quiet()` after a zap or a stream start
 * makes the next request wait). A box that is down keeps the last guide; the failure is logged once
 * and retried with back-off. Formatting and serving the guide is the stream side's job.
 */
import { Alarm, childLifetime, Clock, systemClock } from '../clock';
import { Logger, sentences } from '../logger';
import { Backoff, LogOnce } from '../retry';
import {
  GUIDE_FIRST_FETCH_DELAY_MS,
  GUIDE_MAX_EVENTS_PER_CHANNEL,
  GUIDE_REQUEST_GAP_MS,
  GUIDE_REQUEST_TIMEOUT_MS,
  GUIDE_RETRY_MAX_MS,
  GUIDE_RETRY_MIN_MS,
  GUIDE_ZAP_QUIET_MS,
} from '../settings';
import type { Channel, ChannelList } from './channels';
import type { OpenWebIfClient } from './client';
import { isReceiverError } from './errors';
import type { EpgEvent } from './types';

/** One programme; times in ms since the epoch. */
export interface GuideProgramme {
  begin: number;
  end: number;
  title: string;
  /** The long description, else the short one; '' when the box has neither. */
  description: string;
  /** The box's genre text; '' when it gives none. */
  genre: string;
}

/** One channel's programmes, in time order; `id` is the channel's `id` (the playlist's tvg-id). */
export interface GuideChannel {
  id: string;
  name: string;
  /** The service reference as the box writes it (for the picon URL). */
  ref: string;
  programmes: GuideProgramme[];
}

/** One receiver's guide as fetched (and as cached on disk). */
export interface ReceiverGuideData {
  /** When the refresh that produced it started, in ms since the epoch. */
  fetchedAt: number;
  channels: GuideChannel[];
}

/** Delays of the guide's fetching, in ms (tests make them short). */
export interface GuideTiming {
  /** From the channel list loading to the first fetch. */
  firstFetchMs: number;
  /** Pause between two channels' requests. */
  requestGapMs: number;
  /** No request within this long after a zap or a stream start. */
  quietMs: number;
  /** Retry after a failed refresh: first delay and longest delay. */
  retryMinMs: number;
  retryMaxMs: number;
  /** Timeout of one channel's request. */
  requestTimeoutMs: number;
}

export const GUIDE_TIMING: GuideTiming = {
  firstFetchMs: GUIDE_FIRST_FETCH_DELAY_MS,
  requestGapMs: GUIDE_REQUEST_GAP_MS,
  quietMs: GUIDE_ZAP_QUIET_MS,
  retryMinMs: GUIDE_RETRY_MIN_MS,
  retryMaxMs: GUIDE_RETRY_MAX_MS,
  requestTimeoutMs: GUIDE_REQUEST_TIMEOUT_MS,
};

export type GuideClient = Pick<OpenWebIfClient, 'epgService' | 'label'>;

export interface ReceiverGuideOptions {
  client: GuideClient;
  /** The receiver's current channel list (read at each refresh). */
  channels: () => ChannelList;
  days: number;
  refreshHours: number;
  log: Logger;
  /** The app's stop signal: timers and waits end with it. */
  signal: AbortSignal;
  /** The guide read from the cache folder: kept until a refresh replaces it. */
  cached?: ReceiverGuideData;
  /** Called with each new guide; a throw is caught (it must not stop the refreshes). */
  onUpdate?: (data: ReceiverGuideData) => void;
  timing?: Partial<GuideTiming>;
  clock?: Clock;
}

/** Thrown inside a refresh when the app stops; never leaves this module. */
class Stopped extends Error {}

export class ReceiverGuide {
  private current: ReceiverGuideData | undefined;
  private readonly timing: GuideTiming;
  private readonly clock: Clock;
  private readonly lifetime: AbortController;
  private readonly alarm: Alarm;
  private readonly backoff: Backoff;
  private readonly problem: LogOnce;
  private readonly channelProblem: LogOnce;
  private quietUntil = 0;
  private refreshing: Promise<void> | undefined;
  private succeeded = false;

  constructor(private readonly options: ReceiverGuideOptions) {
    this.timing = { ...GUIDE_TIMING, ...options.timing };
    this.clock = options.clock ?? systemClock;
    this.current = options.cached;
    this.lifetime = childLifetime(options.signal);
    this.alarm = new Alarm(this.clock, () => void this.refresh(), this.lifetime.signal);
    this.backoff = new Backoff({ firstMs: this.timing.retryMinMs, maxMs: Math.max(this.timing.retryMinMs, Math.min(this.timing.retryMaxMs, this.refreshMs)) });
    this.problem = new LogOnce((line) => options.log.warn(line));
    this.channelProblem = new LogOnce((line) => options.log.warn(line));
  }

  /** The last guide (fetched, or read from the cache); undefined before the first. */
  get data(): ReceiverGuideData | undefined {
    return this.current;
  }

  /** True while a refresh runs (or waits for quiet). */
  get busy(): boolean {
    return this.refreshing !== undefined;
  }

  /** The box is tuning (a zap, a stream start): the next request waits until it has been quiet this long. */
  quiet(ms = this.timing.quietMs): void {
    this.quietUntil = Math.max(this.quietUntil, this.clock.now() + ms);
  }

  /**
   * The channel list (re)loaded: fetch shortly when the guide is missing, stale or made for other
   * channels, else at the next regular refresh.
   */
  channelsLoaded(): void {
    if (this.refreshing || this.lifetime.signal.aborted) return;
    const data = this.current;
    const due = data && sameChannels(data, this.options.channels().all) ? data.fetchedAt + this.refreshMs - this.clock.now() : 0;
    // A cache from the future (the clock was set back) waits no longer than one refresh interval.
    this.alarm.arm(Math.max(this.timing.firstFetchMs, Math.min(due, this.refreshMs)));
  }

  /** Ends the timers and any refresh under way (the client's request ends with the app's signal). */
  stop(): void {
    this.lifetime.abort();
  }

  /** Fetches every channel's guide now (timers call it; tests may too). Never rejects. */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private get refreshMs(): number {
    return this.options.refreshHours * 3_600_000;
  }

  private async refreshOnce(): Promise<void> {
    const { client, log } = this.options;
    this.alarm.cancel();
    const channels = uniqueById(this.options.channels().all);
    // Nothing to ask for until channels load; the 'loaded' event brings the guide back here.
    if (channels.length === 0 || this.lifetime.signal.aborted) return;
    try {
      const data = await this.fetch(channels);
      this.current = data;
      this.backoff.reset();
      const count = data.channels.reduce((n, c) => n + c.programmes.length, 0);
      const line = `${client.label}: programme guide of ${data.channels.length} channel(s) loaded, ${count} programme(s) over ${this.options.days} day(s).`;
      // Said at the first success and after a failure; the regular refreshes are routine.
      if (this.problem.clear() || !this.succeeded) log.info(line);
      else log.debug(line);
      this.succeeded = true;
      try {
        this.options.onUpdate?.(data);
      } catch (error) {
        log.error(`Storing the programme guide failed: ${(error as Error).message}`);
      }
      // Channels that arrived while this refresh ran are fetched shortly, not hours later.
      this.alarm.arm(sameChannels(data, this.options.channels().all) ? this.refreshMs : this.timing.firstFetchMs);
    } catch (error) {
      if (error instanceof Stopped || this.lifetime.signal.aborted) return;
      this.problem.say(sentences((error as Error).message, 'The programme guide keeps what it last had and will try again in a few minutes'));
      this.alarm.arm(this.backoff.next() ?? this.timing.retryMaxMs);
    }
  }

  /** One refresh: each channel in turn, after quiet and a pause. Throws when the box fails. */
  private async fetch(channels: Channel[]): Promise<ReceiverGuideData> {
    const { client, days } = this.options;
    const fetchedAt = this.clock.now();
    const previous = new Map((this.current?.channels ?? []).map((c) => [c.id, c]));
    const result: GuideChannel[] = [];
    const unreadable: string[] = [];
    let firstProblem = '';
    for (const [i, channel] of channels.entries()) {
      if (i > 0) await this.sleep(this.timing.requestGapMs);
      await this.waitForQuiet();
      let events: EpgEvent[];
      try {
        events = await client.epgService(channel.ref, new Date(fetchedAt), days * 24 * 60, this.timing.requestTimeoutMs);
      } catch (error) {
        // An answer the box sent but that is unusable for this channel; anything else (down,
        // timeout, login) fails the whole refresh and the last guide stays.
        if (!isReceiverError(error, 'rejected') && !isReceiverError(error, 'protocol')) throw error;
        unreadable.push(channel.name);
        firstProblem ||= error.message;
        result.push({ ...guideChannel(channel), programmes: previous.get(channel.id)?.programmes ?? [] });
        continue;
      }
      result.push({ ...guideChannel(channel), programmes: programmesOf(events, fetchedAt) });
    }
    if (unreadable.length === 0) this.channelProblem.clear();
    else this.channelProblem.say(sentences(`${client.label}: the programme guide of ${unreadable.length} channel(s) could not be read (${firstProblem.replace(/\.$/, '')})`, 'They keep the programmes they had'));
    return { fetchedAt, channels: result };
  }

  /** Waits (does not skip) until no zap or stream start happened for the quiet time. */
  private async waitForQuiet(): Promise<void> {
    while (this.clock.now() < this.quietUntil) await this.sleep(this.quietUntil - this.clock.now());
  }

  /** Resolves after `ms`; throws Stopped when the guide stops first. */
  private sleep(ms: number): Promise<void> {
    const signal = this.lifetime.signal;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new Stopped());
      const onAbort = (): void => {
        this.clock.clearTimeout(timer);
        reject(new Stopped());
      };
      const timer = this.clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function guideChannel(channel: Channel): Omit<GuideChannel, 'programmes'> {
  return { id: channel.id, name: channel.name, ref: channel.ref.ref };
}

/** The same service may be listed twice under different refs (another service type): ask once. */
function uniqueById(channels: readonly Channel[]): Channel[] {
  const seen = new Set<string>();
  return channels.filter((c) => !seen.has(c.id) && seen.add(c.id));
}

function sameChannels(data: ReceiverGuideData, channels: readonly Channel[]): boolean {
  const ids = new Set(uniqueById(channels).map((c) => c.id));
  return ids.size === data.channels.length && data.channels.every((c) => ids.has(c.id));
}

/**
 * The box's events as programmes: with a time and a title, not over before `since`, in time order,
 * one per start time, at most GUIDE_MAX_EVENTS_PER_CHANNEL.
 */
export function programmesOf(events: readonly EpgEvent[], since: number): GuideProgramme[] {
  const byBegin = new Map<number, GuideProgramme>();
  for (const event of events) {
    if (!event.begin || event.durationSec <= 0) continue;
    const begin = event.begin.getTime();
    const end = begin + event.durationSec * 1000;
    const title = dvbText(event.title).replace(/\s+/g, ' ').trim();
    if (end <= since || title === '' || byBegin.has(begin)) continue;
    const description = dvbText(event.longDescription).trim() || dvbText(event.shortDescription).trim();
    byBegin.set(begin, { begin, end, title, description, genre: dvbText(event.genre).trim() });
  }
  return [...byBegin.values()].sort((a, b) => a.begin - b.begin).slice(0, GUIDE_MAX_EVENTS_PER_CHANNEL);
}

/** DVB text control codes (EN 300 468 annex A): 0x8A is a line break, 0x86/0x87 switch emphasis. */
function dvbText(text: string): string {
  return text.replace(/\u008a/g, '\n').replace(/[\u0086\u0087]/g, '');
}
