// The picon store on its own: the disk bound (least recently used evicted), the memory layer, what
// it finds in its folder after a restart; and the names the proxy asks the box for.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync, crc32 } from 'node:zlib';
import { silentLogger } from '../../src/logger';
import { parseServiceRef } from '../../src/receiver/service-ref';
import { buildPicons, stripedPng } from '../../src/simulator/picons';
import { buildChannelData } from '../../src/simulator/channels';
import { cacheFileName, PiconCache } from '../../src/stream/picon-cache';
import { piconCandidates, piconNameOfTitle } from '../../src/stream/picons';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A PNG-looking buffer of `size` bytes, different per `seed`. */
const png = (seed: number, size = 300): Buffer => Buffer.concat([SIGNATURE, Buffer.alloc(size - SIGNATURE.length, seed)]);

describe('PiconCache', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'xg2g-picon-cache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const cache = (maxDiskBytes: number, maxMemoryBytes = 500): PiconCache =>
    new PiconCache({ dir, maxDiskBytes, maxMemoryBytes, touchIntervalMs: 0, log: silentLogger });
  const files = (): string[] => readdirSync(dir).sort();
  const bytesOnDisk = (): number => readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);

  it('keeps the folder within its bound, evicting the least recently used first', async () => {
    const c = cache(1000);
    c.put('a.png', png(1));
    c.put('b.png', png(2));
    c.put('c.png', png(3));
    await c.flush();
    expect(files()).toEqual(['a.png', 'b.png', 'c.png']);
    // Using a makes b the least recently used.
    expect((await c.get('a.png'))?.png).toEqual(png(1));
    c.put('d.png', png(4));
    await c.flush();
    expect(files()).toEqual(['a.png', 'c.png', 'd.png']);
    expect(bytesOnDisk()).toBeLessThanOrEqual(1000);
    expect(c.diskSize).toBe(bytesOnDisk());
  });

  it('serves hot picons from memory and the rest from disk', async () => {
    const c = cache(10_000, 500);
    c.put('a.png', png(1));
    c.put('b.png', png(2)); // the memory layer holds one 300-byte picon: a drops out of it
    await c.flush();
    rmSync(join(dir, 'a.png'));
    rmSync(join(dir, 'b.png'));
    expect((await c.get('b.png'))?.png).toEqual(png(2));
    expect(await c.get('a.png')).toBeUndefined();
    expect(await c.get('never.png')).toBeUndefined();
  });

  it('finds its files again after a restart, within a lowered bound, without leftovers or broken files', async () => {
    const first = cache(10_000);
    for (let i = 0; i < 5; i++) first.put(`p${i}.png`, png(i));
    await first.flush();
    writeFileSync(join(dir, 'broken.png'), 'not a png');
    writeFileSync(join(dir, `p9.png.tmp-1234abcd`), png(9).subarray(0, 20));

    const second = cache(10_000);
    const again = await second.get('p3.png');
    expect(again?.png).toEqual(png(3));
    expect(again?.etag).toMatch(/^"[0-9a-f]{20}"$/);
    expect(await second.get('broken.png')).toBeUndefined();
    expect(files()).not.toContain('broken.png');
    expect(files().some((f) => f.includes('.tmp-'))).toBe(false);

    const smaller = cache(700);
    await smaller.get('p0.png');
    expect(bytesOnDisk()).toBeLessThanOrEqual(700);
    expect(files().length).toBe(2);
  });

  it('stores names that are not plain file names under a hash', () => {
    expect(cacheFileName('1_0_19_283D_3FB_1_C00000_0_0_0.png')).toBe('1_0_19_283D_3FB_1_C00000_0_0_0.png');
    const odd = cacheFileName('4097_0_1_0_0_0_0_0_0_0_http__host_x.m3u8.png');
    expect(odd).toMatch(/^~[0-9a-f]{32}\.png$/);
    expect(cacheFileName('../../etc/passwd.png')).toMatch(/^~[0-9a-f]{32}\.png$/);
  });
});

