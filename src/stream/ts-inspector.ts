/**
 * Follows a live MPEG-TS byte stream packet by packet: re-aligns arbitrary chunks to whole packets,
 * tracks the PAT and the PMT of one program (the requested one, else the first), keeps the latest
 * PAT/PMT packets so they can be replayed to a joining client or an ffmpeg started late, and tells
 * whether a packet starts a video keyframe.
 *
 * It runs for every packet of every stream (several thousand per second per channel), so the loop
 * reads header fields in place and allocates nothing per packet; only the rare PSI packets are
 * copied. It notes where keyframes start while it parses, so the keyframe gate and the GOP cache
 * need not scan the same packets again.
 */
import { TS_PACKET_SIZE, TS_SYNC_BYTE } from '../settings';
import {
  Codec, ElementaryStream, findSync, packetPayloadOffset, packetPid, packetUnitStart, parsePat, parsePmt, PatEntry, Pmt,
  PID_PAT, SectionAssembler, startsKeyframeAt,
} from './ts';

const EMPTY = Buffer.alloc(0);
/** No PID: a TS PID has 13 bits, so this never matches a packet. */
const NO_PID = -1;

/** Offsets of the first and last packets that start a keyframe in a run of packets; -1 when none. */
export interface KeyframeSpan {
  first: number;
  last: number;
}

export class TsInspector {
  /** The packets that carried the last complete PAT and PMT (raw), for replay. */
  patPacket: Buffer | undefined;
  pmtPacket: Buffer | undefined;
  /** Bytes skipped while looking for packet sync (garbage, a stray HTTP line). */
  skippedBytes = 0;

  private carry: Buffer = EMPTY;
  private readonly assemblers = new Map<number, SectionAssembler>();
  /** Packets of the PSI section under way per PID: a PMT may span more than one packet. */
  private readonly sectionPackets = new Map<number, Buffer[]>();

  // What the per-packet loop compares against, derived once per PAT or PMT instead of per packet.
  private currentPat: PatEntry[] | undefined;
  private currentPmt: Pmt | undefined;
  private selected: PatEntry | undefined;
  private selectedPmtPid = NO_PID;
  private videoStream: ElementaryStream | undefined;
  private videoPid = NO_PID;
  private videoCodec: Codec = 'unknown';
  /** The sections behind the current PAT and PMT: a repeat (every ~100 ms) is not parsed again. */
  private patSection: Buffer | undefined;
  private pmtSection: Buffer | undefined;

  /** What push returned last, and where keyframes start in it. */
  private lastOutput: Buffer = EMPTY;
  private firstKeyframe = -1;
  private lastKeyframe = -1;

  /** @param program the service id to follow; undefined = the first program of the PAT. */
  constructor(private readonly program?: number) {}

  get pat(): PatEntry[] | undefined {
    return this.currentPat;
  }

  get pmt(): Pmt | undefined {
    return this.currentPmt;
  }

  get pmtPid(): number | undefined {
    return this.selected?.pmtPid;
  }

  /** Bytes of PSI packets held for a section under way; bounded by PSI_SECTION_MAX_BYTES per PID. */
  get heldSectionBytes(): number {
    let bytes = 0;
    for (const packets of this.sectionPackets.values()) for (const p of packets) bytes += p.length;
    return bytes;
  }

  get video(): ElementaryStream | undefined {
    return this.videoStream;
  }

  /**
   * Feeds a chunk; returns the whole, sync-aligned packets it completes (concatenated), after
   * updating PAT/PMT state. Bytes that cannot be aligned are dropped and counted.
   */
  push(chunk: Buffer): Buffer {
    // A packet split across socket reads must become contiguous, and this caller takes one buffer.
    return this.scan(this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk);
  }

  /**
   * The same as push for the live path, without copying the chunk: the packet split across the
   * previous read and this one is rebuilt on its own (188 bytes, from Node's small-buffer pool) and
   * the rest goes on as a view of the chunk, so `emit` gets one or two runs. Copying every chunk
   * doubled the bytes allocated per second of stream, all of it for the garbage collector to free.
   */
  pushEach(chunk: Buffer, emit: (packets: Buffer) => void): void {
    const carried = this.carry.length;
    if (carried > 0 && this.carry[0] === TS_SYNC_BYTE && carried + chunk.length >= TS_PACKET_SIZE) {
      const need = TS_PACKET_SIZE - carried;
      const packet = Buffer.allocUnsafe(TS_PACKET_SIZE);
      this.carry.copy(packet, 0);
      chunk.copy(packet, carried, 0, need);
      this.carry = EMPTY;
      const first = this.scan(packet);
      if (first.length > 0) emit(first);
      chunk = chunk.subarray(need);
    }
    const rest = this.push(chunk);
    if (rest.length > 0) emit(rest);
  }

