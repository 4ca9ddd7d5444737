/**
 * OpenWebIF data in two forms: the raw JSON shapes as a receiver sends them (`Raw*`, quirks
 * included: string booleans, optional keys, HTML-escaped EPG text) and the clean domain types the
 * rest of the app uses. `validate.ts` turns the one into the other.
 */
import type { ServiceRef } from './service-ref';

// ---------------------------------------------------------------------------------------------
// Raw answers (docs/openwebif-api.md, "Endpoints")
// ---------------------------------------------------------------------------------------------

/** OpenWebIF writes some booleans as the strings "true"/"false". */
export type StringBool = 'true' | 'false';

/** Every `/api` answer that carries a verdict. */
export interface RawResult {
  result?: boolean;
  message?: string;
}

/** `GET /api/statusinfo`. In standby the current-service ref and station are absent. */
export interface RawStatusInfo {
  volume: number;
  muted: boolean;
  inStandby: StringBool;
  isRecording: StringBool;
  isStreaming: StringBool;
  currservice_serviceref?: string;
  currservice_station?: string;
  currservice_name?: string;
  currservice_begin_timestamp?: number | string;
  currservice_end_timestamp?: number | string;
  currservice_description?: string;
  Streaming_list?: string;
}

export interface RawTuner {
  name: string;
  type: string;
  rec?: string;
  live?: string;
  stream?: string;
}

export interface RawIface {
  name?: string;
  mac?: string | null;
  ip?: string;
}

/** `GET /api/deviceinfo`. */
export interface RawDeviceInfo {
  brand?: string;
  model: string;
  boxtype?: string;
  imagedistro?: string;
  imagever?: string;
  webifver?: string;
  tuners: RawTuner[];
  ifaces?: RawIface[];
}

/** `GET /api/bouquets?stype=tv`: `[ref, name]` pairs. */
export interface RawBouquets {
  bouquets: [string, string][];
}

export interface RawService {
  pos?: number;
  servicename: string;
  servicereference: string;
  program?: number;
}

/** `GET /api/getservices?sRef=…`. */
export interface RawServices extends RawResult {
  processingtime?: string;
  pos?: number;
  services: RawService[];
}

/** An EPG event as `/api/getcurrent`, `/api/epgnow` and `/api/epgnext` send it. */
export interface RawEpgEvent {
  id?: number;
  begin_timestamp: number;
  duration_sec: number;
  title: string;
  shortdesc?: string;
  longdesc?: string;
  sref?: string;
  sname?: string;
  now_timestamp?: number;
  remaining?: number;
  genre?: string;
  genreid?: number;
}

/** `GET /api/getcurrent`. `now`/`next` may be empty objects when the channel has no EPG. */
export interface RawCurrent {
  info: { name?: string; provider?: string; ref?: string; [key: string]: unknown };
  now?: RawEpgEvent | Record<string, never>;
  next?: RawEpgEvent | Record<string, never>;
}

/** `GET /api/epgnow?bRef=…` and `/api/epgnext?bRef=…`. */
export interface RawEpgList extends RawResult {
  events: RawEpgEvent[];
}

/** `GET /api/vol?set=…`. */
export interface RawVolume extends RawResult {
  current: number;
  ismute: boolean;
}

/** `GET /api/powerstate?newstate=N`: `instandby` is the state BEFORE the change. */
export interface RawPowerState extends RawResult {
  instandby: boolean;
}

// ---------------------------------------------------------------------------------------------
// Domain types
// ---------------------------------------------------------------------------------------------

export interface Tuner {
  name: string;
  type: string;
}

export interface DeviceInfo {
  brand: string;
  model: string;
  boxtype: string;
  imageDistro: string;
  imageVersion: string;
  webifVersion: string;
  tuners: Tuner[];
  tunerCount: number;
  /** First non-empty interface MAC, lower case; null when the box reports none. */
  mac: string | null;
  /** A stable identity for the box: the MAC when known, else the configured host. */
  identity: string;
}

export interface Bouquet {
  /** The bouquet reference exactly as the box sent it (it wants it back unchanged). */
  ref: string;
  name: string;
}

