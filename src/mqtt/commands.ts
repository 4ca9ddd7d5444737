/**
 * Commands from MQTT (`<prefix>/<receiver>/<command>/set`, `…/timer/add`, `…/timer/delete`): each
 * payload is checked before anything reaches the box, then carried out through the receiver's
 * control object, like HomeKit's commands. Never throws: the result says what came of it — nothing
 * (done), a sentence for the log and the error topic, the box's timer list after the command, or a
 * yes/no message's answer.
 */
import { ReceiverControl } from '../receiver/control';
import { CommandRefused, isReceiverError } from '../receiver/errors';
import { KeyError, parseKey } from '../receiver/keys';
import { ReceiverMonitor } from '../receiver/monitor';
import { MessageAnswer, MessageSpec, MessageType, Timer, TimerSpec } from '../receiver/types';
import {
  MESSAGE_TIMEOUT_MAX_S, MQTT_COMMAND_MAX_BYTES, MQTT_MESSAGE_TIMEOUT_DEFAULT_S, MQTT_QUESTION_TIMEOUT_DEFAULT_S,
  MQTT_TIMER_NAME_MAX_CHARS,
} from '../settings';
import { ChannelOptions } from './channel-options';
import { CommandName, commandLabel } from './topics';

export interface CommandTarget {
  control: Pick<ReceiverControl,
    | 'powerOn' | 'powerOff' | 'togglePower' | 'deepStandby' | 'reboot' | 'zap' | 'setVolume' | 'volumeUp' | 'volumeDown' | 'setMute' | 'toggleMute' | 'key'
    | 'recordNow' | 'stopRecording' | 'addTimer' | 'deleteTimer' | 'message'>;
  monitor: Pick<ReceiverMonitor, 'refresh' | 'state'>;
  /** The configured bouquets' channels; undefined until loaded. */
  channels(): ChannelOptions | undefined;
  /** Reloads channels and device info (for refresh/set). */
  reload(): void;
}

export interface CommandResult {
  /** Why the command was not carried out, as a sentence; undefined when it was. */
  problem?: string;
  /** The box's timer list after a record or timer command, when the box sent it back. */
  timers?: readonly Timer[];
  /** A yes/no message's answer, with its question. */
  answer?: { question: string; answer: MessageAnswer };
}

const POWER_WORDS = ['ON', 'OFF', 'OFF_FORCE', 'TOGGLE', 'DEEP_STANDBY', 'DEEP_STANDBY_FORCE', 'REBOOT'] as const;
const MESSAGE_TYPES: readonly MessageType[] = ['info', 'warning', 'error', 'yesno'];
/** Unix seconds before this are no timer time (a typo, or milliseconds read as seconds the other way). */
const EARLIEST_TIME_S = Date.UTC(2000, 0, 1) / 1000;
/** Unix seconds after this are milliseconds sent by mistake. */
const LATEST_TIME_S = Date.UTC(2100, 0, 1) / 1000;

class CommandError extends Error {}

/** User input quoted for a message: short, escaped, never a wall of bytes. */
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** The payload as trimmed text; a JSON string ("\"ON\"") is unwrapped. Rejects binary junk. */
export function payloadText(payload: Buffer): string {
  if (payload.length > MQTT_COMMAND_MAX_BYTES) throw new CommandError(`the payload is ${payload.length} bytes; commands are at most ${MQTT_COMMAND_MAX_BYTES}`);
  const text = payload.toString('utf8');
  // eslint-disable-next-line no-control-regex
  if (text.includes('\uFFFD') || /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) {
    throw new CommandError('the payload is not text');
  }
  let value = text.trim();
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'string') value = parsed.trim();
    } catch {
      // Not JSON after all: take the text as it is.
    }
  }
  return value;
}

function onOff(text: string, what: string): boolean | 'TOGGLE' {
  const word = text.toUpperCase();
  if (word === 'ON' || word === 'TRUE' || word === '1') return true;
  if (word === 'OFF' || word === 'FALSE' || word === '0') return false;
  if (word === 'TOGGLE') return 'TOGGLE';
  throw new CommandError(`${quote(text)} is not ON, OFF or TOGGLE for ${what}`);
}

/** A JSON object payload, with only the keys `allowed`; a sentence naming what is wrong otherwise. */
function jsonObject(text: string, allowed: readonly string[], example: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CommandError(`the payload is not JSON; send e.g. ${example}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CommandError(`the payload is not a JSON object; send e.g. ${example}`);
  const unknown = Object.keys(parsed).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new CommandError(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map(quote).join(', ')}; allowed are ${allowed.join(', ')}`);
  return parsed as Record<string, unknown>;
}

