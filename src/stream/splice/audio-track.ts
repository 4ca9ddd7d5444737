/**
 * One re-encoded audio track of the splice: it reassembles the track's PES packets, hands ffmpeg
 * whole frames only, and stamps the ADTS AAC frames that come back with the source's own clock
 * before packing them into PES and TS packets on the track's PID.
 *
 * The clock: the encoder turns input sample n into output sample n + priming. The track keeps a
 * short list of anchors — "input time T (90 kHz ticks fed so far) has source PTS P" — made at the
 * first frame and again wherever the source's PTS departs from the fed duration (a jump, a wrap,
 * lost packets). AAC frame k then gets the PTS of its first sample by the anchor before it, so the
 * audio stays sample-exact with the video and never drifts, with one encoder for the whole session.
 */
import { Logger } from '../../logger';
import {
  SPLICE_ANCHOR_TOLERANCE_TICKS,
  SPLICE_PES_MAX_BYTES, SPLICE_ENCODER_PRIMING_SAMPLES, SPLICE_UNSYNCED_MAX_BYTES, TS_PACKET_SIZE,
} from '../../settings';
import { AudioOptions, audioEncodeArgs } from '../ffmpeg-args';
import { Clock, systemClock } from '../../clock';
import { FfmpegHandle, spawnFfmpeg, SpawnFfmpeg } from '../ffmpeg-process';
import { FfmpegWatchdog } from '../ffmpeg-watchdog';
import { StreamError } from '../stream-error';
import { FFMPEG_RAW_FORMAT, FrameCodec, frameReader, FrameRead, readAdts, SHORT } from './audio-frames';
import { Continuity, PTS_WRAP, readTimestamp, writePes } from './ts-write';

const TICKS_PER_SECOND = 90_000;

export interface AudioTrackOptions {
  pid: number;
  codec: FrameCodec;
  /** For log lines and errors, e.g. "ARD (deu)". */
  label: string;
  ffmpegPath: string;
  audio: AudioOptions;
  log: Logger;
  /** The PID's output counter, handed on when a new encoder takes over the track. */
  continuity?: Continuity;
  /** The encoder failed or cannot keep up; the session decides what follows. */
  onFailure: (error: StreamError) => void;
  /** The track's data cannot be framed: the session falls back to the full remux. */
  onUnsupported: (reason: string) => void;
  clock?: Clock;
  spawn?: SpawnFfmpeg;
  /** Ends the encoder when aborted (the owner's lifetime). */
  signal?: AbortSignal;
}

interface Anchor {
  /** Input time fed to the encoder before this frame, in 90 kHz ticks. */
  time: number;
  pts: number;
}

/** Signed difference a − b of two 33-bit timestamps, taking the shorter way round the wrap. */
function ptsDiff(a: number, b: number): number {
  let d = (a - b) % PTS_WRAP;
  if (d > PTS_WRAP / 2) d -= PTS_WRAP;
  if (d < -PTS_WRAP / 2) d += PTS_WRAP;
  return d;
}

export class AudioTrack {
  readonly encoder: FfmpegHandle;
  /** Times the clock was re-anchored after the first frame (jumps, wraps, losses). */
  reanchors = 0;
  /** Packets lost on the input (continuity errors), whose PES were dropped. */
  losses = 0;

  private readonly cc: Continuity;
  private readonly readFrame: (buf: Buffer, at: number) => FrameRead;
  private readonly clock: Clock;
  /** The PES being assembled (reused buffer) and how much of it is filled. */
  private pes = Buffer.allocUnsafe(16 * 1024);
  private pesBytes = 0;
  private assembling = false;
  private lastCc = -1;
  /** Bytes of an unfinished frame from the previous PES, and the PTS that frame started with. */
  private carry: Buffer | undefined;
  private carryPts: number | undefined;
  private unsyncedBytes = 0;
  private framed = false;
  private fedTicks = 0;
  private readonly anchors: Anchor[] = [];
  /** Output side: ADTS bytes not yet a whole frame, output samples so far, the ready TS packets. */
  private outCarry: Buffer | undefined;
  private outTicks = 0;
  private ready: Buffer[] = [];
  private readonly watchdog = new FfmpegWatchdog();
  private failed = false;
  private finishing = false;

