/**
 * Commands to one receiver, with the box's quirks handled in one place for HomeKit and MQTT alike:
 * zap does not wake a box in standby (wake, wait until it reports on, then zap), `powerstate`
 * answers the state before the change (so every command re-polls through the monitor), mute is a
 * toggle on the box (so "set mute" toggles only when needed), a box in deep standby is woken with
 * Wake-on-LAN, "off" is refused while proxy viewers watch (the standby guard), and timers, instant
 * recordings and on-screen messages go through here so the timer list and state follow at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { OffMode } from '../config/types';
import { Logger } from '../logger';
import {
  MESSAGE_ANSWER_GRACE_MS,
  MESSAGE_ANSWER_POLL_MS,
  WAKE_CONFIRM_POLL_MS,
  WAKE_CONFIRM_TIMEOUT_MS,
  WOL_BOOT_TIMEOUT_MS,
  WOL_POLL_MS,
  WOL_RESEND_MS,
} from '../settings';
import type { ChannelList } from './channels';
import { OpenWebIfClient } from './client';
import { CommandRefused, invalidError, isReceiverError, ReceiverError } from './errors';
import { ReceiverMonitor, ReceiverState } from './monitor';
import { isPlayable, parseServiceRef, ServiceRef, tryParseServiceRef } from './service-ref';
import type { MessageAnswer, MessageSpec, Timer, TimerSpec } from './types';
import { sendMagicPacket, type WakeResult } from './wake';

type Client = Pick<OpenWebIfClient, 'power' | 'zap' | 'volumeSet' | 'volumeUp' | 'volumeDown' | 'toggleMute' | 'remoteKey' | 'label'>
  & Partial<Pick<OpenWebIfClient, 'message' | 'messageAnswer' | 'timers' | 'timerAdd' | 'timerAddByEvent' | 'timerDelete' | 'recordNow'>>;

type Monitor = Pick<ReceiverMonitor, 'refresh' | 'state'> & Partial<Pick<ReceiverMonitor, 'setWaking' | 'noteDeepStandby'>>;

/** Who watches this receiver's channels through the proxy right now (HLS included). */
export interface Viewers {
  /** Attached proxy clients. */
  count: number;
  /** Names of the channels they watch. */
  channels: string[];
}

/** Waits of the home-control commands, in ms (tests make them short). */
export interface HomeTiming {
  /** After the magic packet, how long to wait for the web interface. */
  bootTimeoutMs: number;
  /** How often to look for it meanwhile. */
  bootPollMs: number;
  /** How often to resend the magic packet meanwhile. */
  resendMs: number;
  /** How often to ask for a yes/no message's answer. */
  answerPollMs: number;
  /** Extra wait after the message's own timeout before the answer is 'none'. */
  answerGraceMs: number;
}

export const HOME_TIMING: HomeTiming = {
  bootTimeoutMs: WOL_BOOT_TIMEOUT_MS,
  bootPollMs: WOL_POLL_MS,
  resendMs: WOL_RESEND_MS,
  answerPollMs: MESSAGE_ANSWER_POLL_MS,
  answerGraceMs: MESSAGE_ANSWER_GRACE_MS,
};

/** What the control needs to know beyond the client: the receiver's settings and its neighbours. */
export interface HomeOptions {
  /** The receiver's name for sentences ("Living Room stays on: …"); default: the client's label. */
  name?: string;
  /** What "off" does (default standby). */
  offMode?: OffMode;
  /** Refuse "off" while proxy viewers watch (default true; it only bites when `viewers` is given). */
  standbyGuard?: boolean;
  /** Wake a box in deep standby with a magic packet (default true, needs a MAC). */
  wakeOnLan?: boolean;
  /** Targets of the magic packet (`a.b.c.d[:port]`); empty = the default broadcasts. */
  wakeBroadcast?: string[];
  /** The box's MAC as known now (config, else deviceinfo, else remembered); null when unknown. */
  mac?: () => string | null;
  /** Proxy viewers of this receiver. */
  viewers?: () => Viewers;
  /** The receiver's channel list, for timers by channel name or short id. */
  channels?: () => ChannelList;
  /** Told every timer list read here (the Receiver keeps it and emits 'timers' on change). */
  onTimers?: (timers: Timer[]) => void;
  timing?: Partial<HomeTiming>;
}

