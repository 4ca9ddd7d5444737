/**
 * Follows a live MPEG-TS byte stream packet by packet: re-aligns arbitrary chunks to whole packets,
 * tracks the PAT and the PMT of one program (the requested one, else the first), keeps the latest
 * PAT/PMT packets so they can be replayed to a joining client or an ffmpeg started late, and tells
 * whether a packet starts a video keyframe.
 */
import { TS_PACKET_SIZE } from '../settings';
import {
  Codec, ElementaryStream, findSync, parsePat, parsePmt, PatEntry, payloadHasKeyframe, Pmt, PID_PAT,
  readPacketHeader, SectionAssembler,
} from './ts';

export class TsInspector {
  pat: PatEntry[] | undefined;
  pmt: Pmt | undefined;
  /** The packets that carried the last complete PAT and PMT (raw), for replay. */
  patPacket: Buffer | undefined;
  pmtPacket: Buffer | undefined;
  /** Bytes skipped while looking for packet sync (garbage, a stray HTTP line). */
  skippedBytes = 0;

  private carry: Buffer = Buffer.alloc(0);
  private readonly assemblers = new Map<number, SectionAssembler>();
  /** Packets of the PSI section under way per PID: a PMT may span more than one packet. */
  private readonly sectionPackets = new Map<number, Buffer[]>();

  /** @param program the service id to follow; undefined = the first program of the PAT. */
  constructor(private readonly program?: number) {}

  get pmtPid(): number | undefined {
    return this.selectedEntry()?.pmtPid;
  }

  /** Bytes of PSI packets held for a section under way; bounded by PSI_SECTION_MAX_BYTES per PID. */
  get heldSectionBytes(): number {
    let bytes = 0;
    for (const packets of this.sectionPackets.values()) for (const p of packets) bytes += p.length;
    return bytes;
  }

  get video(): ElementaryStream | undefined {
    return this.pmt?.streams.find((s) => s.kind === 'video');
  }

  /**
   * Feeds a chunk; returns the whole, sync-aligned packets it completes (concatenated), after
   * updating PAT/PMT state. Bytes that cannot be aligned are dropped and counted.
   */
  push(chunk: Buffer): Buffer {
    let data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    // Runs of consecutive whole packets; almost always exactly one, returned without copying.
    const runs: Buffer[] = [];
    let runStart = -1;
    let offset = 0;
    while (offset + TS_PACKET_SIZE <= data.length) {
      if (!readPacketHeader(data, offset)) {
        if (runStart >= 0) runs.push(data.subarray(runStart, offset));
        runStart = -1;
        const sync = findSync(data, offset + 1);
        const next = sync < 0 ? Math.max(offset + 1, data.length - TS_PACKET_SIZE + 1) : sync;
        this.skippedBytes += next - offset;
        offset = next;
        continue;
      }
      if (runStart < 0) runStart = offset;
      this.inspect(data.subarray(offset, offset + TS_PACKET_SIZE));
      offset += TS_PACKET_SIZE;
    }
    if (runStart >= 0) runs.push(data.subarray(runStart, offset));
    data = data.subarray(offset);
    this.carry = Buffer.from(data);
    if (runs.length === 0) return Buffer.alloc(0);
    return runs.length === 1 ? runs[0] : Buffer.concat(runs);
  }

  /** True when this packet starts a keyframe of the program's video stream. */
  isKeyframe(packet: Buffer): boolean {
    const video = this.video;
    if (!video) return false;
    return packetStartsKeyframe(packet, video.pid, video.codec);
  }

  /** The requested program; the first one when none was requested or the PAT lacks it (IPTV refs
   * and some relays renumber the service). */
  private selectedEntry(): PatEntry | undefined {
    if (!this.pat) return undefined;
    return this.pat.find((p) => p.program === this.program) ?? this.pat[0];
  }

  private inspect(packet: Buffer): void {
    const header = readPacketHeader(packet);
    if (!header || header.payloadOffset >= TS_PACKET_SIZE) return;
    const pmtPid = this.pmtPid;
    if (header.pid !== PID_PAT && header.pid !== pmtPid) return;
    let assembler = this.assemblers.get(header.pid);
    if (!assembler) {
      assembler = new SectionAssembler();
      this.assemblers.set(header.pid, assembler);
    }
    // A packet that neither starts a section nor continues one carries nothing to keep.
    if (!header.payloadUnitStart && !assembler.assembling) return;
    const packets = header.payloadUnitStart ? [] : (this.sectionPackets.get(header.pid) ?? []);
    packets.push(Buffer.from(packet));
    const sections = assembler.push(packet.subarray(header.payloadOffset), header.payloadUnitStart);
    // Only the packets of a section under way are held (at most PSI_SECTION_MAX_BYTES of them).
    if (assembler.assembling) this.sectionPackets.set(header.pid, packets);
    else this.sectionPackets.delete(header.pid);
    for (const section of sections) {
      if (header.pid === PID_PAT) {
        const pat = parsePat(section);
        if (pat.length > 0) {
          this.pat = pat;
          this.patPacket = Buffer.concat(packets);
        }
      } else {
        const pmt = parsePmt(section);
        if (pmt && pmt.program === this.selectedEntry()?.program) {
          this.pmt = pmt;
          this.pmtPacket = Buffer.concat(packets);
        }
      }
    }
  }
}

/** Keyframe test for one packet of a known video PID (random_access_indicator or bitstream). */
export function packetStartsKeyframe(packet: Buffer, videoPid: number, codec: Codec): boolean {
  const header = readPacketHeader(packet);
  // Scrambled payload (the relay's first few hundred KB) is noise, never a keyframe.
  if (!header || header.pid !== videoPid || !header.payloadUnitStart || header.scrambled) return false;
  if (header.randomAccess) return true;
  return payloadHasKeyframe(codec, packet.subarray(header.payloadOffset));
}