  constructor(private readonly options: AudioTrackOptions) {
    this.cc = options.continuity ?? new Continuity();
    this.readFrame = frameReader(options.codec);
    this.clock = options.clock ?? systemClock;
    this.encoder = (options.spawn ?? spawnFfmpeg)(options.ffmpegPath, audioEncodeArgs(FFMPEG_RAW_FORMAT[options.codec], options.audio), {
      label: options.label,
      log: (line) => options.log.warn(line),
      signal: options.signal,
    });
    this.encoder.stdout.on('data', (chunk: Buffer) => this.onEncoded(chunk));
    this.encoder.on('exit', (exit: { stopped: boolean; code: number | null }) => {
      if (!exit.stopped && !this.finishing) this.fail(`ffmpeg stopped while encoding ${options.label} (exit code ${exit.code})`);
    });
  }

  get codec(): FrameCodec {
    return this.options.codec;
  }

  /** The PID's output counter, which PCR-only packets repeat. */
  get continuity(): Continuity {
    return this.cc;
  }

  /** TS packets of AAC ready to go out, oldest first; the track forgets them. */
  take(): Buffer[] {
    const out = this.ready;
    if (out.length > 0) this.ready = [];
    return out;
  }

  /** Takes one source packet of this track's PID (already known to be 188 bytes, sync checked). */
  push(packet: Buffer): void {
    const flags = packet[3];
    if ((flags & 0x10) === 0) return; // no payload (a PCR-only packet): the splice handles it
    const cc = flags & 0x0f;
    const duplicate = cc === this.lastCc;
    const lost = this.lastCc >= 0 && !duplicate && cc !== ((this.lastCc + 1) & 0x0f);
    this.lastCc = cc;
    if (duplicate) return;
    if (lost) {
      // The PES under way misses bytes: drop it; the next PES's PTS re-anchors the clock.
      this.losses++;
      this.assembling = false;
      this.carry = undefined;
      this.carryPts = undefined;
    }
    // Still scrambled (the relay's first moments): nothing to decode; the next clear PES starts anew.
    if ((flags & 0xc0) !== 0) {
      this.assembling = false;
      return;
    }
    const start = (flags & 0x20) !== 0 ? 5 + packet[4] : 4;
    if (start >= TS_PACKET_SIZE) return;
    const unitStart = (packet[1] & 0x40) !== 0;
    if (unitStart) {
      if (this.assembling) this.onPes(this.pes.subarray(0, this.pesBytes));
      this.assembling = true;
      this.pesBytes = 0;
    } else if (!this.assembling) {
      return;
    }
    this.append(packet, start);
    // A PES of declared length is complete with its last byte: no need to wait for the next one.
    if (this.pesBytes >= 6) {
      const declared = this.pes.readUInt16BE(4);
      if (declared > 0 && this.pesBytes >= 6 + declared) {
        this.assembling = false;
        this.onPes(this.pes.subarray(0, 6 + declared));
      }
    }
  }

  /** End of input (a finite source): encodes what is left and resolves when all of it is out. */
  async finish(): Promise<void> {
    if (this.assembling) {
      this.assembling = false;
      this.onPes(this.pes.subarray(0, this.pesBytes));
    }
    this.finishing = true;
    const drained = new Promise((resolve) => this.encoder.stdout.once('close', resolve));
    this.encoder.stdin.end();
    await Promise.all([this.encoder.wait(), drained]);
  }

  /** Ends the encoder; resolves when it has exited. */
  async stop(): Promise<void> {
    this.failed = true;
    await this.encoder.stop();
  }

  private append(packet: Buffer, start: number): void {
    const length = TS_PACKET_SIZE - start;
    if (this.pesBytes + length > this.pes.length) {
      if (this.pesBytes + length > SPLICE_PES_MAX_BYTES) {
        // Not an audio PES (or a broken one): nothing sane to decode from it.
        this.assembling = false;
        return;
      }
      const bigger = Buffer.allocUnsafe(Math.min(SPLICE_PES_MAX_BYTES, this.pes.length * 2));
      this.pes.copy(bigger, 0, 0, this.pesBytes);
      this.pes = bigger;
    }
    packet.copy(this.pes, this.pesBytes, start, TS_PACKET_SIZE);
    this.pesBytes += length;
  }

