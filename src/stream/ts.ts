/**
 * A small MPEG-TS reader: packet headers, PSI section reassembly, PAT and PMT, stream
 * classification (codec, language, copy or transcode) and keyframe detection. It is all the proxy
 * needs to decide, before ffmpeg starts, whether a channel needs its audio transcoded and where a
 * joining client may start. Pure functions over Buffers; no I/O.
 */
import { PSI_SECTION_MAX_BYTES, TS_PACKET_SIZE, TS_SYNC_BYTE } from '../settings';

export type StreamKind = 'video' | 'audio' | 'subtitle' | 'teletext' | 'data';
export type Codec =
  | 'mpeg1video' | 'mpeg2video' | 'h264' | 'hevc'
  | 'mp2' | 'aac' | 'aac_latm' | 'ac3' | 'eac3'
  | 'dvb_subtitle' | 'teletext' | 'data' | 'unknown';

export interface Descriptor {
  tag: number;
  data: Buffer;
}

export interface ElementaryStream {
  pid: number;
  streamType: number;
  kind: StreamKind;
  codec: Codec;
  /** ISO 639 language as broadcast (e.g. "deu", "qaa"): from descriptor 0x0A, or the teletext or
   * subtitling descriptor, which carry their own; '' when absent. */
  language: string;
  /** True when Apple devices and browsers need this audio track re-encoded to AAC-LC. */
  needsTranscode: boolean;
  descriptors: Descriptor[];
}

export interface Pmt {
  program: number;
  pcrPid: number;
  streams: ElementaryStream[];
}

export interface PatEntry {
  program: number;
  pmtPid: number;
}

export interface PacketHeader {
  pid: number;
  payloadUnitStart: boolean;
  scrambled: boolean;
  continuity: number;
  /** Adaptation field random_access_indicator: the broadcaster marks keyframes with it. */
  randomAccess: boolean;
  /** Offset of the payload inside the packet; TS_PACKET_SIZE when there is none. */
  payloadOffset: number;
}

export const PID_PAT = 0x0000;
export const PID_NULL = 0x1fff;

const DESCRIPTOR_LANGUAGE = 0x0a;
const DESCRIPTOR_AC3 = 0x6a;
const DESCRIPTOR_EAC3 = 0x7a;
const DESCRIPTOR_AAC = 0x7c;
const DESCRIPTOR_TELETEXT = 0x56;
const DESCRIPTOR_SUBTITLE = 0x59;
const DESCRIPTOR_REGISTRATION = 0x05;

/**
 * Reads the 4-byte header (and adaptation field flags) of the packet at `offset`. It allocates an
 * object: the per-packet loops of the proxy read single fields with the functions below instead.
 */
export function readPacketHeader(buf: Buffer, offset = 0): PacketHeader | undefined {
  if (offset + TS_PACKET_SIZE > buf.length || buf[offset] !== TS_SYNC_BYTE) return undefined;
  const b1 = buf[offset + 1];
  const b3 = buf[offset + 3];
  return {
    pid: packetPid(buf, offset),
    payloadUnitStart: (b1 & 0x40) !== 0,
    scrambled: (b3 & 0xc0) !== 0,
    continuity: b3 & 0x0f,
    randomAccess: packetRandomAccess(buf, offset),
    payloadOffset: packetPayloadOffset(buf, offset),
  };
}

// Field readers for a whole packet at `offset` (the caller checked the sync byte and the length):
// plain reads from the buffer, no object and no subarray, so they cost nothing per packet.

export function packetPid(buf: Buffer, offset: number): number {
  return ((buf[offset + 1] & 0x1f) << 8) | buf[offset + 2];
}

export function packetUnitStart(buf: Buffer, offset: number): boolean {
  return (buf[offset + 1] & 0x40) !== 0;
}

/** Adaptation field random_access_indicator: the broadcaster marks keyframes with it. */
export function packetRandomAccess(buf: Buffer, offset: number): boolean {
  return (buf[offset + 3] & 0x20) !== 0 && buf[offset + 4] > 0 && (buf[offset + 5] & 0x40) !== 0;
}

/** Offset of the payload inside the packet; TS_PACKET_SIZE when there is none. */
export function packetPayloadOffset(buf: Buffer, offset: number): number {
  const b3 = buf[offset + 3];
  if ((b3 & 0x10) === 0) return TS_PACKET_SIZE;
  const payload = (b3 & 0x20) !== 0 ? 5 + buf[offset + 4] : 4;
  return payload < TS_PACKET_SIZE ? payload : TS_PACKET_SIZE;
}

/**
 * Does the packet at `offset` start a keyframe of the video on `videoPid`? Read in place; see
 * payloadHasKeyframe for what counts. The caller checked the sync byte and the length.
 */