export class ReceiverControl {
  private readonly home: HomeOptions;
  private readonly timing: HomeTiming;
  /** A wake from deep standby under way, shared by every power-on meanwhile. */
  private wakingUp: Promise<ReceiverState> | undefined;
  /** Yes/no questions one after another: the box keeps only the last answer. */
  private questions: Promise<unknown> = Promise.resolve();

  /** `signal`: the owner's stop; every wait ends with it. */
  constructor(
    private readonly client: Client,
    private readonly monitor: Monitor,
    private readonly log: Logger,
    private readonly signal?: AbortSignal,
    home: HomeOptions = {},
  ) {
    this.home = home;
    this.timing = { ...HOME_TIMING, ...home.timing };
  }

  private get name(): string {
    return this.home.name ?? this.client.label;
  }

  // -------------------------------------------------------------------------------------------
  // Power
  // -------------------------------------------------------------------------------------------

  /** On = `powerOn()`; off = `powerOff(options)` (standby or deep standby per offMode, guarded). */
  async setPower(on: boolean, options: { force?: boolean } = {}): Promise<ReceiverState> {
    return on ? this.powerOn() : this.powerOff(options);
  }

  /** Off when on (guarded, per offMode), else on (with Wake-on-LAN when needed). */
  async togglePower(options: { force?: boolean } = {}): Promise<ReceiverState> {
    const state = await this.monitor.refresh();
    return state.reachable && state.power === 'on' ? this.powerOff(options) : this.powerOn();
  }

  /**
   * Switches the box on and optionally tunes a channel: a box in standby is woken (powerstate 4); an
   * unreachable one gets a Wake-on-LAN packet and is waited for (WOL_BOOT_TIMEOUT_MS, with
   * `state.waking` true meanwhile). Throws a ReceiverError saying what to set when it cannot be woken.
   */
  async powerOn(channel?: ServiceRef | string): Promise<ReceiverState> {
    const target = typeof channel === 'string' ? parseServiceRef(channel) : channel;
    let state = await this.monitor.refresh();
    if (!state.reachable) {
      this.wakingUp ??= this.wakeFromDeepStandby().finally(() => {
        this.wakingUp = undefined;
      });
      state = await this.wakingUp;
    }
    if (state.power !== 'on') {
      await this.client.power('wake');
      state = await this.waitUntilOn();
    }
    if (target) {
      await this.client.zap(target);
      state = await this.monitor.refresh();
    }
    return state;
  }

  /**
   * Standby or deep standby, as `offMode` says. With the standby guard on and proxy viewers
   * watching, throws CommandRefused unless `force`.
   */
  async powerOff(options: { force?: boolean } = {}): Promise<ReceiverState> {
    this.guard(options.force === true);
    if (this.home.offMode === 'deepStandby') return this.sendToDeepStandby();
    const known = this.monitor.state;
    // Already asleep in deep standby (sent there from here): "off" is done, nothing to send.
    if (!known.reachable && known.power === 'standby') return known;
    await this.client.power('standby');
    return this.monitor.refresh();
  }

  /** Deep standby: the box drops off the network until woken by its remote or Wake-on-LAN. Guarded. */
  async deepStandby(options: { force?: boolean } = {}): Promise<ReceiverState> {
    this.guard(options.force === true);
    return this.sendToDeepStandby();
  }

  async reboot(): Promise<ReceiverState> {
    await this.client.power('reboot');
    return this.monitor.refresh();
  }

  /** Tunes a channel, waking the box first when it is in standby or deep standby (see powerOn). */
  zap(ref: ServiceRef | string): Promise<ReceiverState> {
    return this.powerOn(ref);
  }

  // -------------------------------------------------------------------------------------------
  // Volume and keys
  // -------------------------------------------------------------------------------------------

  async setVolume(level: number): Promise<ReceiverState> {
    await this.client.volumeSet(Math.round(Math.min(100, Math.max(0, level))));
    return this.monitor.refresh();
  }

  async volumeUp(): Promise<ReceiverState> {
    await this.client.volumeUp();
    return this.monitor.refresh();
  }

