/**
 * The simulated box's picon folder: small real PNGs, made here (one colour and a stripe, distinct
 * per channel), under the names a real picon pack uses. Like a real box, not every channel has one
 * under its own reference, so the proxy's fallbacks are exercised:
 *   - most channels: under their own reference (`1_0_19_2B8E_3F2_1_C00000_0_0_0.png`);
 *   - Das Erste HD: only under its SD reference (`1_0_1_283D_3FB_1_C00000_0_0_0.png`);
 *   - ZDF HD: only under its name (`zdfhd.png`);
 *   - Fix & Foxi and the IPTV channel: none.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { parseServiceRef, piconName } from '../receiver/service-ref';
import type { SimChannel } from './channels';

/** Real picons are 220×132. */
const WIDTH = 220;
const HEIGHT = 132;

const ONLY_AS_SD = '1:0:19:283D:3FB:1:C00000:0:0:0:';
const ONLY_BY_NAME = new Map([['1:0:19:2B66:3F3:1:C00000:0:0:0:', 'zdfhd.png']]);
const WITHOUT = new Set(['1:0:16:2F1C:441:1:C00000:0:0:0:']);

type Rgb = readonly [number, number, number];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data, CRC over type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit RGB PNG of one colour with a horizontal stripe across its middle fifth. */
export function stripedPng(width: number, height: number, background: Rgb, stripe: Rgb): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type RGB, deflate, filter 0, no interlace
  const stride = 1 + width * 3;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const colour = y >= (height * 2) / 5 && y < (height * 3) / 5 ? stripe : background;
    raw[y * stride] = 0; // filter: none
    for (let x = 0; x < width; x++) raw.set(colour, y * stride + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A channel's logo: colours from a hash of its reference, so every channel looks different. */
function logoOf(ref: string): Buffer {
  const h = createHash('sha1').update(ref).digest();
  const background: Rgb = [h[0], h[1], h[2]];
  const stripe: Rgb = [255 - h[0], 255 - h[1], 255 - h[2]];
  return stripedPng(WIDTH, HEIGHT, background, stripe);
}

/** The picon folder: file name → PNG. */
export function buildPicons(channels: Iterable<SimChannel>): Map<string, Buffer> {
  const folder = new Map<string, Buffer>();
  for (const channel of channels) {
    const ref = parseServiceRef(channel.ref);
    if (WITHOUT.has(ref.ref) || channel.profile === null) continue;
    const logo = logoOf(ref.ref);
    const byName = ONLY_BY_NAME.get(ref.ref);
    if (byName !== undefined) folder.set(byName, logo);
    else if (ref.ref === ONLY_AS_SD) folder.set(piconName(parseServiceRef(ref.ref.replace(/^1:0:19:/, '1:0:1:'))), logo);
    else folder.set(piconName(ref), logo);
  }
  return folder;
}
