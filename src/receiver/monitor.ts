/**
 * Follows one receiver by polling the cheap `statusinfo` every refresh interval and emits its state
 * only when something changed; HomeKit and MQTT both listen here, so the box is polled once however
 * many sinks there are. While the box is unreachable the interval backs off. Programme now/next
 * come from `getcurrent`, asked only when the channel changes or the current programme has ended.
 *
 * Events: 'state' (state, previous) on any change; 'reachable' (boolean) when reachability flips.
 */
import { EventEmitter } from 'node:events';
import { Logger, sentences } from '../logger';
import { Backoff, LogOnce } from '../retry';
import { MONITOR_BACKOFF_MAX_S } from '../settings';
import { OpenWebIfClient } from './client';
import { isReceiverError } from './errors';
import { EpgEvent, Programme } from './types';

export type PowerStatus = 'on' | 'standby' | 'unknown';

export interface ReceiverState {
  reachable: boolean;
  /** 'unknown' until the box has answered once. */
  power: PowerStatus;
  /** The tuned channel; null in standby or while unknown. */
  channel: { ref: string; name: string } | null;
  volume: number;
  muted: boolean;
  recording: boolean;
  /** The box's own streaming flag (any client of its stream server, not only this proxy). */
  streaming: boolean;
  now: Programme | null;
  next: Programme | null;
  /**
   * True while a power-on is under way that had to wake the box from deep standby (Wake-on-LAN
   * packet sent, waiting for its web interface): `reachable` is still false and `power` the last
   * known one; consumers can show "turning on" instead of "not responding".
   */
  waking: boolean;
}

export const INITIAL_STATE: ReceiverState = {
  reachable: false, power: 'unknown', channel: null, volume: 0, muted: false,
  recording: false, streaming: false, now: null, next: null, waking: false,
};

export interface MonitorOptions {
  /** Poll interval, in s. */
  intervalS: number;
  /** Fetch programme now/next (getcurrent). */
  epg: boolean;
  log: Logger;
}

type Client = Pick<OpenWebIfClient, 'status' | 'current' | 'label'>;

export class ReceiverMonitor extends EventEmitter {
  private current: ReceiverState = INITIAL_STATE;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** The poll under way, and the one queued to start after it (shared by every caller meanwhile). */
  private polling: Promise<ReceiverState> | undefined;
  private queued: Promise<ReceiverState> | undefined;
  /** Why the last poll failed; null while the box answers. */
  private error: string | null = null;
  private readonly problem: LogOnce;
  /** While unreachable: 1x, 2x, 4x ... the interval, capped. */
  private readonly backoff: Backoff;
  private everPolled = false;
  /** A power-on is waiting for the box to boot (see ReceiverState.waking). */
  private waking = false;
  /** This app sent the box to deep standby: when it stops answering, it is asleep, not lost. */
  private sentToDeepStandby = false;

  constructor(private readonly client: Client, private readonly options: MonitorOptions) {
    super();
    this.problem = new LogOnce((line) => options.log.warn(line));
    this.backoff = new Backoff({ firstMs: options.intervalS * 1000, maxMs: Math.max(options.intervalS, MONITOR_BACKOFF_MAX_S) * 1000 });
  }

  get state(): ReceiverState {
    return this.current;
  }

  /** Why the last poll failed; null while the box answers. */
  get lastError(): string | null {
    return this.error;
  }

  /** True once a poll has finished, whatever its outcome. */
  get polled(): boolean {
    return this.everPolled;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.refresh();
  }

  /** Marks a wake from deep standby as under way (or over) and publishes it at once. */
  setWaking(waking: boolean): void {
    if (this.waking === waking) return;
    this.waking = waking;
    if (waking) this.sentToDeepStandby = false;
    this.publish({ ...this.current, waking });
  }

