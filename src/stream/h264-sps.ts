/**
 * The picture size and scan of an H.264 stream, read from its sequence parameter set (SPS) in TS
 * packets: what the camera's live view needs to know before it may copy a channel's video to a
 * viewer instead of encoding it (no larger than asked, progressive). Pure functions over Buffers.
 */
import { TS_PACKET_SIZE } from '../settings';
import { readPacketHeader } from './ts';

export interface SpsInfo {
  width: number;
  height: number;
  /** Field or MBAFF coding (frame_mbs_only_flag 0): 1080i broadcasts. */
  interlaced: boolean;
  profile: number;
  level: number;
}

/** Payload bytes of the first packets of `pid` searched for an SPS (a keyframe carries it first). */
const SPS_SEARCH_PACKETS = 256;

/** The first SPS of the video PID in `packets` (whole TS packets), or undefined. */
export function findSps(packets: Buffer, pid: number): SpsInfo | undefined {
  const payloads: Buffer[] = [];
  for (let o = 0; o + TS_PACKET_SIZE <= packets.length && payloads.length < SPS_SEARCH_PACKETS; o += TS_PACKET_SIZE) {
    const header = readPacketHeader(packets, o);
    if (header?.pid === pid && header.payloadOffset < TS_PACKET_SIZE) payloads.push(packets.subarray(o + header.payloadOffset, o + TS_PACKET_SIZE));
  }
  const data = Buffer.concat(payloads);
  for (let i = 0; i + 4 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1 && (data[i + 3] & 0x1f) === 7) {
      try {
        return parseSps(unescape(data.subarray(i + 4, Math.min(data.length, i + 4 + 256))));
      } catch {
        // Cut off or malformed (a PES header split it): look for the next one.
      }
    }
  }
  return undefined;
}

/** Removes emulation prevention bytes (00 00 03 → 00 00). */
function unescape(nal: Buffer): Buffer {
  const out = Buffer.alloc(nal.length);
  let n = 0;
  let zeros = 0;
  for (const byte of nal) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    zeros = byte === 0 ? zeros + 1 : 0;
    out[n++] = byte;
  }
  return out.subarray(0, n);
}

class Bits {
  private bit = 0;
  constructor(private readonly data: Buffer) {}

  u(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const byte = this.data[this.bit >> 3];
      if (byte === undefined) throw new RangeError('SPS cut off');
      value = value * 2 + ((byte >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return value;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) if (++zeros > 31) throw new RangeError('bad Exp-Golomb code');
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -k / 2;
  }
}

/** Profiles whose SPS carries chroma format, bit depths and scaling matrices (H.264 7.3.2.1.1). */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** The SPS fields after the NAL header byte (emulation prevention already removed). */
export function parseSps(rbsp: Buffer): SpsInfo {
  const b = new Bits(rbsp);
  const profile = b.u(8);
  b.u(8);
  const level = b.u(8);
  b.ue();
  let chromaFormat = 1;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormat = b.ue();
    if (chromaFormat === 3) b.u(1);
    b.ue();
    b.ue();
    b.u(1);
    if (b.u(1)) {
      for (let i = 0; i < (chromaFormat === 3 ? 12 : 8); i++) {
        if (!b.u(1)) continue;
        const size = i < 6 ? 16 : 64;
        let last = 8;
        let next = 8;
        for (let j = 0; j < size && next !== 0; j++) {
          next = (last + b.se() + 256) % 256;
          if (next !== 0) last = next;
        }
      }
    }
  }
  b.ue();
  const pocType = b.ue();
  if (pocType === 0) {
    b.ue();
  } else if (pocType === 1) {
    b.u(1);
    b.se();
    b.se();
    const cycle = b.ue();
    for (let i = 0; i < cycle; i++) b.se();
  }
  b.ue();
  b.u(1);
  const widthMbs = b.ue() + 1;
  const heightMapUnits = b.ue() + 1;
  const frameMbsOnly = b.u(1);
  if (!frameMbsOnly) b.u(1);
  b.u(1);
  let crop = [0, 0, 0, 0];
  if (b.u(1)) crop = [b.ue(), b.ue(), b.ue(), b.ue()];
  const cropX = chromaFormat === 1 || chromaFormat === 2 ? 2 : 1;
  const cropY = (chromaFormat === 1 ? 2 : 1) * (2 - frameMbsOnly);
  return {
    width: widthMbs * 16 - cropX * (crop[0] + crop[1]),
    height: (2 - frameMbsOnly) * heightMapUnits * 16 - cropY * (crop[2] + crop[3]),
    interlaced: frameMbsOnly === 0,
    profile,
    level,
  };
}