  async volumeDown(): Promise<ReceiverState> {
    await this.client.volumeDown();
    return this.monitor.refresh();
  }

  async setMute(muted: boolean): Promise<ReceiverState> {
    const state = await this.monitor.refresh();
    if (state.muted !== muted) await this.client.toggleMute();
    return this.monitor.refresh();
  }

  /** The box's own mute toggle: it knows its state, which a poll may not yet (a toggle just before). */
  async toggleMute(): Promise<ReceiverState> {
    await this.client.toggleMute();
    return this.monitor.refresh();
  }

  /** A remote control key (Linux key code, see keys.ts). */
  async key(code: number): Promise<ReceiverState> {
    await this.client.remoteKey(code);
    return this.monitor.refresh();
  }

  // -------------------------------------------------------------------------------------------
  // Timers and recordings: each command re-reads the timer list and the state afterwards.
  // -------------------------------------------------------------------------------------------

  /** The box's recording timers (also handed to `onTimers`). */
  async timers(): Promise<Timer[]> {
    const list = await this.need('timers')();
    this.home.onTimers?.(list);
    return list;
  }

  /**
   * Records the programme on screen now. A channel without EPG, which the box refuses for
   * "record the current event", is recorded without an end (the box stops it after 10 hours).
   */
  async recordNow(): Promise<Timer[]> {
    const state = await this.monitor.refresh();
    if (state.reachable && state.power !== 'on') {
      throw invalidError(this.client.label, '/api/recordnow', `${this.name} is in standby, and an instant recording records the channel on screen: switch it on first, or add a timer for a channel.`);
    }
    const recordNow = this.need('recordNow');
    try {
      await recordNow(false);
    } catch (error) {
      if (!isReceiverError(error, 'rejected') || !/no event/i.test(error.boxMessage ?? '')) throw error;
      this.log.info(`${this.name}: the channel on screen has no programme guide, so the instant recording runs until stopped (at most 10 hours).`);
      await recordNow(true);
    }
    return this.afterTimerCommand();
  }

  /** Stops the running instant recording(s) by deleting their timers; nothing running is fine. */
  async stopRecording(): Promise<Timer[]> {
    const list = await this.timers();
    const running = list.filter((t) => t.state === 'recording');
    const instant = running.filter((t) => t.instant);
    if (instant.length === 0 && running.length > 0) {
      const names = running.map((t) => `"${t.name}" (timer ${t.id})`).join(', ');
      throw invalidError(this.client.label, '/api/timerdelete', `${this.name} records no instant recording; ${names} ${running.length === 1 ? 'is a scheduled timer' : 'are scheduled timers'}: delete the timer to stop it.`);
    }
    const remove = this.need('timerDelete');
    for (const timer of instant) await remove(timer.ref, timer.begin, timer.end);
    return this.afterTimerCommand();
  }

  /**
   * Adds a recording timer: a channel (name, reference or short id) with a time span, or an EPG
   * event (of the named channel, else of the channel on screen). The box's refusal (a conflict:
   * "Conflicting Timer(s) detected! …") throws as `rejected` with its message.
   */
  async addTimer(spec: TimerSpec): Promise<Timer[]> {
    if ('eventId' in spec) {
      const ref = spec.channel !== undefined && spec.channel.trim() !== '' ? this.channelRef(spec.channel) : this.currentChannel();
      await this.need('timerAddByEvent')(ref, spec.eventId);
    } else {
      const ref = this.channelRef(spec.channel);
      const { begin, end } = spec;
      if (!(begin instanceof Date) || !(end instanceof Date) || Number.isNaN(begin.getTime()) || Number.isNaN(end.getTime())) {
        throw invalidError(this.client.label, '/api/timeradd', 'A timer needs a begin and an end time.');
      }
      if (end.getTime() <= begin.getTime()) throw invalidError(this.client.label, '/api/timeradd', 'A timer must end after it begins.');
      if (end.getTime() <= Date.now()) throw invalidError(this.client.label, '/api/timeradd', 'The timer would end in the past; give an end time that is still to come.');
      const name = spec.name?.trim() || this.channelName(ref);
      await this.need('timerAdd')(ref, begin, end, name);
    }
    return this.afterTimerCommand();
  }

