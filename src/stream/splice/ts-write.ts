/**
 * Writing MPEG-TS: PES packets with a PTS, PSI sections and PCR-only packets, cut into 188-byte
 * packets with continuity counters and adaptation-field stuffing (ISO 13818-1 2.4.3). Each call
 * writes into one buffer it allocates, so a whole PES or section costs one allocation.
 */
import { TS_PACKET_SIZE, TS_SYNC_BYTE } from '../../settings';

const PAYLOAD_SIZE = TS_PACKET_SIZE - 4;
/** 33-bit PTS/DTS values wrap at this. */
export const PTS_WRAP = 2 ** 33;

/** The continuity counter of one output PID: 4 bits, advanced by every packet with payload. */
export class Continuity {
  private next = 0;

  /** The value for the next packet with payload. */
  take(): number {
    const value = this.next;
    this.next = (this.next + 1) & 0x0f;
    return value;
  }

  /** The value of the last packet with payload, which a packet without payload repeats. */
  get last(): number {
    return (this.next + 15) & 0x0f;
  }
}

/** Cuts `payload` into packets on `pid`; the first one starts the unit (PES or section). */
function packetize(pid: number, payload: Buffer, cc: Continuity): Buffer {
  const count = Math.max(1, Math.ceil(payload.length / PAYLOAD_SIZE));
  const out = Buffer.allocUnsafe(count * TS_PACKET_SIZE);
  let read = 0;
  for (let i = 0; i < count; i++) {
    const at = i * TS_PACKET_SIZE;
    const left = payload.length - read;
    out[at] = TS_SYNC_BYTE;
    out[at + 1] = (i === 0 ? 0x40 : 0) | ((pid >> 8) & 0x1f);
    out[at + 2] = pid & 0xff;
    if (left >= PAYLOAD_SIZE) {
      out[at + 3] = 0x10 | cc.take();
      payload.copy(out, at + 4, read, read + PAYLOAD_SIZE);
      read += PAYLOAD_SIZE;
      continue;
    }
    // The last packet is filled up with an adaptation field of stuffing bytes.
    out[at + 3] = 0x30 | cc.take();
    const stuffing = PAYLOAD_SIZE - left; // >= 1: the adaptation_field_length byte itself
    out[at + 4] = stuffing - 1;
    if (stuffing > 1) {
      out[at + 5] = 0x00;
      out.fill(0xff, at + 6, at + 4 + stuffing);
    }
    payload.copy(out, at + 4 + stuffing, read, read + left);
    read += left;
  }
  return out;
}

/** One PES packet (stream_id 0xC0, PTS only, data aligned) around `data`, as TS packets. */
export function writePes(pid: number, data: Buffer, pts: number, cc: Continuity): Buffer {
  const header = 14;
  const pes = Buffer.allocUnsafe(header + data.length);
  pes[0] = 0; pes[1] = 0; pes[2] = 1; pes[3] = 0xc0;
  pes.writeUInt16BE(Math.min(0xffff, 8 + data.length), 4);
  pes[6] = 0x84; // '10', data_alignment_indicator
  pes[7] = 0x80; // PTS only
  pes[8] = 5;
  writeTimestamp(pes, 9, 0x2, pts);
  data.copy(pes, header);
  return packetize(pid, pes, cc);
}

/** A PSI section (pointer_field 0 in front) as TS packets. */
export function writeSection(pid: number, section: Buffer, cc: Continuity): Buffer {
  const payload = Buffer.allocUnsafe(1 + section.length);
  payload[0] = 0;
  section.copy(payload, 1);
  return packetize(pid, payload, cc);
}

/**
 * A packet without payload that carries the PCR (and discontinuity flag) of `source`: what stays of a
 * PCR-carrying audio packet whose payload is re-encoded. Without payload its counter is not advanced.
 */
export function writePcrOnly(source: Buffer, pid: number, cc: Continuity): Buffer {
  const out = Buffer.alloc(TS_PACKET_SIZE, 0xff);
  out[0] = TS_SYNC_BYTE;
  out[1] = (pid >> 8) & 0x1f;
  out[2] = pid & 0xff;
  out[3] = 0x20 | cc.last;
  out[4] = TS_PACKET_SIZE - 5;
  out[5] = source[5] & 0x90; // discontinuity_indicator, PCR_flag
  source.copy(out, 6, 6, 12);
  return out;
}

/** True when this packet's adaptation field carries a PCR. */
export function packetHasPcr(packet: Buffer): boolean {
  return (packet[3] & 0x20) !== 0 && packet[4] >= 7 && (packet[5] & 0x10) !== 0;
}

/** Writes a 33-bit timestamp in PES form (4-bit prefix, three marker bits). */
export function writeTimestamp(buf: Buffer, at: number, prefix: number, value: number): void {
  const high = Math.floor(value / 2 ** 30) & 0x07;
  const low = value % 2 ** 30;
  buf[at] = (prefix << 4) | (high << 1) | 1;
  buf[at + 1] = (low >> 22) & 0xff;
  buf[at + 2] = (((low >> 15) & 0x7f) << 1) | 1;
  buf[at + 3] = (low >> 7) & 0xff;
  buf[at + 4] = ((low & 0x7f) << 1) | 1;
}

/** Reads a 33-bit PES timestamp. */
export function readTimestamp(buf: Buffer, at: number): number {
  const high = (buf[at] >> 1) & 0x07;
  const mid = (buf[at + 1] << 7) | (buf[at + 2] >> 1);
  const low = (buf[at + 3] << 7) | (buf[at + 4] >> 1);
  return high * 2 ** 30 + mid * 2 ** 15 + low;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32/MPEG-2 of PSI sections (no reflection, no final xor). */
export function crc32Mpeg(data: Buffer, end = data.length): number {
  let crc = 0xffffffff;
  for (let i = 0; i < end; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ data[i]) & 0xff]) >>> 0;
  return crc >>> 0;
}