export function startsKeyframeAt(buf: Buffer, offset: number, videoPid: number, codec: Codec): boolean {
  // Scrambled payload (the relay's first few hundred KB) is noise, never a keyframe.
  if (!packetUnitStart(buf, offset) || packetPid(buf, offset) !== videoPid || (buf[offset + 3] & 0xc0) !== 0) return false;
  if (packetRandomAccess(buf, offset)) return true;
  return bytesHaveKeyframe(codec, buf, offset + packetPayloadOffset(buf, offset), offset + TS_PACKET_SIZE);
}

/** Finds the first offset where three packets in a row start with the sync byte (-1 if none). */
export function findSync(buf: Buffer, from = 0): number {
  for (let i = from; i + TS_PACKET_SIZE <= buf.length; i++) {
    if (buf[i] !== TS_SYNC_BYTE) continue;
    const second = i + TS_PACKET_SIZE;
    const third = second + TS_PACKET_SIZE;
    if ((second >= buf.length || buf[second] === TS_SYNC_BYTE) && (third >= buf.length || buf[third] === TS_SYNC_BYTE)) {
      return i;
    }
  }
  return -1;
}

/**
 * Reassembles PSI sections (PAT, PMT) of one PID across packets. Sections may start anywhere in a
 * payload (pointer_field) and span several packets; only complete sections are returned. A section
 * that declares more than `maxBytes` cannot be a PAT or PMT: it is dropped, together with the
 * packets up to the next section start, so what is held never exceeds `maxBytes`.
 */
export class SectionAssembler {
  private pending: Buffer | undefined;

  constructor(private readonly maxBytes = PSI_SECTION_MAX_BYTES) {}

  /** True while a section is under way (more packets of it are expected). */
  get assembling(): boolean {
    return this.pending !== undefined;
  }

  /** Feeds one packet's payload; returns the sections it completed. */
  push(payload: Buffer, payloadUnitStart: boolean): Buffer[] {
    const done: Buffer[] = [];
    let data = payload;
    if (payloadUnitStart) {
      const pointer = data[0] ?? 0;
      if (this.pending && pointer > 0) this.collect(Buffer.concat([this.pending, data.subarray(1, 1 + pointer)]), done, false);
      this.pending = undefined;
      data = data.subarray(1 + pointer);
      this.collect(data, done, true);
    } else if (this.pending) {
      const joined = Buffer.concat([this.pending, data]);
      this.pending = undefined;
      this.collect(joined, done, false);
    }
    return done;
  }

  /**
   * Splits complete sections off `data`; keeps an incomplete tail for the next packet. Only a
   * payload_unit_start packet may begin new sections (`starts`); after a continued section ends,
   * the rest of that packet is stuffing, whatever its bytes say.
   */
  private collect(data: Buffer, done: Buffer[], starts: boolean): void {
    let rest = data;
    let first = true;
    while (rest.length >= 3 && rest[0] !== 0xff && (starts || first)) {
      first = false;
      const length = 3 + (((rest[1] & 0x0f) << 8) | rest[2]);
      if (length > this.maxBytes) return;
      if (rest.length < length) {
        this.pending = Buffer.from(rest);
        return;
      }
      done.push(rest.subarray(0, length));
      rest = rest.subarray(length);
    }
    if (starts && rest.length > 0 && rest.length < 3 && rest[0] !== 0xff) this.pending = Buffer.from(rest);
  }
}

/** PAT section → programs (program 0, the NIT pointer, is left out). */
export function parsePat(section: Buffer): PatEntry[] {
  if (section[0] !== 0x00 || section.length < 12) return [];
  const end = section.length - 4; // CRC
  const entries: PatEntry[] = [];
  for (let i = 8; i + 4 <= end; i += 4) {
    const program = section.readUInt16BE(i);
    const pid = section.readUInt16BE(i + 2) & 0x1fff;
    if (program !== 0) entries.push({ program, pmtPid: pid });
  }
  return entries;
}

/** PMT section → program, PCR PID and its classified elementary streams. */
export function parsePmt(section: Buffer): Pmt | undefined {
  if (section[0] !== 0x02 || section.length < 16) return undefined;
  const end = section.length - 4;
  const program = section.readUInt16BE(3);
  const pcrPid = section.readUInt16BE(8) & 0x1fff;
  const programInfoLength = section.readUInt16BE(10) & 0x0fff;
  const streams: ElementaryStream[] = [];
  for (let i = 12 + programInfoLength; i + 5 <= end;) {
    const streamType = section[i];
    const pid = section.readUInt16BE(i + 1) & 0x1fff;
    const infoLength = section.readUInt16BE(i + 3) & 0x0fff;
    const descriptors = parseDescriptors(section.subarray(i + 5, Math.min(i + 5 + infoLength, end)));
    streams.push(classifyStream(pid, streamType, descriptors));
    i += 5 + infoLength;
  }
  return { program, pcrPid, streams };
}