/** An EPG event id: a positive whole number (as a number or digits). */
function eventIdOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,10}$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n > 0 && n <= 0xffffffff ? n : undefined;
}

/** A timer time: ISO 8601 (an offset is best; without one it is this machine's local time) or Unix seconds. */
function timeOf(value: unknown, key: string): Date {
  let ms = NaN;
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()))) {
    const s = Number(value);
    if (s >= EARLIEST_TIME_S && s < LATEST_TIME_S) ms = s * 1000;
  } else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value.trim())) {
    ms = Date.parse(value.trim());
  }
  if (!Number.isFinite(ms)) {
    throw new CommandError(`"${key}" is not a time; give ISO 8601 like "2025-06-01T20:15:00+02:00" or Unix seconds`);
  }
  return new Date(ms);
}

/** A channel as the timer wants it: a listed channel's reference when the text names one, else the text. */
function timerChannel(target: CommandTarget, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new CommandError('"channel" must be a channel name, service reference or short id');
  return target.channels()?.find(value.trim())?.ref.ref ?? value.trim();
}

function timerSpec(target: CommandTarget, text: string): TimerSpec {
  const example = '{"channel":"ZDF HD","begin":"2025-06-01T20:15:00+02:00","end":"2025-06-01T21:45:00+02:00","name":"Film"} or {"eventId":12345}';
  if (text === '') throw new CommandError(`the payload is empty; send e.g. ${example}`);
  const o = jsonObject(text, ['channel', 'begin', 'end', 'name', 'eventId'], example);
  if (o.eventId !== undefined) {
    const eventId = eventIdOf(o.eventId);
    if (eventId === undefined) throw new CommandError('"eventId" must be the EPG event\'s id, a positive whole number');
    if (o.begin !== undefined || o.end !== undefined || o.name !== undefined) throw new CommandError('a timer from an EPG event takes its times and name from the event: give "eventId" (and "channel") only');
    return o.channel === undefined ? { eventId } : { eventId, channel: timerChannel(target, o.channel) };
  }
  const channel = timerChannel(target, o.channel);
  if (o.begin === undefined || o.end === undefined) throw new CommandError('a timer needs "begin" and "end" (or an "eventId")');
  const begin = timeOf(o.begin, 'begin');
  const end = timeOf(o.end, 'end');
  if (end.getTime() <= begin.getTime()) throw new CommandError('"end" must be after "begin"');
  if (end.getTime() <= Date.now()) throw new CommandError('"end" is in the past');
  if (o.name !== undefined && typeof o.name !== 'string') throw new CommandError('"name" must be text');
  const name = typeof o.name === 'string' ? o.name.trim().slice(0, MQTT_TIMER_NAME_MAX_CHARS) : '';
  return name ? { channel, begin, end, name } : { channel, begin, end };
}

function messageSpec(text: string): MessageSpec {
  if (text === '') throw new CommandError('the payload is empty; send the text to show, or {"text":"…","type":"yesno","timeout":30}');
  if (!text.startsWith('{')) return { text, type: 'info', timeoutS: MQTT_MESSAGE_TIMEOUT_DEFAULT_S };
  const o = jsonObject(text, ['text', 'type', 'timeout'], '{"text":"Dinner is ready","type":"info","timeout":10}');
  if (typeof o.text !== 'string' || o.text.trim() === '') throw new CommandError('"text" must be the text to show');
  const type = o.type ?? 'info';
  if (typeof type !== 'string' || !(MESSAGE_TYPES as readonly string[]).includes(type)) throw new CommandError(`"type" must be one of ${MESSAGE_TYPES.join(', ')}`);
  const timeoutS = o.timeout ?? (type === 'yesno' ? MQTT_QUESTION_TIMEOUT_DEFAULT_S : MQTT_MESSAGE_TIMEOUT_DEFAULT_S);
  if (typeof timeoutS !== 'number' || !Number.isInteger(timeoutS) || timeoutS < 1 || timeoutS > MESSAGE_TIMEOUT_MAX_S) {
    throw new CommandError(`"timeout" must be whole seconds from 1 to ${MESSAGE_TIMEOUT_MAX_S}`);
  }
  return { text: o.text.trim(), type: type as MessageType, timeoutS };
}

