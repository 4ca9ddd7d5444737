// Remote key names and codes.
import { KEY_CODES, KeyError, keyName, parseKey } from '../../src/receiver/keys';

describe('KEY_CODES', () => {
  it('holds the codes of openwebif-api.md', () => {
    expect(KEY_CODES).toMatchObject({
      POWER: 116, VOLUME_UP: 115, VOLUME_DOWN: 114, MUTE: 113, UP: 103, DOWN: 108, LEFT: 105, RIGHT: 106,
      OK: 352, EXIT: 174, BACK: 158, MENU: 139, INFO: 358, EPG: 365, CHANNEL_UP: 402, CHANNEL_DOWN: 403,
      PLAY: 207, PAUSE: 119, PLAY_PAUSE: 164, STOP: 128, RECORD: 167, REWIND: 168, FAST_FORWARD: 208,
      NEXT: 407, PREVIOUS: 412, RED: 398, GREEN: 399, YELLOW: 400, BLUE: 401,
    });
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => KEY_CODES[`DIGIT_${d}` as keyof typeof KEY_CODES])).toEqual([11, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('has no two names for one code', () => {
    const codes = Object.values(KEY_CODES);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe('parseKey', () => {
  it.each([
    ['POWER', 116],
    ['power', 116],
    [' Menu ', 139],
    ['volume_up', 115],
    ['KEY_VOLUMEUP', 115],
    ['key_channeldown', 403],
    ['PlayPause', 164],
    ['DIGIT_0', 11],
    ['digit5', 6],
    ['KEY_0', 11],
    ['KEY_9', 10],
    ['116', 116],
    [358, 358],
    [2, 2],
  ] as const)('%j → %i', (input, code) => {
    expect(parseKey(input)).toBe(code);
  });

  it.each([['POWERR'], [''], ['KEY_'], ['1.5'], ['-3'], ['power;rm'], ['VOLUME UP']])('rejects the name %j', (input) => {
    expect(() => parseKey(input)).toThrow(KeyError);
  });

  it.each([[0], [-1], [1.5], [NaN], [Infinity], [0x300]])('rejects the code %d', (input) => {
    expect(() => parseKey(input)).toThrow(KeyError);
  });

  it('rejects values that are neither names nor codes', () => {
    expect(() => parseKey(null as never)).toThrow(KeyError);
    expect(() => parseKey({} as never)).toThrow(KeyError);
  });

  it('names a known code', () => {
    expect(keyName(352)).toBe('OK');
    expect(keyName(999)).toBeUndefined();
  });
});
