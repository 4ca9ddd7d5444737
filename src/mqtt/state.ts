/**
 * What the receiver and its streams look like on MQTT: the receiver's state as one JSON document
 * plus one plain-text topic per field, its timers, the tuned channel's logo URL, and each stream
 * session (and their sum) as JSON. Pure functions, so the payloads are easy to test and the bridge
 * only decides when to send them.
 */
import { ReceiverState } from '../receiver/monitor';
import { channelId, encodeServiceRef, tryParseServiceRef } from '../receiver/service-ref';
import { Programme, Timer } from '../receiver/types';
import { MQTT_BITRATE_STEP_BPS, MQTT_HA_STATE_MAX_CHARS } from '../settings';
import { SessionStatus } from '../stream/session';
import { StateField } from './topics';

export interface ProgrammePayload {
  title: string;
  description: string;
  /** ISO 8601 with offset (UTC, `+00:00`), null when the box did not say. */
  begin: string | null;
  end: string | null;
}

export interface StatePayload {
  /** Whether the box answered its last poll. */
  reachable: boolean;
  /** null until the box has answered once. */
  power: 'ON' | 'OFF' | null;
  /** `name` is the option shown in Home Assistant's channel select; `listed` = one of the configured bouquets' channels. */
  channel: { name: string; ref: string; id: string; listed: boolean } | null;
  volume: number;
  muted: boolean;
  recording: boolean;
  /** The box's own streaming flag (any client of its stream server). */
  streaming: boolean;
  now: ProgrammePayload | null;
  next: ProgrammePayload | null;
}

/** How a tuned channel is named on MQTT: its select option when listed, else the box's name. */
export type ChannelLabel = (ref: string, boxName: string) => { name: string; listed: boolean };

const onOff = (value: boolean): 'ON' | 'OFF' => (value ? 'ON' : 'OFF');

/**
 * ISO 8601 in UTC with an explicit `+00:00` offset and whole seconds: what Home Assistant's
 * timestamp sensors take as they are, and what a template's `as_datetime` reads.
 */
export function isoTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

function programmePayload(p: Programme | null): ProgrammePayload | null {
  if (!p) return null;
  return { title: p.title, description: p.description, begin: p.begin ? isoTime(p.begin) : null, end: p.end ? isoTime(p.end) : null };
}

function shortId(ref: string): string {
  const parsed = tryParseServiceRef(ref);
  return parsed ? channelId(parsed) : '';
}

export function statePayload(state: ReceiverState, label: ChannelLabel): StatePayload {
  const { channel } = state;
  const shown = channel ? label(channel.ref, channel.name) : undefined;
  return {
    reachable: state.reachable,
    // A box that does not answer is off as far as anyone can tell (deep standby, unplugged): the
    // power switch shows OFF, so turning it on (Wake-on-LAN) is the obvious next step.
    power: state.power === 'unknown' ? null : onOff(state.reachable && state.power === 'on'),
    channel: channel && shown ? { name: shown.name, ref: channel.ref, id: shortId(channel.ref), listed: shown.listed } : null,
    volume: state.volume,
    muted: state.muted,
    recording: state.recording,
    streaming: state.streaming,
    now: programmePayload(state.now),
    next: programmePayload(state.next),
  };
}

/** Home Assistant refuses longer sensor states. */
function stateText(text: string): string {
  return text.length > MQTT_HA_STATE_MAX_CHARS ? `${text.slice(0, MQTT_HA_STATE_MAX_CHARS - 1)}…` : text;
}

/**
 * The plain-text field topics. Fields are left out until the box has answered once (a volume of 0
 * before that would be a lie); '' clears a topic (no channel in standby, no programme).
 */
export function fieldPayloads(payload: StatePayload): Partial<Record<StateField, string>> {
  const fields: Partial<Record<StateField, string>> = { reachable: String(payload.reachable) };
  if (payload.power === null) return fields;
  const { now, next } = payload;
  return {
    ...fields,
    power: payload.power,
    channel: payload.channel?.name ?? '',
    channel_ref: payload.channel?.ref ?? '',
    volume: String(payload.volume),
    mute: onOff(payload.muted),
    recording: onOff(payload.recording),
    streaming: onOff(payload.streaming),
    programme: now ? stateText(now.title) : '',
    programme_next: next ? stateText(next.title) : '',
    // Always a JSON object: it is Home Assistant's attributes topic, which rejects anything else.
    programme_info: JSON.stringify({
      title: now?.title ?? null, description: now?.description ?? null, begin: now?.begin ?? null, end: now?.end ?? null,
      next_title: next?.title ?? null, next_description: next?.description ?? null, next_begin: next?.begin ?? null, next_end: next?.end ?? null,
    }),
  };
}

/** One timer on `…/timers`. */
export interface TimerPayload {
  /** What `timer/delete` takes. */
  id: string;
  name: string;
  channel: string;
  /** ISO 8601 with offset. */
  begin: string;
  end: string;
  state: Timer['state'];
}

export function timersPayload(timers: readonly Timer[]): TimerPayload[] {
  return [...timers]
    .sort((a, b) => a.begin.getTime() - b.begin.getTime() || a.id.localeCompare(b.id))
    .map((t) => ({ id: t.id, name: t.name, channel: t.channel, begin: isoTime(t.begin), end: isoTime(t.end), state: t.state }));
}

/** The proxy's logo URL of a channel (the playlist's `tvg-logo` form). */
export function piconUrl(proxyBase: string, ref: string): string {
  return `${proxyBase.replace(/\/+$/, '')}/picon/${encodeServiceRef(ref)}.png`;
}

export interface StreamPayload {
  channel: { name: string; ref: string; id: string };
  state: SessionStatus['state'];
  clients: number;
  /** 'passthrough' or 'transcode'; null until the stream's programme table was read. */
  mode: SessionStatus['mode'];
  codecs_in: string[];
  codecs_out: string[];
  /** bit/s, rounded to MQTT_BITRATE_STEP_BPS. */
  bitrate_in: number;
  bitrate_out: number;
  started_at: string;
  restarts: number;
  last_error: string | null;
}

const roundRate = (bps: number): number => Math.round(bps / MQTT_BITRATE_STEP_BPS) * MQTT_BITRATE_STEP_BPS;

export function streamPayload(s: SessionStatus): StreamPayload {
  return {
    channel: { name: s.channel.name, ref: s.channel.ref, id: s.id },
    state: s.state,
    clients: s.clients,
    mode: s.mode,
    codecs_in: s.codecsIn,
    codecs_out: s.codecsOut,
    bitrate_in: roundRate(s.bitrateIn),
    bitrate_out: roundRate(s.bitrateOut),
    started_at: s.startedAt,
    restarts: s.restarts,
    last_error: s.lastError,
  };
}

export interface StreamsPayload {
  /** Active sessions (channels being streamed). */
  sessions: number;
  /** Viewers over all sessions. */
  clients: number;
  /** bit/s over all sessions. */
  bitrate_in: number;
  bitrate_out: number;
  /** Short ids of the streamed channels (their topics are `streams/<id>`). */
  channels: string[];
}

export function streamsPayload(streams: StreamPayload[]): StreamsPayload {
  return {
    sessions: streams.length,
    clients: streams.reduce((n, s) => n + s.clients, 0),
    bitrate_in: streams.reduce((n, s) => n + s.bitrate_in, 0),
    bitrate_out: streams.reduce((n, s) => n + s.bitrate_out, 0),
    channels: streams.map((s) => s.channel.id),
  };
}
