/**
 * The HLS master playlist, written by us because ffmpeg's lacks CODECS and gets BANDWIDTH wrong with
 * copied video, and Safari cares about both. CODECS comes from the first segment itself (the H.264
 * SPS gives profile, constraints and level; audio is AAC-LC after the proxy); BANDWIDTH is the
 * caller's (the largest listed segment over its duration).
 */
import { TS_PACKET_SIZE } from '../settings';
import { readPacketHeader } from './ts';
import { TsInspector } from './ts-inspector';

export interface SegmentInfo {
  /** e.g. avc1.640028, mp4a.40.2 — empty when the codecs cannot be named for HLS. */
  codecs: string[];
}

/** RFC 6381 codec names of a TS segment's streams. */
export function segmentCodecs(segment: Buffer): SegmentInfo {
  const inspector = new TsInspector();
  const packets = inspector.push(segment);
  const codecs: string[] = [];
  const video = inspector.video;
  if (video?.codec === 'h264') {
    const avc = h264CodecName(packets, video.pid);
    if (avc) codecs.push(avc);
  }
  for (const audio of inspector.pmt?.streams.filter((s) => s.kind === 'audio') ?? []) {
    const name = audio.codec === 'aac' ? 'mp4a.40.2' : audio.codec === 'ac3' ? 'ac-3' : audio.codec === 'eac3' ? 'ec-3' : '';
    if (name && !codecs.includes(name)) codecs.push(name);
  }
  return { codecs };
}

/** avc1.PPCCLL from the first SPS NAL unit (type 7) in the video PID's payloads. */
function h264CodecName(packets: Buffer, pid: number): string | undefined {
  const payloads: Buffer[] = [];
  for (let o = 0; o < packets.length && payloads.length < 64; o += TS_PACKET_SIZE) {
    const header = readPacketHeader(packets, o);
    if (header?.pid === pid && header.payloadOffset < TS_PACKET_SIZE) payloads.push(packets.subarray(o + header.payloadOffset, o + TS_PACKET_SIZE));
  }
  const data = Buffer.concat(payloads);
  for (let i = 0; i + 6 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1 && (data[i + 3] & 0x1f) === 7) {
      const hex = (n: number): string => n.toString(16).padStart(2, '0');
      return `avc1.${hex(data[i + 4])}${hex(data[i + 5])}${hex(data[i + 6])}`;
    }
  }
  return undefined;
}

export function masterPlaylist(bandwidth: number, codecs: string[], mediaPlaylist: string): string {
  const attributes = [`BANDWIDTH=${Math.max(1, bandwidth)}`];
  if (codecs.length > 0) attributes.push(`CODECS="${codecs.join(',')}"`);
  return ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS', `#EXT-X-STREAM-INF:${attributes.join(',')}`, mediaPlaylist, ''].join('\n');
}
