/**
 * The simulated box's timers, instant recordings and on-screen messages, answered as OpenWebIF 2.x
 * answers them (models/timers.py, models/message.py): `timerlist` entries with enigma2's fields,
 * conflicts when more recordings overlap than there are tuners ("Conflicting Timer(s) detected!
 * …"), timer states that follow the clock (waiting → preparing → recording → done) and drive
 * `isRecording`, `recordnow` of the current event, and yes/no messages whose one remembered answer
 * tests give with `answer()`.
 */
import { tryParseServiceRef } from '../receiver/service-ref';
import {
  SIM_INFINITE_RECORDING_S,
  SIM_TIMER_MARGIN_AFTER_S,
  SIM_TIMER_MARGIN_BEFORE_S,
  SIM_TIMER_PREPARE_S,
} from '../settings';
import { channelEvents, type SimChannel, type SimEvent } from './channels';
import type { SimulatorState } from './state';

type Json = Record<string, unknown>;

/** A timer as the box keeps it (RecordTimerEntry's fields that OpenWebIF lists). */
export interface SimTimer {
  serviceref: string;
  servicename: string;
  name: string;
  description: string;
  /** Unix seconds, whole (RecordTimerEntry casts them to int). */
  begin: number;
  end: number;
  eit: number;
  justplay: boolean;
  disabled: boolean;
  /** Instant recordings are not saved to timers.xml. */
  dontsave: boolean;
  afterevent: number;
}

/** A message the box showed. `type`: 0 yes/no, 1 info, 2 warning, 3 error. */
export interface SimMessage {
  text: string;
  type: number;
  /** Seconds on screen; -1 = until closed. */
  timeout: number;
  /** When it was shown (ms, the simulator's clock). */
  at: number;
  /** The answer given to a yes/no message, if any. */
  answer?: 'yes' | 'no';
}

export interface SimHomeOptions {
  state: SimulatorState;
  tuners: number;
  /** The channel of a reference, when the simulator has it. */
  findChannel(ref: string): SimChannel | undefined;
  /** The simulator's clock, ms since the epoch (tests move it to let timers run and end). */
  clock(): number;
}

const missing = (name: string): Json => ({ result: false, message: `Missing mandatory parameter '${name}'` });
const empty = (name: string): Json => ({ result: false, message: `The parameter '${name}' can't be empty` });

/** enigma2 matches timers by the first 11 fields of the reference (the name part is ignored). */
const refKey = (ref: string): string => ref.split(':').slice(0, 11).join(':');

export class SimHome {
  readonly timers: SimTimer[] = [];
  readonly messages: SimMessage[] = [];
  /** The yes/no message on screen, until answered or timed out. */
  private question: SimMessage | undefined;
  /** OpenWebIF's `lastreply`: reset by each yes/no message, set by its answer. */
  private lastReply: boolean | null = null;

  constructor(private readonly o: SimHomeOptions) {}

  routes(): Record<string, (q: Record<string, string>) => Json> {
    return {
      '/api/timerlist': () => this.timerlist(),
      '/api/timeradd': (q) => this.timeradd(q),
      '/api/timeraddbyeventid': (q) => this.timeraddbyeventid(q),
      '/api/timerdelete': (q) => this.timerdelete(q),
      '/api/recordnow': (q) => this.recordnow(q),
      '/api/message': (q) => this.message(q),
      '/api/messageanswer': () => this.messageanswer(),
    };
  }

  private nowS(): number {
    return Math.floor(this.o.clock() / 1000);
  }

  /** enigma2's TimerEntry state at the simulator's time: 0 waiting, 1 prepared, 2 running, 3 ended. */
  stateOf(t: SimTimer, now = this.nowS()): number {
    if (now >= t.end) return 3;
    if (t.disabled) return 0;
    if (now >= t.begin) return 2;
    return now >= t.begin - SIM_TIMER_PREPARE_S ? 1 : 0;
  }

  /** True while a recording timer runs (statusinfo's isRecording). */
  recording(): boolean {
    const now = this.nowS();
    return this.timers.some((t) => !t.justplay && this.stateOf(t, now) === 2);
  }

  /** Answers the yes/no message on screen as a viewer would; false when none is waiting. */
  answer(which: 'yes' | 'no'): boolean {
    const q = this.openQuestion();
    if (!q) return false;
    q.answer = which;
    this.lastReply = which === 'yes';
    this.question = undefined;
    return true;
  }

  /** The yes/no message still on screen; one whose timeout passed closes without an answer. */
  private openQuestion(): SimMessage | undefined {
    const q = this.question;
    if (q && q.timeout > 0 && this.o.clock() >= q.at + q.timeout * 1000) this.question = undefined;
    return this.question;
  }