describe('picon names', () => {
  it('spells channel names as OpenWebIF looks them up', () => {
    expect(piconNameOfTitle('Das Erste HD')).toBe('daserstehd.png');
    expect(piconNameOfTitle('Fix & Foxi')).toBe('fixandfoxi.png');
    expect(piconNameOfTitle('ProSieben MAXX+')).toBe('prosiebenmaxxplus.png');
    expect(piconNameOfTitle('Télé 5*')).toBe('tele5star.png');
    expect(piconNameOfTitle('ÖRF 2 Süd')).toBe('orf2sud.png');
    expect(piconNameOfTitle(' -- ')).toBeUndefined();
  });

  it('asks for the reference, its SD variant for HD and UHD types, then the name', () => {
    const names = (ref: string, name: string): string[] => piconCandidates({ ref: parseServiceRef(ref), name });
    expect(names('1:0:19:283D:3FB:1:C00000:0:0:0:', 'Das Erste HD')).toEqual([
      '1_0_19_283D_3FB_1_C00000_0_0_0.png',
      '1_0_1_283D_3FB_1_C00000_0_0_0.png',
      'daserstehd.png',
    ]);
    expect(names('1:0:1F:1:2:3:C00000:0:0:0:', 'UHD1')[1]).toBe('1_0_1_1_2_3_C00000_0_0_0.png');
    expect(names('1:0:16:2F1C:441:1:C00000:0:0:0:', 'Fix & Foxi')[1]).toBe('1_0_1_2F1C_441_1_C00000_0_0_0.png');
    expect(names('1:0:1:6DCA:44D:1:C00000:0:0:0:', 'Das Erste')).toEqual(['1_0_1_6DCA_44D_1_C00000_0_0_0.png', 'daserste.png']);
    expect(names('1:0:2:6F09:3F1:1:C00000:0:0:0:', 'Deutschlandfunk')).toEqual(['1_0_2_6F09_3F1_1_C00000_0_0_0.png', 'deutschlandfunk.png']);
  });
});

describe('the simulator picons', () => {
  /** Walks the chunks, checking each CRC; returns the image size and the inflated pixel data. */
  function decode(file: Buffer): { width: number; height: number; pixels: Buffer } {
    expect(file.subarray(0, 8)).toEqual(SIGNATURE);
    let at = 8;
    let width = 0;
    let height = 0;
    const idat: Buffer[] = [];
    const types: string[] = [];
    while (at < file.length) {
      const length = file.readUInt32BE(at);
      const type = file.toString('ascii', at + 4, at + 8);
      const data = file.subarray(at + 8, at + 8 + length);
      expect(file.readUInt32BE(at + 8 + length)).toBe(crc32(file.subarray(at + 4, at + 8 + length)));
      types.push(type);
      if (type === 'IHDR') {
        width = data.readUInt32BE(0);
        height = data.readUInt32BE(4);
        expect([...data.subarray(8)]).toEqual([8, 2, 0, 0, 0]);
      }
      if (type === 'IDAT') idat.push(data);
      at += 12 + length;
    }
    expect(types).toEqual(['IHDR', 'IDAT', 'IEND']);
    return { width, height, pixels: inflateSync(Buffer.concat(idat)) };
  }

  it('are valid PNGs, small and distinct', () => {
    const one = decode(stripedPng(4, 5, [1, 2, 3], [9, 9, 9]));
    expect(one).toMatchObject({ width: 4, height: 5 });
    expect(one.pixels.length).toBe(5 * (1 + 4 * 3));
    expect([...one.pixels.subarray(1, 4)]).toEqual([1, 2, 3]);
    expect([...one.pixels.subarray(2 * 13 + 1, 2 * 13 + 4)]).toEqual([9, 9, 9]);

    const folder = buildPicons(buildChannelData().channels.values());
    const logos = [...folder.values()];
    for (const logo of logos) {
      expect(decode(logo)).toMatchObject({ width: 220, height: 132 });
      expect(logo.length).toBeLessThan(4096);
    }
    expect(new Set(logos.map((l) => l.toString('base64'))).size).toBe(logos.length);
    expect(folder.has('1_0_1_283D_3FB_1_C00000_0_0_0.png')).toBe(true);
    expect(folder.has('1_0_19_283D_3FB_1_C00000_0_0_0.png')).toBe(false);
    expect(folder.has('zdfhd.png')).toBe(true);
    expect(folder.has('1_0_19_2B66_3F3_1_C00000_0_0_0.png')).toBe(false);
    expect([...folder.keys()].some((k) => k.includes('2F1C'))).toBe(false);
  });
});