async function execute(target: CommandTarget, command: CommandName, text: string): Promise<Omit<CommandResult, 'problem'>> {
  const { control } = target;
  switch (command) {
    case 'power': {
      const word = text.toUpperCase().replace(/[\s-]+/g, '_');
      if (word === 'ON') await control.powerOn();
      else if (word === 'OFF' || word === 'STANDBY') await control.powerOff();
      else if (word === 'OFF_FORCE') await control.powerOff({ force: true });
      // Not the box's own toggle: that would skip the standby guard and cannot wake a box in deep
      // standby. togglePower polls first, so a TOGGLE right after ON sees the box on.
      else if (word === 'TOGGLE') await control.togglePower();
      else if (word === 'DEEP_STANDBY' || word === 'DEEPSTANDBY') await control.deepStandby();
      else if (word === 'DEEP_STANDBY_FORCE') await control.deepStandby({ force: true });
      else if (word === 'REBOOT') await control.reboot();
      else if (text === '') throw new CommandError(`the payload is empty; send one of ${POWER_WORDS.join(', ')}`);
      else throw new CommandError(`${quote(text)} is not one of ${POWER_WORDS.join(', ')}`);
      return {};
    }
    case 'channel': {
      if (text === '') throw new CommandError('the payload is empty; send a channel name, service reference or short id');
      const channels = target.channels();
      if (!channels || channels.options.length === 0) throw new CommandError('the channel list is not loaded yet (is the receiver reachable?)');
      const channel = channels.find(text);
      if (!channel) throw new CommandError(`no channel ${quote(text)} in the configured bouquets`);
      // A box that does not answer may be in deep standby: waking it takes Wake-on-LAN, which zap cannot do.
      await control.zap(channel.ref);
      return {};
    }
    case 'volume': {
      const word = text.toUpperCase();
      if (word === 'UP' || word === '+') await control.volumeUp();
      else if (word === 'DOWN' || word === '-') await control.volumeDown();
      else {
        const level = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
        if (!(level >= 0 && level <= 100)) throw new CommandError(`${quote(text)} is not a volume from 0 to 100 (or UP, DOWN)`);
        await control.setVolume(level);
      }
      return {};
    }
    case 'mute': {
      const want = onOff(text, 'mute');
      await (want === 'TOGGLE' ? control.toggleMute() : control.setMute(want));
      return {};
    }
    case 'key': {
      let code: number;
      try {
        code = parseKey(text);
      } catch (error) {
        if (error instanceof KeyError) throw new CommandError(error.message);
        throw error;
      }
      await control.key(code);
      return {};
    }
    case 'refresh':
      target.reload();
      await target.monitor.refresh();
      return {};
    case 'record': {
      const word = text.toUpperCase();
      if (word === 'NOW') return { timers: await control.recordNow() };
      if (word === 'STOP') {
        const after: unknown = await control.stopRecording();
        return Array.isArray(after) ? { timers: after as Timer[] } : {};
      }
      const eventId = eventIdOf(text);
      if (eventId === undefined) throw new CommandError(`${quote(text)} is not NOW, STOP or an EPG event id`);
      return { timers: await control.addTimer({ eventId }) };
    }
    case 'timer/add':
      return { timers: await control.addTimer(timerSpec(target, text)) };
    case 'timer/delete':
      // The id as …/timers lists it: `<begin>_<end>_<channel id>`.
      if (!/^\d+_\d+_[0-9a-z_]+$/i.test(text)) throw new CommandError(`${quote(text)} is not a timer id; send the "id" of a timer as the timers topic lists it`);
      return { timers: await control.deleteTimer(text) };
    case 'message': {
      const spec = messageSpec(text);
      const answer = await control.message(spec);
      return spec.type === 'yesno' && answer ? { answer: { question: spec.text, answer } } : {};
    }
  }
}

/** Runs one command; resolves with what came of it, never rejects. */
export async function runCommand(target: CommandTarget, command: CommandName, payload: Buffer): Promise<CommandResult> {
  const label = commandLabel(command);
  try {
    return await execute(target, command, payloadText(payload));
  } catch (error) {
    if (error instanceof CommandError) return { problem: `${label} ignored: ${error.message}` };
    // Refused on purpose (standby while proxy viewers watch): the sentence says why and what overrides it.
    if (error instanceof CommandRefused) return { problem: `${label} refused: ${error.message}` };
    // The box said no and why (a timer conflict, an unknown timer): its own words.
    if (isReceiverError(error, 'rejected') && error.boxMessage) return { problem: `${label} refused by the receiver: ${error.boxMessage}` };
    // Checked by the receiver side before anything was sent (no such timer, standby for a recording).
    if (isReceiverError(error, 'invalid')) return { problem: `${label} ignored: ${error.message.replace(/\.$/, '')}` };
    return { problem: `${label} ignored: the receiver did not do it: ${(error as Error).message}` };
  }
}
