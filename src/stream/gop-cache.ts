/**
 * What a client joining a running session gets first: the latest PAT and PMT and every packet since
 * the last video keyframe (bounded), so its player starts on a picture at once instead of waiting
 * up to a GOP. Works on the session's output, whether passthrough or from ffmpeg.
 */
import { TS_PACKET_SIZE } from '../settings';
import { TsInspector } from './ts-inspector';

export class GopCache {
  private readonly inspector = new TsInspector();
  private packets: Buffer[] = [];
  private bytes = 0;
  /** False until the first keyframe, and again after the cap was hit, until the next keyframe. */
  private valid = false;
  /** Offset of the last keyframe in what the last push returned; -1 when it had none. */
  lastKeyframeOffset = -1;

  constructor(private readonly maxBytes: number) {}

  /** Records output packets; returns them aligned, as clients should receive them. */
  push(chunk: Buffer): Buffer {
    const aligned = this.inspector.push(chunk);
    this.lastKeyframeOffset = -1;
    if (aligned.length === 0) return aligned;
    const hasVideo = this.inspector.video !== undefined;
    let start = 0;
    if (!hasVideo && this.inspector.pmt) {
      // Radio: every packet is a fine place to start.
      this.lastKeyframeOffset = 0;
    } else if (hasVideo) {
      for (let offset = 0; offset < aligned.length; offset += TS_PACKET_SIZE) {
        if (this.inspector.isKeyframe(aligned.subarray(offset, offset + TS_PACKET_SIZE))) {
          this.packets = [];
          this.bytes = 0;
          this.valid = true;
          start = offset;
          this.lastKeyframeOffset = offset;
        }
      }
    }
    if (this.valid) {
      const tail = aligned.subarray(start);
      this.packets.push(tail);
      this.bytes += tail.length;
      if (this.bytes > this.maxBytes) {
        this.packets = [];
        this.bytes = 0;
        this.valid = false;
      }
    }
    return aligned;
  }

  /** PAT and PMT, to put in front of a client's first packet; undefined until both were seen. */
  header(): Buffer | undefined {
    const { patPacket, pmtPacket } = this.inspector;
    return patPacket && pmtPacket ? Buffer.concat([patPacket, pmtPacket]) : undefined;
  }

  /**
   * The start for a joining client: PAT, PMT and the GOP so far. Undefined while there is no clean
   * start (no keyframe yet, or the GOP outgrew the cap): the client then waits for the next keyframe.
   * Programs without video start right after PAT and PMT.
   */
  snapshot(): Buffer | undefined {
    const header = this.header();
    if (!header || !this.inspector.pmt) return undefined;
    if (this.inspector.video === undefined) return header;
    if (!this.valid) return undefined;
    return Buffer.concat([header, ...this.packets]);
  }

  get sizeBytes(): number {
    return this.bytes;
  }
}
