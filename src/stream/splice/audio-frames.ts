/**
 * Audio frame headers of the codecs the splice re-encodes (AC-3, E-AC-3, MPEG audio, LATM in LOAS)
 * and of ADTS, which the encoder writes back: how long each frame is in bytes and in samples. The
 * splice needs both to hand ffmpeg whole frames only and to know, at every PES, where the source's
 * timeline stands, so the AAC it gets back can be stamped with the source's own clock.
 */
export type FrameCodec = 'ac3' | 'eac3' | 'mp2' | 'aac_latm' | 'aac';

export interface AudioFrame {
  /** Bytes, header included. */
  length: number;
  /** Samples of audio this frame adds to the timeline (0 for a dependent E-AC-3 substream). */
  samples: number;
  sampleRate: number;
}

/** Not enough bytes yet to read or complete the frame at this offset. */
export const SHORT = 'short';

/** What starts at `offset`: a frame, SHORT when more bytes are needed, or undefined (no frame here). */
export type FrameRead = AudioFrame | typeof SHORT | undefined;

const AC3_RATES = [48_000, 44_100, 32_000];
const AC3_KBPS = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640];
const EAC3_REDUCED_RATES = [24_000, 22_050, 16_000];
const EAC3_BLOCKS = [1, 2, 3, 6];

function readAc3Family(buf: Buffer, at: number): FrameRead {
  if (buf.length - at < 6) return SHORT;
  if (buf[at] !== 0x0b || buf[at + 1] !== 0x77) return undefined;
  const bsid = buf[at + 5] >> 3;
  const fscod = buf[at + 4] >> 6;
  if (bsid <= 10) {
    const frmsizecod = buf[at + 4] & 0x3f;
    if (fscod === 3 || frmsizecod > 37) return undefined;
    const kbps = AC3_KBPS[frmsizecod >> 1];
    const rate = AC3_RATES[fscod];
    // Frame size in 16-bit words (ATSC A/52 table 5.18): 44.1 kHz frames alternate by one word.
    const words = rate === 48_000 ? kbps * 2 : rate === 32_000 ? kbps * 3 : Math.floor((kbps * 1000 * 1536) / 44_100 / 16) + (frmsizecod & 1);
    return { length: words * 2, samples: 1536, sampleRate: rate };
  }
  if (bsid > 16) return undefined;
  const strmtyp = buf[at + 2] >> 6;
  const length = ((((buf[at + 2] & 0x07) << 8) | buf[at + 3]) + 1) * 2;
  const reduced = fscod === 3;
  const sampleRate = reduced ? EAC3_REDUCED_RATES[(buf[at + 4] >> 4) & 3] : AC3_RATES[fscod];
  if (sampleRate === undefined) return undefined;
  const blocks = reduced ? 6 : EAC3_BLOCKS[(buf[at + 4] >> 4) & 3];
  // A dependent substream (strmtyp 1) carries more channels of the same instant, not more time.
  return { length, samples: strmtyp === 1 ? 0 : blocks * 256, sampleRate };
}

