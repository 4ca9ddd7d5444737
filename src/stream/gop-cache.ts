/**
 * What a client joining a running session gets first: the latest PAT and PMT and every packet since
 * the last video keyframe (bounded), so its player starts on a picture at once instead of waiting
 * up to a GOP. Works on the session's output, whether passthrough or from the audio splice or ffmpeg.
 * Passthrough output was inspected on its way in, so the session hands over what its inspector
 * found instead of having every packet parsed twice; other output is a different TS (new PMT,
 * packets inserted and dropped) and goes through the cache's own inspector.
 */
import { TsInspector } from './ts-inspector';

/** What the cache must know of the stream it holds: its latest PAT and PMT, and its video. */
export type StreamPsi = Pick<TsInspector, 'pmt' | 'patPacket' | 'pmtPacket' | 'video'>;

/** A chunk whose inspection is already done: the inspector that saw it, and its last keyframe. */
export interface InspectedChunk {
  psi: StreamPsi;
  /** Offset in the chunk of the last packet that starts a video keyframe; -1 when none. */
  lastKeyframe: number;
}

export class GopCache {
  private readonly inspector = new TsInspector();
  /** Where PAT, PMT and the video come from: the cache's own inspector, or the caller's. */
  private psi: StreamPsi = this.inspector;
  private packets: Buffer[] = [];
  private bytes = 0;
  /** False until the first keyframe, and again after the cap was hit, until the next keyframe. */
  private valid = false;
  /** Offset of the last keyframe in what the last push returned; -1 when it had none. */
  lastKeyframeOffset = -1;

  constructor(private readonly maxBytes: number) {}

  /**
   * Records output packets; returns them aligned, as clients should receive them. With
   * `inspected`, `chunk` must be whole aligned packets (as KeyframeGate.pass returns them) and is
   * taken as it is, with the keyframe and PAT/PMT that its inspector found.
   */
  push(chunk: Buffer, inspected?: InspectedChunk): Buffer {
    let aligned = chunk;
    let keyframe: number;
    if (inspected) {
      this.psi = inspected.psi;
      keyframe = inspected.lastKeyframe;
    } else {
      this.psi = this.inspector;
      aligned = this.inspector.push(chunk);
      keyframe = this.inspector.keyframesIn(aligned).last;
    }
    this.lastKeyframeOffset = -1;
    if (aligned.length === 0) return aligned;
    const hasVideo = this.psi.video !== undefined;
    let start = 0;
    if (!hasVideo && this.psi.pmt) {
      // Radio: every packet is a fine place to start.
      this.lastKeyframeOffset = 0;
    } else if (hasVideo && keyframe >= 0) {
      // A keyframe starts a new GOP: what came before it is no use to a joining client.
      this.packets = [];
      this.bytes = 0;
      this.valid = true;
      start = keyframe;
      this.lastKeyframeOffset = keyframe;
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
    const { patPacket, pmtPacket } = this.psi;
    return patPacket && pmtPacket ? Buffer.concat([patPacket, pmtPacket]) : undefined;
  }

  /**
   * The start for a joining client: PAT, PMT and the GOP so far. Undefined while there is no clean
   * start (no keyframe yet, or the GOP outgrew the cap): the client then waits for the next keyframe.
   * Programs without video start right after PAT and PMT.
   */
  snapshot(): Buffer | undefined {
    const header = this.header();
    if (!header || !this.psi.pmt) return undefined;
    if (this.psi.video === undefined) return header;
    if (!this.valid) return undefined;
    return Buffer.concat([header, ...this.packets]);
  }

  get sizeBytes(): number {
    return this.bytes;
  }
}