  // ------------------------------------------------------------------ timers

  private timerJson(t: SimTimer): Json {
    const fmt = (s: number): string => new Date(s * 1000).toISOString().slice(0, 16).replace('T', ' ');
    return {
      serviceref: t.serviceref,
      servicename: t.servicename,
      eit: t.eit,
      name: t.name,
      description: t.description,
      descriptionextended: 'N/A',
      disabled: t.disabled ? 1 : 0,
      begin: t.begin,
      end: t.end,
      duration: t.end - t.begin,
      startprepare: t.begin - SIM_TIMER_PREPARE_S,
      justplay: t.justplay ? 1 : 0,
      afterevent: t.afterevent,
      dirname: '/media/hdd/movie/',
      tags: '',
      logentries: [],
      backoff: 0,
      firsttryprepare: true,
      state: this.stateOf(t),
      repeated: 0,
      dontsave: t.dontsave ? 1 : 0,
      cancelled: false,
      toggledisabled: t.disabled ? 0 : 1,
      toggledisabledimg: t.disabled ? 'on' : 'off',
      filename: null,
      nextactivation: null,
      realbegin: fmt(t.begin),
      realend: fmt(t.end),
      asrefs: '',
      vpsplugin_enabled: false,
      vpsplugin_overwrite: false,
      vpsplugin_time: -1,
      always_zap: 0,
      pipzap: -1,
      isAutoTimer: 0,
      allow_duplicate: 1,
      recordingtype: 'normal',
      ice_timer_id: -1,
    };
  }

  private timerlist(): Json {
    return { version: 2, result: true, timers: this.timers.map((t) => this.timerJson(t)) };
  }

  /**
   * RecordTimer.record: the timers that would run at once with the new one, when there are more
   * of them than tuners (the new one first, as enigma2's getSimulTimerList lists it); else none.
   */
  private conflicts(added: SimTimer): SimTimer[] {
    if (added.justplay || added.disabled) return [];
    const now = this.nowS();
    const overlapping = this.timers.filter((t) => !t.justplay && !t.disabled && this.stateOf(t, now) !== 3 && t.begin < added.end && added.begin < t.end);
    return overlapping.length + 1 > this.o.tuners ? [added, ...overlapping] : [];
  }

  /** models/timers.py addTimer: conflict answer with the conflicting timers, else "Timer '…' added". */
  private add(timer: SimTimer): Json {
    const clash = this.conflicts(timer);
    if (clash.length > 0) {
      return {
        result: false,
        message: `Conflicting Timer(s) detected! ${clash.map((t) => t.name).join(' / ')}`,
        conflicts: clash.map((t) => ({ serviceref: t.serviceref, servicename: t.servicename, name: t.name, begin: t.begin, end: t.end })),
      };
    }
    this.timers.push(timer);
    this.timers.sort((a, b) => a.begin - b.begin);
    return { result: true, message: `Timer '${timer.name}' added` };
  }

  private newTimer(ref: string, begin: number, end: number, name: string, description: string, eit: number, extra: Partial<SimTimer> = {}): SimTimer {
    return {
      serviceref: ref, servicename: this.o.findChannel(ref)?.name ?? '', name, description,
      begin, end, eit, justplay: false, disabled: false, dontsave: false, afterevent: 3, ...extra,
    };
  }

  private timeradd(q: Record<string, string>): Json {
    for (const key of ['sRef', 'begin', 'end', 'name']) {
      if (q[key] === undefined) return missing(key);
      if (q[key] === '') return empty(key);
    }
    const begin = Math.floor(Number(q.begin));
    const end = Math.floor(Number(q.end));
    if (!Number.isFinite(begin) || !Number.isFinite(end) || !tryParseServiceRef(q.sRef)) return { result: false, message: `Could not add timer '${q.name}'!` };
    return this.add(this.newTimer(q.sRef, begin, end, q.name, q.description ?? '', Number(q.eit) || 0, {
      justplay: q.justplay === '1', disabled: q.disabled === '1',
    }));
  }

  /** An EPG event of a channel by id, running or to come. */
  private event(ch: SimChannel, id: number): SimEvent | undefined {
    const now = this.nowS();
    // Up to a week ahead, as a box's EIT schedule reaches.
    return channelEvents(ch, now, 7 * 48).find((e) => e.id === id && e.begin_timestamp + e.duration_sec > now);
  }