  /**
   * The box was just sent to deep standby from here: once it stops answering, report it as in
   * standby (asleep) rather than as the last state it answered with.
   */
  noteDeepStandby(): void {
    this.sentToDeepStandby = true;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Polls now and resolves with what the box says after the call was made (commands call it to
   * confirm their effect). A poll already under way may predate the command, so the caller gets
   * the next one; callers that arrive while that one waits share it.
   */
  refresh(): Promise<ReceiverState> {
    if (this.queued) return this.queued;
    const start = (): Promise<ReceiverState> => {
      this.queued = undefined;
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule();
      });
      return this.polling;
    };
    if (!this.polling) return start();
    this.queued = this.polling.then(start, start);
    return this.queued;
  }

  private schedule(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    const delayMs = this.error === null ? this.options.intervalS * 1000 : this.backoff.next() ?? this.options.intervalS * 1000;
    this.timer = setTimeout(() => void this.refresh(), delayMs);
  }

  private async poll(): Promise<ReceiverState> {
    let next: ReceiverState;
    try {
      const status = await this.client.status();
      next = {
        reachable: true,
        power: status.inStandby ? 'standby' : 'on',
        channel: status.channel ? { ref: status.channel.ref.ref, name: status.channel.name } : null,
        volume: status.volume,
        muted: status.muted,
        recording: status.isRecording,
        streaming: status.isStreaming,
        // statusinfo and getcurrent describe the same programme differently: keep the richer
        // getcurrent version while the same programme runs, or every poll would look like a change.
        now: sameShow(this.current.now, status.programme) ? this.current.now : status.programme ?? null,
        next: this.current.next,
        waking: this.waking,
      };
      // A box shutting down still answers for a moment; only one that comes back ends the note.
      if (!this.current.reachable) this.sentToDeepStandby = false;
      if (next.channel?.ref !== this.current.channel?.ref) next.next = null;
      if (this.options.epg && next.channel && this.needsProgrammes(next)) await this.addProgrammes(next);
      if (!next.channel) {
        next.now = null;
        next.next = null;
      }
      // The warning said "will keep trying": say when that paid off.
      if (this.problem.clear()) this.options.log.info(`${this.client.label} answers again.`);
      this.error = null;
      this.backoff.reset();
    } catch (error) {
      // A poll refused because commands fill the queue says nothing about the box: skip it.
      if (isReceiverError(error, 'aborted') || isReceiverError(error, 'overloaded') || !this.running) return this.current;
      const message = (error as Error).message;
      this.error = message;
      this.problem.say(sentences(message, 'Will keep trying'));
      // What the box last said stays (HomeKit shows it as not responding), only reachability flips.
      next = { ...this.current, reachable: false, waking: this.waking };
      if (this.sentToDeepStandby) {
        next = { ...next, power: 'standby', channel: null, now: null, next: null, recording: false, streaming: false };
      }
    }
    this.everPolled = true;
    this.publish(next);
    return this.current;
  }

  /** getcurrent is asked on a channel change, when the programme ended, or when next is missing. */
  private needsProgrammes(next: ReceiverState): boolean {
    if (next.channel?.ref !== this.current.channel?.ref || !this.current.next) return true;
    const end = this.current.now?.end;
    return end !== null && end !== undefined && end.getTime() <= Date.now();
  }

  private async addProgrammes(next: ReceiverState): Promise<void> {
    try {
      const current = await this.client.current();
      next.now = programmeOf(current.now) ?? next.now;
      next.next = programmeOf(current.next);
    } catch {
      // Programme info is a nicety: the status poll itself succeeded, so keep what it said.
    }
  }

  private publish(next: ReceiverState): void {
    const previous = this.current;
    if (sameState(previous, next)) return;
    this.current = next;
    if (previous.reachable !== next.reachable) this.emit('reachable', next.reachable);
    this.emit('state', next, previous);
  }
}

function programmeOf(event: EpgEvent | null): Programme | null {
  if (!event || !event.begin) return null;
  return {
    title: event.title,
    begin: event.begin,
    end: new Date(event.begin.getTime() + event.durationSec * 1000),
    description: event.shortDescription || event.longDescription,
  };
}

function sameShow(a: Programme | null | undefined, b: Programme | null | undefined): boolean {
  return !!a && !!b && a.title === b.title && a.begin?.getTime() === b.begin?.getTime();
}

function sameProgramme(a: Programme | null, b: Programme | null): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.title === b.title && a.description === b.description && a.begin?.getTime() === b.begin?.getTime() && a.end?.getTime() === b.end?.getTime();
}

export function sameState(a: ReceiverState, b: ReceiverState): boolean {
  return a.reachable === b.reachable && a.power === b.power && a.channel?.ref === b.channel?.ref && a.channel?.name === b.channel?.name
    && a.volume === b.volume && a.muted === b.muted && a.recording === b.recording && a.streaming === b.streaming
    && sameProgramme(a.now, b.now) && sameProgramme(a.next, b.next) && a.waking === b.waking;
}