/** One playable entry of a bouquet as the box lists it (the raw answer; see receiver/channels.ts for the model). */
export interface BouquetService {
  ref: ServiceRef;
  /** The name as the box sent it (getservices names are not HTML-escaped). */
  name: string;
  /** The service id in decimal, as `#EXTVLCOPT:program=` and the JSON `program` use it. */
  program: number;
  /** The box's channel number in its bouquet (`pos`); 1-based index of playable entries if absent. */
  position: number;
}

export interface Programme {
  title: string;
  begin: Date | null;
  end: Date | null;
  description: string;
}

export interface ReceiverStatus {
  inStandby: boolean;
  volume: number;
  muted: boolean;
  isRecording: boolean;
  isStreaming: boolean;
  /** Absent in standby, and when the box tunes nothing it can name. */
  channel?: { ref: ServiceRef; name: string };
  /** Absent in standby and when the channel has no EPG. */
  programme?: Programme;
}

export interface EpgEvent {
  id: number;
  ref: ServiceRef;
  channelName: string;
  title: string;
  shortDescription: string;
  longDescription: string;
  /** null for channels without EPG (the box sends `begin_timestamp: 0`, `title: "N/A"`). */
  begin: Date | null;
  durationSec: number;
  genre: string;
}

/** `getcurrent`: the tuned channel and its now/next events (null when the channel has no EPG). */
export interface CurrentService {
  channel?: { ref: ServiceRef; name: string; provider: string };
  now: EpgEvent | null;
  next: EpgEvent | null;
}

export interface VolumeState {
  volume: number;
  muted: boolean;
}

/** What `/web/stream.m3u` says about where a channel streams from. */
export interface StreamTarget {
  /** The stream URL with any user:password the box put into it removed. */
  url: string;
  /** Backend port: 8001 for the stream server, 17999 for the descrambling relay. */
  port: number;
  /** The service id in decimal (`#EXTVLCOPT:program=`), null when the playlist has none. */
  program: number | null;
}

/** `/api/powerstate?newstate=N` values. */
export const POWER_STATES = {
  toggle: 0,
  deepStandby: 1,
  reboot: 2,
  restartGui: 3,
  wake: 4,
  standby: 5,
} as const;

export type PowerState = keyof typeof POWER_STATES;

const POWER_STATE_NAMES = Object.fromEntries(
  Object.entries(POWER_STATES).map(([name, code]) => [code, name]),
) as Record<number, PowerState>;

/** The name of a `newstate` number, undefined for numbers OpenWebIF does not know. */
export function powerStateName(code: number): PowerState | undefined {
  return POWER_STATE_NAMES[code];
}

/** A recording timer as the box lists it (`/api/timerlist`). */
export interface Timer {
  /**
   * Stable id for commands (`timer/delete`): `<begin>_<end>_<channel id>` (begin and end in Unix
   * seconds). Enigma2 itself identifies a timer by reference, begin and end.
   */
  id: string;
  name: string;
  /** The channel's name as the box gives it. */
  channel: string;
  /** The service reference as the box writes it (it wants it back unchanged). */
  ref: string;
  begin: Date;
  end: Date;
  /** Enigma2's timer state (0 waiting, 1 preparing, 2 running, 3 ended; `disabled` set). */
  state: 'waiting' | 'preparing' | 'recording' | 'done' | 'disabled';
  /** The EPG event it records, when it was made from one. */
  eventId?: number;
  /** An instant recording (record now; the box marks these `dontsave`): what `stopRecording` stops. */
  instant?: boolean;
}

/** A timer to add: a channel (name, reference or short id) with a time span, or an EPG event. */
export type TimerSpec =
  | { channel: string; begin: Date; end: Date; name?: string }
  | { channel?: string; eventId: number };

export type MessageType = 'info' | 'warning' | 'error' | 'yesno';

/** A message shown on the TV (`/api/message`). */
export interface MessageSpec {
  text: string;
  type: MessageType;
  /** Seconds on screen (a yes/no question waits this long for an answer). */
  timeoutS: number;
}

/** The viewer's answer to a yes/no message; 'none' when the time ran out. */
export type MessageAnswer = 'yes' | 'no' | 'none';
