/**
 * Cuts a live MPEG-TS (as a stream client receives it: PAT, PMT, then from a keyframe) into HLS
 * segments in memory, without ffmpeg: a segment ends at the first video keyframe once it holds
 * HLS_SEGMENT_S of video (by PTS), so every segment starts with PAT, PMT and a keyframe and plays
 * on its own. Programs without video are cut at audio PES starts. Only the live window and one
 * segment behind it are kept, so memory stays bounded; nothing touches the disk.
 */
import { HLS_LIST_SIZE, HLS_SEGMENT_MAX_BYTES, HLS_SEGMENT_S, TS_PACKET_SIZE } from '../settings';
import { readPacketHeader } from './ts';
import { packetStartsKeyframe, TsInspector } from './ts-inspector';

const PTS_HZ = 90_000;
const PTS_WRAP = 2 ** 33;

export interface HlsSegment {
  /** Media sequence number; the file is seg<sequence, 5 digits>.ts. */
  sequence: number;
  /** Duration in seconds. */
  duration: number;
  data: Buffer;
}

export function segmentName(sequence: number): string {
  return `seg${String(sequence % 100_000).padStart(5, '0')}.ts`;
}

export class HlsSegmenter {
  private readonly inspector = new TsInspector();
  private readonly segments: HlsSegment[] = [];
  private current: Buffer[] = [];
  private currentBytes = 0;
  /** False until the first cut point: what comes before it cannot start a segment. */
  private opened = false;
  /** PTS (90 kHz) of the current segment's start, when its packet carried one; and its clock time. */
  private startPts: number | undefined;
  private startedAt = 0;
  private nextSequence = 0;

  /** Segments listed in the playlist (the live window), oldest first. */
  get listed(): HlsSegment[] {
    return this.segments.slice(-HLS_LIST_SIZE);
  }

  /** A segment by file name, while it is kept (the window plus one behind it). */
  segment(name: string): HlsSegment | undefined {
    return this.segments.find((s) => segmentName(s.sequence) === name);
  }

  /** Takes whole TS packets (as a stream client gets them). */
  push(packets: Buffer): void {
    const aligned = this.inspector.push(packets);
    for (let offset = 0; offset + TS_PACKET_SIZE <= aligned.length; offset += TS_PACKET_SIZE) {
      const packet = aligned.subarray(offset, offset + TS_PACKET_SIZE);
      const cut = this.cutPoint(packet);
      if (cut) this.startSegment(cut.pts);
      if (!this.opened) continue;
      this.current.push(packet);
      this.currentBytes += TS_PACKET_SIZE;
    }
  }

  /** Whether to start a segment at this packet (a keyframe, or an audio PES for radio), with its PTS. */
  private cutPoint(packet: Buffer): { pts: number | undefined } | undefined {
    // A stream without keyframes must not grow a segment without bound.
    if (this.opened && this.currentBytes >= HLS_SEGMENT_MAX_BYTES) return { pts: undefined };
    const { video, pmt } = this.inspector;
    const header = readPacketHeader(packet);
    if (!header || !header.payloadUnitStart || !pmt) return undefined;
    const key = video ? packetStartsKeyframe(packet, video.pid, video.codec) : header.pid === pmt.streams.find((s) => s.kind === 'audio')?.pid;
    if (!key) return undefined;
    const pts = pesPts(packet.subarray(header.payloadOffset));
    // The first cut point opens the first segment; later ones close a segment that is long enough.
    if (!this.opened || this.duration(pts) >= HLS_SEGMENT_S) return { pts };
    return undefined;
  }

  /** Seconds since the current segment started: by PTS when both are known, else by the clock. */
  private duration(pts: number | undefined): number {
    if (pts !== undefined && this.startPts !== undefined) {
      return (((pts - this.startPts) % PTS_WRAP) + PTS_WRAP) % PTS_WRAP / PTS_HZ;
    }
    return (Date.now() - this.startedAt) / 1000;
  }

  private startSegment(pts: number | undefined): void {
    if (this.opened && this.current.length > 0) {
      const { patPacket, pmtPacket } = this.inspector;
      // Each segment starts with PAT and PMT, so a player can begin with any of them.
      const head = [patPacket, pmtPacket].filter((p): p is Buffer => p !== undefined);
      this.segments.push({ sequence: this.nextSequence++, duration: this.duration(pts), data: Buffer.concat([...head, ...this.current]) });
      if (this.segments.length > HLS_LIST_SIZE + 1) this.segments.shift();
    }
    this.opened = true;
    this.current = [];
    this.currentBytes = 0;
    this.startPts = pts;
    this.startedAt = Date.now();
  }
}

/** The PTS of a PES header at the start of a payload, or undefined when it has none. */
export function pesPts(payload: Buffer): number | undefined {
  if (payload.length < 14 || payload[0] !== 0 || payload[1] !== 0 || payload[2] !== 1) return undefined;
  if ((payload[7] & 0x80) === 0) return undefined;
  const b = payload;
  return ((b[9] >> 1) & 0x07) * 2 ** 30 + (b[10] << 22) + ((b[11] >> 1) << 15) + (b[12] << 7) + (b[13] >> 1);
}

/** The media playlist of the live window; `query` (e.g. "?token=…") is appended to each segment. */
export function mediaPlaylist(segments: readonly HlsSegment[], query = ''): string {
  const target = Math.max(HLS_SEGMENT_S, ...segments.map((s) => Math.ceil(s.duration)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${target}`, `#EXT-X-MEDIA-SEQUENCE:${segments[0]?.sequence ?? 0}`];
  for (const s of segments) lines.push(`#EXTINF:${s.duration.toFixed(3)},`, `${segmentName(s.sequence)}${query}`);
  return lines.join('\n') + '\n';
}
