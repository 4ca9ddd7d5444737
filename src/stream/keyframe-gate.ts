/**
 * Holds back a live TS until it can start cleanly: nothing passes before the PMT is known and the
 * first video keyframe arrives; then the PAT and PMT go out first, followed by the stream from that
 * keyframe on. A receiver starts streaming mid-GOP with audio ~1 s ahead of video; feeding that to
 * ffmpeg or a player makes audio lead video (streaming.md). Programs without video start at the PMT.
 */
import { TS_PACKET_SIZE } from '../settings';
import { TsInspector } from './ts-inspector';

export class KeyframeGate {
  private open = false;

  constructor(private readonly inspector: TsInspector) {}

  get isOpen(): boolean {
    return this.open;
  }

  /** Takes aligned packets (as TsInspector.push returns them); returns what may pass. */
  pass(packets: Buffer): Buffer {
    if (this.open) return packets;
    const { pmt, patPacket, pmtPacket } = this.inspector;
    if (!pmt || !patPacket || !pmtPacket) return Buffer.alloc(0);
    const hasVideo = this.inspector.video !== undefined;
    for (let offset = 0; offset < packets.length; offset += TS_PACKET_SIZE) {
      const packet = packets.subarray(offset, offset + TS_PACKET_SIZE);
      if (!hasVideo || this.inspector.isKeyframe(packet)) {
        this.open = true;
        return Buffer.concat([patPacket, pmtPacket, packets.subarray(offset)]);
      }
    }
    return Buffer.alloc(0);
  }
}
