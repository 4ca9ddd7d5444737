/**
 * The audio splice: the transcode path that touches nothing but the audio. Every packet that is not
 * a re-encoded audio track passes through byte for byte (video, PCR, teletext, subtitles, PAT and
 * other PSI, continuity counters and all); the PMT is rewritten to announce AAC; each AC-3, E-AC-3,
 * MP2 or LATM track goes through its own audio-only ffmpeg (AudioTrack) and comes back as AAC on
 * its own PID, put in at the next chunk (a hold of one upstream read, tens of ms).
 *
 * A track's packets that carried the PCR (radio services often put it on the audio PID) are kept as
 * packets without payload, so the broadcaster's clock reaches the client unchanged.
 */
import { Clock } from '../../clock';
import { Logger } from '../../logger';
import { PSI_SECTION_MAX_BYTES, SPLICE_ENCODER_RESTARTS, TS_PACKET_SIZE } from '../../settings';
import { AudioOptions } from '../ffmpeg-args';
import { SpawnFfmpeg } from '../ffmpeg-process';
import { StreamError } from '../stream-error';
import { ElementaryStream, parsePmt, Pmt, SectionAssembler } from '../ts';
import { FrameCodec } from './audio-frames';
import { AudioTrack } from './audio-track';
import { rewritePmt } from './pmt-rewrite';
import { Continuity, packetHasPcr, writePcrOnly, writeSection } from './ts-write';

export interface AudioSpliceOptions {
  pmtPid: number;
  /** The PMT already known, so the encoders start before the first keyframe arrives. */
  pmt: Pmt;
  /** Re-encode AAC (ADTS) tracks too (`audio.mode: always`). */
  reencodeAac: boolean;
  ffmpegPath: string;
  audio: AudioOptions;
  /** Channel name for log lines and errors. */
  label: string;
  log: Logger;
  onFailure: (error: StreamError) => void;
  onUnsupported: (reason: string) => void;
  clock?: Clock;
  spawn?: SpawnFfmpeg;
  /** Ends every encoder when aborted (the owner's lifetime). */
  signal?: AbortSignal;
}

const SPLICED: ReadonlySet<string> = new Set<FrameCodec>(['ac3', 'eac3', 'mp2', 'aac_latm']);

/** The tracks of a PMT that the splice re-encodes, by PID. */
export function splicedStreams(pmt: Pmt, reencodeAac: boolean): ElementaryStream[] {
  return pmt.streams.filter((s) => s.kind === 'audio' && (SPLICED.has(s.codec) || (reencodeAac && s.codec === 'aac')));
}

export class AudioSplice {
  private readonly tracks = new Map<number, AudioTrack>();
  private readonly pmtAssembler = new SectionAssembler(PSI_SECTION_MAX_BYTES);
  private readonly pmtCc = new Continuity();
  /** The last source PMT section and its rewritten packets, reused while the PMT stays the same. */
  private sourcePmt: Buffer | undefined;
  private rewritten: Buffer | undefined;
  private stopped = false;
  /** Encoder restarts so far; past SPLICE_ENCODER_RESTARTS a failure ends the pipe instead. */
  private restarts = 0;

  constructor(private readonly options: AudioSpliceOptions) {
    this.updateTracks(options.pmt);
  }

  /** Encoder process ids, for status and leak checks. */
  get pids(): number[] {
    return [...this.tracks.values()].flatMap((t) => (t.encoder.running && t.encoder.pid !== undefined ? [t.encoder.pid] : []));
  }

  /** Clock re-anchors and lost input packets over all tracks, for tests that make the source misbehave. */
  get counters(): { reanchors: number; losses: number } {
    let reanchors = 0;
    let losses = 0;
    for (const t of this.tracks.values()) {
      reanchors += t.reanchors;
      losses += t.losses;
    }
    return { reanchors, losses };
  }