  /** Deletes a timer by its id (`<begin>_<end>_<channel id>`); a running one stops recording. */
  async deleteTimer(id: string): Promise<Timer[]> {
    const list = await this.timers();
    const timer = list.find((t) => t.id === id);
    if (!timer) {
      const known = list.length === 0 ? 'it has no timers' : `its timers are ${list.map((t) => t.id).join(', ')}`;
      throw invalidError(this.client.label, '/api/timerdelete', `${this.name} has no timer "${id}"; ${known}.`);
    }
    await this.need('timerDelete')(timer.ref, timer.begin, timer.end);
    return this.afterTimerCommand();
  }

  // -------------------------------------------------------------------------------------------
  // Messages
  // -------------------------------------------------------------------------------------------

  /**
   * Shows a message on the TV. A yes/no question resolves with the answer ('none' when its time ran
   * out); other types resolve undefined as soon as the box showed them.
   */
  async message(spec: MessageSpec): Promise<MessageAnswer | undefined> {
    if (spec.type !== 'yesno') {
      await this.need('message')(spec);
      return undefined;
    }
    // The box keeps one answer, reset by each new question: questions wait for each other.
    const asked = this.questions.then(() => this.ask(spec));
    this.questions = asked.catch(() => undefined);
    return asked;
  }

  private async ask(spec: MessageSpec): Promise<MessageAnswer> {
    await this.need('message')(spec);
    const answer = this.need('messageAnswer');
    const deadline = Date.now() + spec.timeoutS * 1000 + this.timing.answerGraceMs;
    for (;;) {
      await this.pause(this.timing.answerPollMs);
      const reply = await answer();
      if (reply !== 'none') return reply;
      if (Date.now() >= deadline) return 'none';
    }
  }

  // -------------------------------------------------------------------------------------------

  /** Throws CommandRefused when the standby guard is on, viewers watch and it is not forced. */
  private guard(force: boolean): void {
    if (force || this.home.standbyGuard === false || !this.home.viewers) return;
    let viewers: Viewers;
    try {
      viewers = this.home.viewers();
    } catch {
      return; // Counting viewers must never keep the box from switching off.
    }
    if (viewers.count > 0) throw new CommandRefused(this.name, viewers.count, viewers.channels);
  }

  private async sendToDeepStandby(): Promise<ReceiverState> {
    this.log.info(`Sending ${this.name} to deep standby; it will not answer until woken by its remote${this.canWake() ? ' or Wake-on-LAN' : ''}.`);
    await this.client.power('deepStandby');
    this.monitor.noteDeepStandby?.();
    return this.monitor.refresh();
  }

  private canWake(): boolean {
    return this.home.wakeOnLan !== false && !!this.home.mac?.();
  }

  /** Magic packet, then wait for the web interface (resending now and then); the state shows `waking`. */
  private async wakeFromDeepStandby(): Promise<ReceiverState> {
    const mac = this.home.mac?.() ?? null;
    if (this.home.wakeOnLan === false || !mac) throw this.cannotWake(mac);
    const { bootTimeoutMs, bootPollMs, resendMs } = this.timing;
    this.monitor.setWaking?.(true);
    try {
      const deadline = Date.now() + bootTimeoutMs;
      let lastSent = -Infinity;
      for (;;) {
        if (Date.now() - lastSent >= resendMs) {
          const result = await sendMagicPacket(mac, this.home.wakeBroadcast ?? []);
          if (lastSent === -Infinity) this.log.info(wakeLine(this.name, mac, result));
          if (result.sent.length === 0) {
            throw new ReceiverError('unreachable', `${this.name} could not be woken: the Wake-on-LAN packet could not be sent (${failures(result)}); check receivers[].wakeBroadcast.`, { receiver: this.client.label, endpoint: 'Wake-on-LAN' });
          }
          lastSent = Date.now();
        }
        await this.pause(bootPollMs);
        const state = await this.monitor.refresh();
        if (state.reachable) return state;
        if (this.signal?.aborted) throw new Error(`stopped while waiting for ${this.client.label} to wake up`);
        if (Date.now() >= deadline) {
          throw new ReceiverError('timeout', `${this.name} did not come back within ${Math.round(bootTimeoutMs / 1000)} s of the Wake-on-LAN packet to ${mac}: ` +
            'check that Wake-on-LAN is turned on in the box\'s settings, that receivers[].mac is its wired MAC, and that the packet reaches its network (receivers[].wakeBroadcast).',
          { receiver: this.client.label, endpoint: 'Wake-on-LAN', code: 'ETIMEDOUT' });
        }
      }
    } finally {
      this.monitor.setWaking?.(false);
    }
  }

