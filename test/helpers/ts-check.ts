// Test helper: MPEG-TS facts read straight from the bytes — packets per PID, continuity errors,
// PMT sections with their CRC, and PES timestamps — so tests need not trust the code under test.
import { createHash } from 'node:crypto';

export interface TsPacketInfo { pid: number; unitStart: boolean; cc: number; hasPayload: boolean; payloadOffset: number }

export function* packetsOf(buf: Buffer): Generator<[Buffer, TsPacketInfo]> {
  for (let at = 0; at + 188 <= buf.length; at += 188) {
    const p = buf.subarray(at, at + 188);
    if (p[0] !== 0x47) throw new Error(`lost sync at byte ${at}`);
    const adaptation = (p[3] & 0x20) !== 0;
    yield [p, {
      pid: ((p[1] & 0x1f) << 8) | p[2],
      unitStart: (p[1] & 0x40) !== 0,
      cc: p[3] & 0x0f,
      hasPayload: (p[3] & 0x10) !== 0,
      payloadOffset: adaptation ? 5 + p[4] : 4,
    }];
  }
}

/** sha256 over the whole packets of each PID, in order. */
export function pidHashes(buf: Buffer, pids: Iterable<number>): Map<number, string> {
  const wanted = new Set(pids);
  const hashes = new Map<number, ReturnType<typeof createHash>>();
  for (const pid of wanted) hashes.set(pid, createHash('sha256'));
  for (const [p, info] of packetsOf(buf)) if (wanted.has(info.pid)) hashes.get(info.pid)!.update(p);
  return new Map([...hashes].map(([pid, h]) => [pid, h.digest('hex')]));
}

/** Continuity errors per PID (ISO 13818-1 2.4.3.3: +1 per packet with payload, one duplicate allowed). */
export function continuityErrors(buf: Buffer): Map<number, number> {
  const last = new Map<number, number>();
  const errors = new Map<number, number>();
  for (const [, info] of packetsOf(buf)) {
    if (info.pid === 0x1fff) continue;
    const previous = last.get(info.pid);
    if (!info.hasPayload) {
      if (previous !== undefined && info.cc !== previous) errors.set(info.pid, (errors.get(info.pid) ?? 0) + 1);
      continue;
    }
    if (previous !== undefined && info.cc !== ((previous + 1) & 0x0f) && info.cc !== previous) {
      errors.set(info.pid, (errors.get(info.pid) ?? 0) + 1);
    }
    last.set(info.pid, info.cc);
  }
  return errors;
}

/** Complete sections with table_id 0x02 found on `pid` (single- or multi-packet). */
export function pmtSections(buf: Buffer, pid: number): Buffer[] {
  const sections: Buffer[] = [];
  let pending: Buffer | undefined;
  for (const [p, info] of packetsOf(buf)) {
    if (info.pid !== pid || !info.hasPayload) continue;
    let data = p.subarray(info.payloadOffset);
    if (info.unitStart) {
      data = data.subarray(1 + data[0]);
      pending = data;
    } else if (pending) {
      pending = Buffer.concat([pending, data]);
    } else continue;
    const length = 3 + (((pending[1] & 0x0f) << 8) | pending[2]);
    if (pending.length >= length) {
      if (pending[0] === 0x02) sections.push(pending.subarray(0, length));
      pending = undefined;
    }
  }
  return sections;
}

/** CRC-32/MPEG-2, written here independently of the code under test: 0 over a whole valid section. */
export function crcMpeg(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte << 24;
    for (let k = 0; k < 8; k++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** PTS of every PES that starts on `pid`, in 90 kHz ticks. */
export function ptsList(buf: Buffer, pid: number): number[] {
  const out: number[] = [];
  for (const [p, info] of packetsOf(buf)) {
    if (info.pid !== pid || !info.unitStart || !info.hasPayload) continue;
    const pes = p.subarray(info.payloadOffset);
    if (pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1 || (pes[7] & 0x80) === 0) continue;
    out.push(((pes[9] >> 1) & 7) * 2 ** 30 + ((pes[10] << 7) | (pes[11] >> 1)) * 2 ** 15 + ((pes[12] << 7) | (pes[13] >> 1)));
  }
  return out;
}