  private timeraddbyeventid(q: Record<string, string>): Json {
    for (const key of ['sRef', 'eventid']) {
      if (q[key] === undefined) return missing(key);
      if (q[key] === '') return empty(key);
    }
    const id = Number(q.eventid);
    if (!Number.isInteger(id)) return { result: false, message: "The parameter 'eventid' must be a number" };
    const ch = this.o.findChannel(q.sRef);
    const ev = ch ? this.event(ch, id) : undefined;
    if (!ev) return { result: false, message: 'EventId not found' };
    // parseEvent: the event's span widened by the recording margins.
    const begin = ev.begin_timestamp - SIM_TIMER_MARGIN_BEFORE_S;
    const end = ev.begin_timestamp + ev.duration_sec + SIM_TIMER_MARGIN_AFTER_S;
    return this.add(this.newTimer(q.sRef, begin, end, ev.title, ev.shortdesc, ev.id, { justplay: q.justplay === '1' }));
  }

  /** models/timers.py removeTimer; a running timer is aborted (its recording stops) and removed. */
  private timerdelete(q: Record<string, string>): Json {
    for (const key of ['sRef', 'begin', 'end']) {
      if (q[key] === undefined) return missing(key);
      if (q[key] === '') return empty(key);
    }
    const begin = Math.floor(Number(q.begin));
    const end = Math.floor(Number(q.end));
    const eit = q.eit !== undefined ? Number(q.eit) : NaN;
    const key = refKey(q.sRef);
    const i = this.timers.findIndex((t) => refKey(t.serviceref) === key && ((t.eit > 0 && t.eit === eit) || (t.begin === begin && t.end === end)));
    if (i < 0) return { result: false, message: 'No matching Timer found' };
    const [removed] = this.timers.splice(i, 1);
    return { result: true, message: `The timer '${removed.name}' has been deleted successfully` };
  }

  /**
   * models/timers.py recordNow: records the service on screen from now until the current event's
   * end (plus margin), or for 10 hours with `infinite`/`undefinitely` (argument names, as
   * OpenWebIF 2.x checks them). Without an event and not infinite it refuses.
   */
  private recordnow(q: Record<string, string>): Json {
    const infinite = 'infinite' in q || 'undefinitely' in q;
    const { state } = this.o;
    const ch = state.power === 'on' ? this.o.findChannel(state.channelRef) : undefined;
    const now = this.nowS();
    const ev = ch ? channelEvents(ch, now, 1)[0] : undefined;
    if (!ch || (!ev && !infinite)) return { result: false, message: 'No event found! Not recording!' };
    let name = 'instant record';
    let description = '';
    let eit = 0;
    let end = now + SIM_INFINITE_RECORDING_S;
    if (ev) {
      name = ev.title;
      description = ev.shortdesc;
      eit = ev.id;
      if (!infinite) end = ev.begin_timestamp + ev.duration_sec + SIM_TIMER_MARGIN_AFTER_S;
    }
    const timer = this.newTimer(ch.ref, now, end, name, description, eit, { dontsave: true, afterevent: 0 });
    if (this.conflicts(timer).length > 0) return { result: false, message: 'Timer conflict detected! Not recording!' };
    this.timers.push(timer);
    this.timers.sort((a, b) => a.begin - b.begin);
    return {
      result: true,
      message: infinite ? 'Infinite Instant recording started' : 'Instant record for current Event started',
      newtimer: { serviceref: timer.serviceref, servicename: timer.servicename, eit, name, begin: timer.begin, end: timer.end, duration: timer.end - timer.begin },
    };
  }

  // ------------------------------------------------------------------ messages

  /** models/message.py sendMessage: type 0 is a yes/no question that resets the remembered answer. */
  private message(q: Record<string, string>): Json {
    for (const key of ['text', 'type']) {
      if (q[key] === undefined) return missing(key);
      if (q[key] === '') return empty(key);
    }
    if (!/^-?\d+$/.test(q.type.trim())) return { result: false, message: `type ${q.type} is not a number` };
    const type = [0, 1, 2, 3].includes(Number(q.type)) ? Number(q.type) : 1;
    const timeout = q.timeout !== undefined && /^-?\d+$/.test(q.timeout.trim()) ? Number(q.timeout) : -1;
    const shown: SimMessage = { text: q.text, type, timeout, at: this.o.clock() };
    this.messages.push(shown);
    if (type === 0) {
      this.lastReply = null;
      this.question = shown;
    }
    return { result: true, message: 'Message sent successfully!' };
  }

  private messageanswer(): Json {
    this.openQuestion();
    if (this.lastReply === null) return { result: false, message: 'No answer in time' };
    return { result: true, message: this.lastReply ? 'Answer is YES!' : 'Answer is NO!' };
  }
}