  private cannotWake(mac: string | null): ReceiverError {
    const message = mac
      ? `${this.name} cannot be reached (deep standby or off the network), and Wake-on-LAN is off for it: set receivers[].wakeOnLan to true and turn on Wake-on-LAN in the box's settings, or switch it on with its remote.`
      : `${this.name} cannot be reached (deep standby or off the network), and its MAC address is not known, so it cannot be woken over the network: set receivers[].mac and turn on Wake-on-LAN in the box's settings, or switch it on with its remote.`;
    return new ReceiverError('unreachable', message, { receiver: this.client.label, endpoint: 'Wake-on-LAN' });
  }

  /** A channel by name, reference or short id: the receiver's list first, else a playable reference. */
  private channelRef(text: string): ServiceRef {
    const found = this.home.channels?.().find(text);
    if (found) return found.ref;
    const ref = typeof text === 'string' ? tryParseServiceRef(text.trim()) : undefined;
    if (ref && isPlayable(ref)) return ref;
    throw invalidError(this.client.label, '/api/timeradd', `${this.name} has no channel "${text}" in its configured bouquets; give its name, service reference or short id.`);
  }

  private channelName(ref: ServiceRef): string {
    return this.home.channels?.().byRef(ref)?.name ?? (ref.name || 'Timer');
  }

  private currentChannel(): ServiceRef {
    const current = this.monitor.state.channel;
    const ref = current ? tryParseServiceRef(current.ref) : undefined;
    if (!ref) throw invalidError(this.client.label, '/api/timeraddbyeventid', `${this.name} shows no channel (standby or unknown): name the channel of the event.`);
    return ref;
  }

  private async afterTimerCommand(): Promise<Timer[]> {
    const list = await this.timers();
    await this.monitor.refresh();
    return list;
  }

  /** A client method this control was built without is a wiring bug, said as such. */
  private need<K extends 'message' | 'messageAnswer' | 'timers' | 'timerAdd' | 'timerAddByEvent' | 'timerDelete' | 'recordNow'>(name: K): NonNullable<Client[K]> {
    const method = this.client[name];
    if (typeof method !== 'function') throw new TypeError(`this receiver control was built without the client's ${name}()`);
    return method.bind(this.client) as NonNullable<Client[K]>;
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.signal }).catch(() => undefined);
    if (this.signal?.aborted) throw new Error(`stopped while waiting for ${this.client.label}`);
  }

  private async waitUntilOn(): Promise<ReceiverState> {
    const deadline = Date.now() + WAKE_CONFIRM_TIMEOUT_MS;
    for (;;) {
      const state = await this.monitor.refresh();
      if (state.power === 'on') return state;
      if (this.signal?.aborted) throw new Error(`stopped while waiting for ${this.client.label} to wake up`);
      if (Date.now() > deadline) {
        throw new Error(`${this.client.label} did not wake up within ${WAKE_CONFIRM_TIMEOUT_MS / 1000} s`);
      }
      await sleep(WAKE_CONFIRM_POLL_MS, undefined, { signal: this.signal }).catch(() => undefined);
    }
  }
}

function failures(result: WakeResult): string {
  return result.failed.map((f) => `${f.target}: ${f.reason}`).join(', ') || 'no target';
}

function wakeLine(name: string, mac: string, result: WakeResult): string {
  const failed = result.failed.length > 0 ? `; not to ${failures(result)}` : '';
  return `${name} is in deep standby: sent a Wake-on-LAN packet for ${mac} to ${result.sent.join(', ') || 'nowhere'}${failed}; waiting for it to boot.`;
}