  /**
   * Takes whole, aligned packets; returns what goes out now: the AAC the encoders made since the
   * last call, then the input with the audio and PMT packets replaced. Without anything to replace,
   * the input itself is returned (no copy).
   */
  push(packets: Buffer): Buffer {
    const parts: Buffer[] = [];
    for (const track of this.tracks.values()) for (const p of track.take()) parts.push(p);
    const pmtPid = this.options.pmtPid;
    let runStart = 0;
    for (let at = 0; at + TS_PACKET_SIZE <= packets.length; at += TS_PACKET_SIZE) {
      const pid = ((packets[at + 1] & 0x1f) << 8) | packets[at + 2];
      const track = this.tracks.get(pid);
      if (pid !== pmtPid && !track) continue;
      if (at > runStart) parts.push(packets.subarray(runStart, at));
      runStart = at + TS_PACKET_SIZE;
      const packet = packets.subarray(at, at + TS_PACKET_SIZE);
      if (track) {
        track.push(packet);
        if (packetHasPcr(packet)) parts.push(writePcrOnly(packet, pid, track.continuity));
      } else {
        const pmt = this.onPmtPacket(packet);
        if (pmt) parts.push(pmt);
      }
    }
    if (runStart === 0 && parts.length === 0) return packets;
    if (runStart < packets.length) parts.push(packets.subarray(runStart));
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** End of input (a finite source): the AAC of everything pushed so far. */
  async finish(): Promise<Buffer> {
    const tracks = [...this.tracks.values()];
    await Promise.all(tracks.map((t) => t.finish()));
    return Buffer.concat(tracks.flatMap((t) => t.take()));
  }

  /** Ends every encoder. */
  async stop(): Promise<void> {
    this.stopped = true;
    const tracks = [...this.tracks.values()];
    this.tracks.clear();
    await Promise.all(tracks.map((t) => t.stop()));
  }

  /** A packet of the PMT PID: dropped; a completed PMT goes out rewritten in its place. */
  private onPmtPacket(packet: Buffer): Buffer | undefined {
    const flags = packet[3];
    const start = (flags & 0x20) !== 0 ? 5 + packet[4] : 4;
    if ((flags & 0x10) === 0 || start >= TS_PACKET_SIZE) return undefined;
    let out: Buffer | undefined;
    for (const section of this.pmtAssembler.push(packet.subarray(start), (packet[1] & 0x40) !== 0)) {
      if (section[0] !== 0x02) continue;
      if (!this.sourcePmt || !section.equals(this.sourcePmt)) {
        const pmt = parsePmt(section);
        if (!pmt || pmt.program !== this.options.pmt.program) continue;
        this.updateTracks(pmt);
        const rewritten = rewritePmt(section, new Set(this.tracks.keys()));
        if (!rewritten) continue;
        this.sourcePmt = Buffer.from(section);
        this.rewritten = rewritten;
      }
      out = writeSection(packet.readUInt16BE(1) & 0x1fff, this.rewritten!, this.pmtCc);
    }
    return out;
  }

  /** Starts an encoder for each new track, ends those of tracks that went away or changed codec. */
  private updateTracks(pmt: Pmt): void {
    if (this.stopped) return;
    const wanted = new Map(splicedStreams(pmt, this.options.reencodeAac).map((s) => [s.pid, s]));
    for (const [pid, track] of this.tracks) {
      if (wanted.get(pid)?.codec === track.codec) continue;
      this.tracks.delete(pid);
      void track.stop();
    }
    for (const [pid, stream] of wanted) if (!this.tracks.has(pid)) this.startTrack(stream);
  }

  private startTrack(stream: ElementaryStream, continuity?: Continuity): void {
    const language = stream.language ? ` (${stream.language})` : '';
    const track = new AudioTrack({
      pid: stream.pid,
      codec: stream.codec as FrameCodec,
      label: `the ${stream.codec} audio${language} of ${this.options.label}`,
      ffmpegPath: this.options.ffmpegPath,
      audio: this.options.audio,
      log: this.options.log,
      continuity,
      clock: this.options.clock,
      spawn: this.options.spawn,
      signal: this.options.signal,
      onFailure: (error) => this.onTrackFailure(track, stream, error),
      onUnsupported: this.options.onUnsupported,
    });
    this.tracks.set(stream.pid, track);
  }

  /**
   * One encoder failed (exited, hangs, falls behind): a new one takes over that track alone, so the
   * picture goes on; only repeated failures end the pipe (the session then reconnects or gives up).
   */
  private onTrackFailure(track: AudioTrack, stream: ElementaryStream, error: StreamError): void {
    if (this.stopped || this.tracks.get(stream.pid) !== track) return;
    void track.stop();
    if (this.restarts >= SPLICE_ENCODER_RESTARTS) {
      this.options.onFailure(error);
      return;
    }
    this.restarts++;
    this.options.log.warn(`${error.message}; restarting that encoder (${this.restarts} of ${SPLICE_ENCODER_RESTARTS}).`);
    this.startTrack(stream, track.continuity);
  }
}
