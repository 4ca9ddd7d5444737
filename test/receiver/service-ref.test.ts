// Service reference grammar, playability, encodings and stable ids.
import {
  channelId,
  channelNumber,
  encodeServiceRef,
  isIptv,
  isPlayable,
  parseServiceRef,
  piconName,
  ServiceRefError,
  tryParseServiceRef,
} from '../../src/receiver/service-ref';

const DAS_ERSTE = '1:0:19:283D:3FB:1:C00000:0:0:0:';
const MARKER = '1:64:1:0:0:0:0:0:0:0::--- Deutsch ---';
const BOUQUET = '1:7:1:0:0:0:0:0:0:0:FROM BOUQUET "userbouquet.favourites.tv" ORDER BY bouquet';
const IPTV = '4097:0:1:0:0:0:0:0:0:0:http%3a//example.com/live/x.m3u8:Demo IPTV';

describe('parseServiceRef', () => {
  it('parses a broadcast channel into its hex fields', () => {
    const ref = parseServiceRef(DAS_ERSTE);
    expect(ref).toMatchObject({ ref: DAS_ERSTE, type: 1, flags: 0, stype: 0x19, sid: 0x283d, tsid: 0x3fb, onid: 1, namespace: 0xc00000, path: '', name: '' });
  });

  it('adds the optional trailing colon and upper-cases hex fields', () => {
    expect(parseServiceRef('1:0:19:283d:3fb:1:c00000:0:0:0').ref).toBe(DAS_ERSTE);
  });

  it('keeps path and name of markers, bouquets and IPTV refs', () => {
    expect(parseServiceRef(MARKER)).toMatchObject({ flags: 64, path: '', name: '--- Deutsch ---', ref: MARKER });
    expect(parseServiceRef(BOUQUET)).toMatchObject({ flags: 7, path: 'FROM BOUQUET "userbouquet.favourites.tv" ORDER BY bouquet' });
    expect(parseServiceRef(IPTV)).toMatchObject({ type: 4097, path: 'http%3a//example.com/live/x.m3u8', name: 'Demo IPTV', ref: IPTV });
  });

  it.each([
    ['a hex flags field', '1:4A:19:283D:3FB:1:C00000:0:0:0:'],
    ['empty', ''],
    ['too long', '1:0:19:283D:3FB:1:C00000:0:0:0:' + 'a'.repeat(600)],
    ['control characters', '1:0:19:283D:3FB:1:C00000:0:0:0:\n'],
    ['a NUL byte', '1:0:19:283D\u0000:3FB:1:C00000:0:0:0:'],
    ['traversal', '../../etc/passwd'],
    ['traversal inside a path', '4097:0:1:0:0:0:0:0:0:0:http%3a//x/../../etc:N'],
    ['an absolute URL', 'http://evil.example/'],
    ['an absolute path', '/etc/passwd'],
    ['too few fields', '1:0:19:283D'],
    ['a non-hex field', '1:0:19:XYZ:3FB:1:C00000:0:0:0:'],
    ['an over-long hex field', '1:0:19:123456789:3FB:1:C00000:0:0:0:'],
    ['a negative field', '1:0:19:-1:3FB:1:C00000:0:0:0:'],
    ['plain words', 'hello world'],
  ])('rejects %s', (_label, input) => {
    expect(() => parseServiceRef(input)).toThrow(ServiceRefError);
    expect(tryParseServiceRef(input)).toBeUndefined();
  });

  it('gives a reason that names the problem', () => {
    expect(() => parseServiceRef('1:0:19:XYZ:3FB:1:C00000:0:0:0:')).toThrow(/field sid is not hex/);
  });
});

describe('isPlayable', () => {
  it('accepts only flags 0 entries', () => {
    expect(isPlayable(parseServiceRef(DAS_ERSTE))).toBe(true);
    expect(isPlayable(parseServiceRef(IPTV))).toBe(true);
    expect(isPlayable(parseServiceRef(MARKER))).toBe(false);
    expect(isPlayable(parseServiceRef('1:320:1:0:0:0:0:0:0:0::1. Numbered'))).toBe(false);
    expect(isPlayable(parseServiceRef('1:512:19:283D:3FB:1:C00000:0:0:0:'))).toBe(false);
    expect(isPlayable(parseServiceRef(BOUQUET))).toBe(false);
  });

  it('tells IPTV refs apart', () => {
    expect(isIptv(parseServiceRef(IPTV))).toBe(true);
    expect(isIptv(parseServiceRef(DAS_ERSTE))).toBe(false);
    expect(isIptv(parseServiceRef(BOUQUET))).toBe(false);
  });
});

describe('encodings', () => {
  it('encodes the whole ref for queries, keeping the literal %3a distinguishable', () => {
    expect(encodeServiceRef(parseServiceRef(DAS_ERSTE))).toBe('1%3A0%3A19%3A283D%3A3FB%3A1%3AC00000%3A0%3A0%3A0%3A');
    const encoded = encodeServiceRef(IPTV);
    expect(encoded).toContain('http%253a%2F%2F');
    expect(decodeURIComponent(encoded)).toBe(IPTV);
  });

  it('builds picon file names as OpenWebIF does', () => {
    expect(piconName(parseServiceRef(DAS_ERSTE))).toBe('1_0_19_283D_3FB_1_C00000_0_0_0.png');
    expect(piconName(parseServiceRef(IPTV))).not.toMatch(/[:/]/);
  });
});

describe('stable channel ids', () => {
  it('derives a readable id from the service identity', () => {
    expect(channelId(parseServiceRef(DAS_ERSTE))).toBe('283d_3fb_1_c00000');
    expect(channelId(parseServiceRef(IPTV))).toMatch(/^iptv_[0-9a-f]{8}$/);
  });

  it('ignores case, stype and the display name, so renames and bouquet edits keep it', () => {
    const a = parseServiceRef(DAS_ERSTE);
    const b = parseServiceRef('1:0:1:283d:3fb:1:c00000:0:0:0:');
    expect(channelId(b)).toBe(channelId(a));
    expect(channelNumber(b)).toBe(channelNumber(a));
    const renamed = parseServiceRef('4097:0:1:0:0:0:0:0:0:0:http%3a//example.com/live/x.m3u8:Other Name');
    expect(channelId(renamed)).toBe(channelId(parseServiceRef(IPTV)));
  });

  it('gives distinct non-zero 32-bit numbers to distinct channels', () => {
    const refs = ['1:0:19:283D:3FB:1:C00000:0:0:0:', '1:0:19:2B66:3F3:1:C00000:0:0:0:', '1:0:19:2B7A:3F3:1:C00000:0:0:0:', IPTV];
    const numbers = refs.map((r) => channelNumber(parseServiceRef(r)));
    expect(new Set(numbers).size).toBe(refs.length);
    for (const n of numbers) {
      expect(Number.isInteger(n)).toBe(true);
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThanOrEqual(0xffffffff);
    }
  });
});