function parseDescriptors(data: Buffer): Descriptor[] {
  const out: Descriptor[] = [];
  for (let i = 0; i + 2 <= data.length;) {
    const length = data[i + 1];
    out.push({ tag: data[i], data: data.subarray(i + 2, i + 2 + length) });
    i += 2 + length;
  }
  return out;
}

/** Maps stream_type and descriptors to a codec as streaming.md's table says (DVB and ATSC forms). */
export function classifyStream(pid: number, streamType: number, descriptors: Descriptor[]): ElementaryStream {
  const has = (tag: number): boolean => descriptors.some((d) => d.tag === tag);
  const registration = descriptors.find((d) => d.tag === DESCRIPTOR_REGISTRATION)?.data.toString('latin1') ?? '';
  const languageDescriptor = descriptors.find((d) => d.tag === DESCRIPTOR_LANGUAGE)
    ?? descriptors.find((d) => d.tag === DESCRIPTOR_TELETEXT || d.tag === DESCRIPTOR_SUBTITLE);
  const language = languageDescriptor && languageDescriptor.data.length >= 3
    ? languageDescriptor.data.subarray(0, 3).toString('latin1').replace(/[^\x20-\x7e]/g, '')
    : '';

  let codec: Codec = 'unknown';
  switch (streamType) {
    case 0x01: codec = 'mpeg1video'; break;
    case 0x02: codec = 'mpeg2video'; break;
    case 0x1b: codec = 'h264'; break;
    case 0x24: codec = 'hevc'; break;
    case 0x03: case 0x04: codec = 'mp2'; break;
    case 0x0f: codec = 'aac'; break;
    case 0x11: codec = 'aac_latm'; break;
    case 0x81: codec = 'ac3'; break;
    case 0x87: codec = 'eac3'; break;
    case 0x05: case 0x0b: case 0x0c: case 0x0d: case 0x15: codec = 'data'; break;
    case 0x06:
      if (has(DESCRIPTOR_AC3) || registration === 'AC-3') codec = 'ac3';
      else if (has(DESCRIPTOR_EAC3) || registration === 'EAC3') codec = 'eac3';
      // AAC in a private PES: the framing (ADTS or LATM) is not signalled, so treat it as LATM.
      else if (has(DESCRIPTOR_AAC)) codec = 'aac_latm';
      else if (has(DESCRIPTOR_SUBTITLE)) codec = 'dvb_subtitle';
      else if (has(DESCRIPTOR_TELETEXT)) codec = 'teletext';
      else codec = 'data';
      break;
  }
  const kind: StreamKind =
    codec === 'mpeg1video' || codec === 'mpeg2video' || codec === 'h264' || codec === 'hevc' ? 'video'
      : codec === 'mp2' || codec === 'aac' || codec === 'aac_latm' || codec === 'ac3' || codec === 'eac3' ? 'audio'
        : codec === 'dvb_subtitle' ? 'subtitle'
          : codec === 'teletext' ? 'teletext'
            : 'data';
  const needsTranscode = kind === 'audio' && codec !== 'aac';
  return { pid, streamType, kind, codec, language, needsTranscode, descriptors };
}

/** True when any audio track of the program needs AAC-LC for Apple devices and browsers. */
export function pmtNeedsTranscode(pmt: Pmt): boolean {
  return pmt.streams.some((s) => s.needsTranscode);
}

/**
 * Does this PES payload start (or contain, within the first packet) a keyframe? H.264: an IDR slice
 * or SPS NAL unit; HEVC: a VPS/SPS or IRAP NAL unit; MPEG-1/2: a sequence header. Broadcasters
 * rarely set random_access_indicator reliably, so the bitstream is checked as well.
 */
export function payloadHasKeyframe(codec: Codec, payload: Buffer): boolean {
  return bytesHaveKeyframe(codec, payload, 0, payload.length);
}

/** payloadHasKeyframe over buf[from, to), without a subarray. */
function bytesHaveKeyframe(codec: Codec, buf: Buffer, from: number, to: number): boolean {
  // Skip the PES header when the payload starts one (00 00 01 stream_id).
  let start = from;
  if (to - from >= 9 && buf[from] === 0 && buf[from + 1] === 0 && buf[from + 2] === 1) start = from + 9 + buf[from + 8];
  const h264 = codec === 'h264';
  const hevc = codec === 'hevc';
  const mpeg = codec === 'mpeg2video' || codec === 'mpeg1video';
  if (!h264 && !hevc && !mpeg) return false;
  for (let i = start; i + 4 < to; i++) {
    if (buf[i] !== 0 || buf[i + 1] !== 0 || buf[i + 2] !== 1) continue;
    const next = buf[i + 3];
    if (h264) {
      const nal = next & 0x1f;
      if (nal === 5 || nal === 7) return true;
    } else if (hevc) {
      const nal = (next >> 1) & 0x3f;
      if ((nal >= 16 && nal <= 21) || nal === 32 || nal === 33) return true;
    } else if (next === 0xb3) {
      return true;
    }
  }
  return false;
}