const MPEG_RATES = [44_100, 48_000, 32_000];
const MPEG1_KBPS = [
  [],
  [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320], // layer III
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384], // layer II
  [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448], // layer I
];
const MPEG2_KBPS = [
  [],
  [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
];

function readMpegAudio(buf: Buffer, at: number): FrameRead {
  if (buf.length - at < 4) return SHORT;
  if (buf[at] !== 0xff || (buf[at + 1] & 0xe0) !== 0xe0) return undefined;
  const version = (buf[at + 1] >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
  const layer = (buf[at + 1] >> 1) & 3; // 3: I, 2: II, 1: III
  const bitrateIndex = buf[at + 2] >> 4;
  const rateIndex = (buf[at + 2] >> 2) & 3;
  if (version === 1 || layer === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return undefined;
  const mpeg1 = version === 3;
  const sampleRate = MPEG_RATES[rateIndex] / (mpeg1 ? 1 : version === 2 ? 2 : 4);
  const bitrate = (mpeg1 ? MPEG1_KBPS : MPEG2_KBPS)[layer][bitrateIndex] * 1000;
  const padding = (buf[at + 2] >> 1) & 1;
  if (layer === 3) return { length: (Math.floor((12 * bitrate) / sampleRate) + padding) * 4, samples: 384, sampleRate };
  const samples = layer === 1 && !mpeg1 ? 576 : 1152;
  return { length: Math.floor((samples / 8) * bitrate / sampleRate) + padding, samples, sampleRate };
}

const AAC_RATES = [96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000, 7_350];

/** ADTS: what ffmpeg's encoder writes, and AAC tracks re-encoded when audio.mode is `always`. */
export function readAdts(buf: Buffer, at: number): FrameRead {
  if (buf.length - at < 7) return SHORT;
  if (buf[at] !== 0xff || (buf[at + 1] & 0xf6) !== 0xf0) return undefined;
  const sampleRate = AAC_RATES[(buf[at + 2] >> 2) & 0x0f];
  const length = ((buf[at + 3] & 0x03) << 11) | (buf[at + 4] << 3) | (buf[at + 5] >> 5);
  if (sampleRate === undefined || length < 7) return undefined;
  return { length, samples: 1024 * ((buf[at + 6] & 0x03) + 1), sampleRate };
}

/** Reads bits most significant first, for LATM's StreamMuxConfig. */
class Bits {
  private bit = 0;
  constructor(private readonly buf: Buffer, private readonly start: number, private readonly end: number) {}

  read(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) {
      const byte = this.start + (this.bit >> 3);
      if (byte >= this.end) throw new RangeError('LATM header ends early');
      value = value * 2 + ((this.buf[byte] >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return value;
  }
}

/**
 * The frame duration of a LATM stream, from the StreamMuxConfig that the AudioMuxElement carries
 * (ISO 14496-3 1.7.3). With SBR (HE-AAC) the first sampling frequency is the core's, and a core
 * frame is 1024 (or 960) samples at that rate whatever the decoder's output rate.
 */
interface LatmConfig { samples: number; sampleRate: number }

function readLatmConfig(bits: Bits): LatmConfig | undefined {
  const audioMuxVersion = bits.read(1);
  if (audioMuxVersion === 1 && bits.read(1) === 1) return undefined; // audioMuxVersionA: reserved
  const latmValue = (): number => {
    const bytes = bits.read(2) + 1;
    return bits.read(8 * bytes);
  };
  if (audioMuxVersion === 1) latmValue(); // taraBufferFullness
  bits.read(1); // allStreamsSameTimeFraming
  const subFrames = bits.read(6) + 1;
  if (bits.read(4) !== 0 || bits.read(3) !== 0) return undefined; // one program, one layer only
  if (audioMuxVersion === 1) latmValue(); // ascLen
  const objectType = (): number => {
    const aot = bits.read(5);
    return aot === 31 ? 32 + bits.read(6) : aot;
  };
  const rate = (): number | undefined => {
    const index = bits.read(4);
    return index === 15 ? bits.read(24) : AAC_RATES[index];
  };
  let aot = objectType();
  const sampleRate = rate();
  bits.read(4); // channelConfiguration
  if (aot === 5 || aot === 29) {
    rate(); // the SBR output rate: more samples, the same duration
    aot = objectType();
  }
  if (sampleRate === undefined) return undefined;
  // GASpecificConfig of the AAC object types starts with frameLengthFlag (960-sample frames).
  const ga = [1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23].includes(aot);
  const frame = ga && bits.read(1) === 1 ? 960 : 1024;
  return { samples: frame * subFrames, sampleRate };
}

/** LOAS frames (sync 0x2B7); the duration comes from the last StreamMuxConfig seen. */
export class LatmReader {
  private config: LatmConfig | undefined;

  read(buf: Buffer, at: number): FrameRead {
    if (buf.length - at < 3) return SHORT;
    if (buf[at] !== 0x56 || (buf[at + 1] & 0xe0) !== 0xe0) return undefined;
    const length = 3 + (((buf[at + 1] & 0x1f) << 8) | buf[at + 2]);
    if (buf.length - at < length) return SHORT;
    try {
      const bits = new Bits(buf, at + 3, at + length);
      if (bits.read(1) === 0) this.config = readLatmConfig(bits) ?? this.config; // useSameStreamMux = 0
    } catch {
      return undefined;
    }
    return this.config ? { length, ...this.config } : undefined;
  }
}

/** A frame reader for one track (LATM keeps state between frames). */
export function frameReader(codec: FrameCodec): (buf: Buffer, at: number) => FrameRead {
  switch (codec) {
    case 'ac3': case 'eac3': return readAc3Family;
    case 'mp2': return readMpegAudio;
    case 'aac': return readAdts;
    case 'aac_latm': {
      const latm = new LatmReader();
      return (buf, at) => latm.read(buf, at);
    }
  }
}

/** ffmpeg's raw demuxer for each codec. */
export const FFMPEG_RAW_FORMAT: Record<FrameCodec, string> = {
  ac3: 'ac3', eac3: 'eac3', mp2: 'mp3', aac_latm: 'loas', aac: 'aac',
};
