/**
 * Holds back a live TS until it can start cleanly: nothing passes before the PMT is known and the
 * first video keyframe arrives; then the PAT and PMT go out first, followed by the stream from that
 * keyframe on. A receiver starts streaming mid-GOP with audio ~1 s ahead of video; feeding that to
 * ffmpeg or a player makes audio lead video (streaming.md). Programs without video start at the PMT.
 */
import { TsInspector } from './ts-inspector';

const EMPTY = Buffer.alloc(0);

export class KeyframeGate {
  private open = false;
  /**
   * Offset of the last video keyframe in what the last pass returned; -1 when it had none. The
   * inspector noted it while parsing, so the GOP cache of a passthrough session need not scan again.
   */
  lastKeyframe = -1;

  constructor(private readonly inspector: TsInspector) {}

  get isOpen(): boolean {
    return this.open;
  }

  /** Takes aligned packets (as TsInspector.push returns them); returns what may pass. */
  pass(packets: Buffer): Buffer {
    if (this.open) {
      this.lastKeyframe = this.inspector.keyframesIn(packets).last;
      return packets;
    }
    this.lastKeyframe = -1;
    const { pmt, patPacket, pmtPacket } = this.inspector;
    if (!pmt || !patPacket || !pmtPacket || packets.length === 0) return EMPTY;
    if (this.inspector.video === undefined) {
      this.open = true;
      return Buffer.concat([patPacket, pmtPacket, packets]);
    }
    const { first, last } = this.inspector.keyframesIn(packets);
    if (first < 0) return EMPTY;
    this.open = true;
    this.lastKeyframe = patPacket.length + pmtPacket.length + last - first;
    return Buffer.concat([patPacket, pmtPacket, packets.subarray(first)]);
  }
}
