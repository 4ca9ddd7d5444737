/**
 * The camera's picture when there is no picture: a dark JPEG with one short line of text ("IN
 * STANDBY", "UNREACHABLE", "NO PICTURE"). The text is drawn here with a built-in 5×7 bitmap font into
 * raw RGB and ffmpeg only encodes it: ffmpeg's drawtext needs a font file, and neither a Homebridge
 * host nor ffmpeg-for-homebridge's static build reliably has one. Pictures are cached per size and
 * text; without ffmpeg a fixed tiny dark JPEG stands in (HomeKit scales it).
 */
import { CAMERA_FRAME_DECODE_TIMEOUT_MS, CAMERA_JPEG_MAX_BYTES, CAMERA_PLACEHOLDER_CACHE_MAX } from '../settings';
import { placeholderArgs } from './ffmpeg-args';
import { runFfmpegOnce } from './ffmpeg-once';

export type PlaceholderText = 'IN STANDBY' | 'UNREACHABLE' | 'NO PICTURE';

/** A 16×8 dark grey JPEG (222 bytes), for hosts without ffmpeg. */
const FALLBACK_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgUFBcUFxsbGxsbGyAeICEhISAgICAhISEkJCQqKiokJCQhISQkKCgqKi4vLisrKisvLzIyMjw8OTlGRkhWVmf/xABLAAEBAAAAAAAAAAAAAAAAAAAABwEBAAAAAAAAAAAAAAAAAAAAABABAAAAAAAAAAAAAAAAAAAAABEBAAAAAAAAAAAAAAAAAAAAAP/AABEIAAgAEAMBIgACEQADEQD/2gAMAwEAAhEDEQA/AI8AD//Z',
  'base64',
);

const BACKGROUND = [0x20, 0x20, 0x20];
const FOREGROUND = [0xe0, 0xe0, 0xe0];
const GLYPH_W = 5;
const GLYPH_H = 7;
/** Text spans at most this share of the picture's width. */
const TEXT_WIDTH_SHARE = 0.7;

/** 5×7 glyphs, one string of 7 rows per character, '#' = ink. Only what the texts above use. */
const FONT: Record<string, string[]> = {
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  B: ['####.', '#...#', '#...#', '####.', '#...#', '#...#', '####.'],
  C: ['.###.', '#...#', '#....', '#....', '#....', '#...#', '.###.'],
  D: ['####.', '#...#', '#...#', '#...#', '#...#', '#...#', '####.'],
  E: ['#####', '#....', '#....', '####.', '#....', '#....', '#####'],
  H: ['#...#', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  I: ['.###.', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  L: ['#....', '#....', '#....', '#....', '#....', '#....', '#####'],
  N: ['#...#', '##..#', '#.#.#', '#..##', '#...#', '#...#', '#...#'],
  O: ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  P: ['####.', '#...#', '#...#', '####.', '#....', '#....', '#....'],
  R: ['####.', '#...#', '#...#', '####.', '#.#..', '#..#.', '#...#'],
  S: ['.####', '#....', '#....', '.###.', '....#', '....#', '####.'],
  T: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..'],
  U: ['#...#', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  Y: ['#...#', '#...#', '.#.#.', '..#..', '..#..', '..#..', '..#..'],
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
};

/** `text` centred on a dark background, as raw RGB24 of `width`×`height`. */
export function renderText(text: string, width: number, height: number): Buffer {
  const image = Buffer.alloc(width * height * 3);
  for (let i = 0; i < image.length; i += 3) image.set(BACKGROUND, i);
  // One column of space after each glyph; the scale makes the text fill its share of the width.
  const columns = text.length * (GLYPH_W + 1) - 1;
  const scale = Math.max(1, Math.min(Math.floor((width * TEXT_WIDTH_SHARE) / columns), Math.floor((height * 0.3) / GLYPH_H)));
  const left = Math.floor((width - columns * scale) / 2);
  const top = Math.floor((height - GLYPH_H * scale) / 2);
  [...text].forEach((char, index) => {
    const glyph = FONT[char] ?? FONT[' '];
    for (let row = 0; row < GLYPH_H; row++) {
      for (let col = 0; col < GLYPH_W; col++) {
        if (glyph[row][col] !== '#') continue;
        const x0 = left + (index * (GLYPH_W + 1) + col) * scale;
        const y0 = top + row * scale;
        for (let y = y0; y < y0 + scale; y++) {
          if (y < 0 || y >= height) continue;
          for (let x = x0; x < x0 + scale; x++) if (x >= 0 && x < width) image.set(FOREGROUND, (y * width + x) * 3);
        }
      }
    }
  });
  return image;
}

export class Placeholders {
  private readonly cache = new Map<string, Promise<Buffer>>();

  constructor(private readonly ffmpegPath: string, private readonly signal: AbortSignal) {}

  /** The placeholder JPEG for `text` at `width`×`height`; never rejects. */
  picture(text: PlaceholderText, width: number, height: number): Promise<Buffer> {
    if (this.ffmpegPath === '') return Promise.resolve(FALLBACK_JPEG);
    // JPEG's 4:2:0 chroma wants even sides.
    const w = width & ~1;
    const h = height & ~1;
    const key = `${w}x${h} ${text}`;
    let picture = this.cache.get(key);
    if (!picture) {
      picture = runFfmpegOnce({
        ffmpegPath: this.ffmpegPath, args: placeholderArgs(w, h), input: renderText(text, w, h),
        timeoutMs: CAMERA_FRAME_DECODE_TIMEOUT_MS, maxOutputBytes: CAMERA_JPEG_MAX_BYTES, label: `the "${text.toLowerCase()}" picture`, signal: this.signal,
      }).catch(() => {
        // Not kept: the next call tries ffmpeg again.
        this.cache.delete(key);
        return FALLBACK_JPEG;
      });
      // The oldest picture makes room: the Home app asks for a handful of sizes, so this rarely runs.
      if (this.cache.size >= CAMERA_PLACEHOLDER_CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, picture);
    }
    return picture;
  }
}