  /** Aligns and inspects `data` (the carry already in front); keeps what is left as the next carry. */
  private scan(data: Buffer): Buffer {
    const videoPidBefore = this.videoPid;
    const videoCodecBefore = this.videoCodec;
    let first = -1;
    let last = -1;
    // Runs of consecutive whole packets; almost always exactly one, returned without copying.
    let runs: Buffer[] | undefined;
    /** Bytes of the output in the runs before the current one (keyframe offsets are in the output). */
    let emitted = 0;
    let runStart = -1;
    let offset = 0;
    while (offset + TS_PACKET_SIZE <= data.length) {
      if (data[offset] !== TS_SYNC_BYTE) {
        if (runStart >= 0) {
          (runs ??= []).push(data.subarray(runStart, offset));
          emitted += offset - runStart;
        }
        runStart = -1;
        const sync = findSync(data, offset + 1);
        const next = sync < 0 ? Math.max(offset + 1, data.length - TS_PACKET_SIZE + 1) : sync;
        this.skippedBytes += next - offset;
        offset = next;
        continue;
      }
      if (runStart < 0) runStart = offset;
      const pid = packetPid(data, offset);
      if (pid === PID_PAT || pid === this.selectedPmtPid) this.inspectPsi(data, offset, pid);
      if (pid === this.videoPid && startsKeyframeAt(data, offset, pid, this.videoCodec)) {
        last = emitted + offset - runStart;
        if (first < 0) first = last;
      }
      offset += TS_PACKET_SIZE;
    }
    if (runStart >= 0 && runs) runs.push(data.subarray(runStart, offset));
    this.carry = offset < data.length ? Buffer.from(data.subarray(offset)) : EMPTY;
    const output = runs ? (runs.length === 1 ? runs[0] : Buffer.concat(runs)) : runStart >= 0 ? data.subarray(runStart, offset) : EMPTY;
    this.lastOutput = output;
    if (this.videoPid !== videoPidBefore || this.videoCodec !== videoCodecBefore) {
      // The video changed within this chunk (first PMT, or a new one): the packets before the
      // change count by the video as it is now, as they would if someone scanned them afterwards.
      const span = this.scanKeyframes(output);
      first = span.first;
      last = span.last;
    }
    this.firstKeyframe = first;
    this.lastKeyframe = last;
    return output;
  }

  /**
   * Where keyframes start in `packets` (aligned). When `packets` is what push returned last, push
   * already noted it while parsing; anything else is scanned.
   */
  keyframesIn(packets: Buffer): KeyframeSpan {
    if (packets === this.lastOutput) return { first: this.firstKeyframe, last: this.lastKeyframe };
    return this.scanKeyframes(packets);
  }

  /** True when this packet starts a keyframe of the program's video stream. */
  isKeyframe(packet: Buffer): boolean {
    const video = this.video;
    if (!video) return false;
    return packetStartsKeyframe(packet, video.pid, video.codec);
  }

  private scanKeyframes(packets: Buffer): KeyframeSpan {
    const span = { first: -1, last: -1 };
    if (this.videoPid === NO_PID) return span;
    for (let offset = 0; offset + TS_PACKET_SIZE <= packets.length; offset += TS_PACKET_SIZE) {
      if (packets[offset] !== TS_SYNC_BYTE || !startsKeyframeAt(packets, offset, this.videoPid, this.videoCodec)) continue;
      span.last = offset;
      if (span.first < 0) span.first = offset;
    }
    return span;
  }

  /** A packet of the PAT or the followed PMT PID (a few per 100 ms): the only packets copied. */
  private inspectPsi(data: Buffer, offset: number, pid: number): void {
    const payloadOffset = packetPayloadOffset(data, offset);
    if (payloadOffset >= TS_PACKET_SIZE) return;
    const unitStart = packetUnitStart(data, offset);
    let assembler = this.assemblers.get(pid);
    if (!assembler) {
      assembler = new SectionAssembler();
      this.assemblers.set(pid, assembler);
    }
    // A packet that neither starts a section nor continues one carries nothing to keep.
    if (!unitStart && !assembler.assembling) return;
    const packet = Buffer.from(data.subarray(offset, offset + TS_PACKET_SIZE));
    const packets = unitStart ? [] : (this.sectionPackets.get(pid) ?? []);
    packets.push(packet);
    const sections = assembler.push(packet.subarray(payloadOffset), unitStart);
    // Only the packets of a section under way are held (at most PSI_SECTION_MAX_BYTES of them).
    if (assembler.assembling) this.sectionPackets.set(pid, packets);
    else this.sectionPackets.delete(pid);
    // The sections are views of the copies made here, so they may be kept as they are.
    for (const section of sections) {
      if (pid === PID_PAT) {
        if (this.patSection?.equals(section)) {
          this.patPacket = joined(packets);
          continue;
        }
        const pat = parsePat(section);
        if (pat.length > 0) {
          this.setPat(pat, section);
          this.patPacket = joined(packets);
        }
      } else if (this.pmtSection?.equals(section)) {
        // The same PMT again: it still belongs to the followed program unless the PAT changed.
        if (this.currentPmt?.program === this.selected?.program) this.pmtPacket = joined(packets);
      } else {
        const pmt = parsePmt(section);
        if (pmt && pmt.program === this.selected?.program) {
          this.setPmt(pmt, section);
          this.pmtPacket = joined(packets);
        }
      }
    }
  }

  /** The requested program is followed; the first one when none was requested or the PAT lacks it
   * (IPTV refs and some relays renumber the service). */
  private setPat(pat: PatEntry[], section: Buffer): void {
    this.currentPat = pat;
    this.patSection = section;
    this.selected = pat.find((p) => p.program === this.program) ?? pat[0];
    this.selectedPmtPid = this.selected?.pmtPid ?? NO_PID;
  }

  private setPmt(pmt: Pmt, section: Buffer): void {
    this.currentPmt = pmt;
    this.pmtSection = section;
    this.videoStream = pmt.streams.find((s) => s.kind === 'video');
    this.videoPid = this.videoStream?.pid ?? NO_PID;
    this.videoCodec = this.videoStream?.codec ?? 'unknown';
  }
}

/** The packets of a section as one buffer (they are copies already, so one packet needs no other). */
function joined(packets: Buffer[]): Buffer {
  return packets.length === 1 ? packets[0] : Buffer.concat(packets);
}

/** Keyframe test for one packet of a known video PID (random_access_indicator or bitstream). */
export function packetStartsKeyframe(packet: Buffer, videoPid: number, codec: Codec): boolean {
  if (packet.length < TS_PACKET_SIZE || packet[0] !== TS_SYNC_BYTE) return false;
  return startsKeyframeAt(packet, 0, videoPid, codec);
}