  /** A complete PES: split it into frames, anchor the clock at its PTS, feed the encoder. */
  private onPes(pes: Buffer): void {
    if (this.failed || pes.length < 9 || pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) return;
    const headerEnd = 9 + pes[8];
    if (headerEnd > pes.length) return;
    const pts = (pes[7] & 0x80) !== 0 ? readTimestamp(pes, 9) : undefined;
    const es = pes.subarray(headerEnd);
    const carried = this.carry?.length ?? 0;
    const data = this.carry ? Buffer.concat([this.carry, es]) : es;
    const carriedPts = this.carryPts;
    this.carry = undefined;
    this.carryPts = undefined;
    let offset = 0;
    let ptsPending = pts;
    let runStart = -1;
    const runs: Buffer[] = [];
    while (offset < data.length) {
      const frame = this.readFrame(data, offset);
      if (frame === SHORT || (frame !== undefined && offset + frame.length > data.length)) {
        // A frame split over two PES keeps the PTS of the PES it started in.
        this.carry = Buffer.from(data.subarray(offset));
        this.carryPts = offset >= carried ? ptsPending : carriedPts;
        break;
      }
      if (frame === undefined) {
        if (runStart >= 0) runs.push(data.subarray(runStart, offset));
        runStart = -1;
        offset++;
        this.unsyncedBytes++;
        if (!this.framed && this.unsyncedBytes > SPLICE_UNSYNCED_MAX_BYTES) {
          this.failed = true;
          this.options.onUnsupported(`no ${this.options.codec} frames found in ${this.options.label}`);
          return;
        }
        continue;
      }
      this.framed = true;
      // The PES's PTS belongs to the first frame that starts in it (ISO 13818-1 2.4.3.7).
      if (offset === 0 && carriedPts !== undefined) this.anchor(carriedPts);
      if (ptsPending !== undefined && offset >= carried) {
        this.anchor(ptsPending);
        ptsPending = undefined;
      }
      if (this.anchors.length > 0) {
        if (runStart < 0) runStart = offset;
        this.fedTicks += (frame.samples * TICKS_PER_SECOND) / frame.sampleRate;
      }
      offset += frame.length;
    }
    if (runStart >= 0) runs.push(data.subarray(runStart, offset));
    if (runs.length > 0) this.feed(runs.length === 1 ? Buffer.from(runs[0]) : Buffer.concat(runs));
  }

  private anchor(pts: number): void {
    const last = this.anchors[this.anchors.length - 1];
    if (last) {
      const predicted = (last.pts + Math.round(this.fedTicks - last.time)) % PTS_WRAP;
      if (Math.abs(ptsDiff(pts, predicted)) <= SPLICE_ANCHOR_TOLERANCE_TICKS) return;
      this.reanchors++;
    }
    this.anchors.push({ time: this.fedTicks, pts });
  }

  private feed(frames: Buffer): void {
    const { stdin } = this.encoder;
    const now = this.clock.now();
    // No other deadline covers an encoder that never answers: its silence counts from the first frame.
    this.watchdog.expectOutput(now);
    const why = this.watchdog.check(stdin.writableLength, now);
    if (why) {
      this.fail(`ffmpeg ${why} ${this.options.label}`);
      return;
    }
    stdin.write(frames);
  }

  /** ADTS from the encoder: each frame becomes one PES stamped by the anchors. */
  private onEncoded(chunk: Buffer): void {
    if (this.failed) return;
    this.watchdog.output(this.clock.now());
    const data = this.outCarry ? Buffer.concat([this.outCarry, chunk]) : chunk;
    this.outCarry = undefined;
    let offset = 0;
    while (offset < data.length) {
      const frame = readAdts(data, offset);
      if (frame === SHORT || (frame !== undefined && offset + frame.length > data.length)) {
        this.outCarry = Buffer.from(data.subarray(offset));
        return;
      }
      if (frame === undefined) {
        offset++; // never happens with ffmpeg's own ADTS; resync rather than give up
        continue;
      }
      const priming = (SPLICE_ENCODER_PRIMING_SAMPLES * TICKS_PER_SECOND) / frame.sampleRate;
      this.ready.push(writePes(this.options.pid, data.subarray(offset, offset + frame.length), this.ptsAt(this.outTicks - priming), this.cc));
      this.outTicks += (frame.samples * TICKS_PER_SECOND) / frame.sampleRate;
      offset += frame.length;
    }
  }

  /** The source PTS of input time `time` (ticks), by the last anchor at or before it. */
  private ptsAt(time: number): number {
    while (this.anchors.length > 1 && this.anchors[1].time <= time) this.anchors.shift();
    const anchor = this.anchors[0];
    if (!anchor) return 0;
    const pts = (anchor.pts + Math.round(time - anchor.time)) % PTS_WRAP;
    return pts < 0 ? pts + PTS_WRAP : pts;
  }

  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.options.onFailure(new StreamError('ffmpeg', message));
  }
}
