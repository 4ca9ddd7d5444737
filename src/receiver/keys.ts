/**
 * Remote control keys: the Linux input key codes `/api/remotecontrol?command=` takes
 * (docs/openwebif-api.md), by name, and `parseKey` for names and codes that come from users
 * (config `infoKey`, MQTT commands).
 */

export const KEY_CODES = {
  POWER: 116,
  VOLUME_UP: 115,
  VOLUME_DOWN: 114,
  MUTE: 113,
  UP: 103,
  DOWN: 108,
  LEFT: 105,
  RIGHT: 106,
  OK: 352,
  EXIT: 174,
  BACK: 158,
  MENU: 139,
  INFO: 358,
  EPG: 365,
  CHANNEL_UP: 402,
  CHANNEL_DOWN: 403,
  PLAY: 207,
  PAUSE: 119,
  PLAY_PAUSE: 164,
  STOP: 128,
  RECORD: 167,
  REWIND: 168,
  FAST_FORWARD: 208,
  NEXT: 407,
  PREVIOUS: 412,
  RED: 398,
  GREEN: 399,
  YELLOW: 400,
  BLUE: 401,
  DIGIT_0: 11,
  DIGIT_1: 2,
  DIGIT_2: 3,
  DIGIT_3: 4,
  DIGIT_4: 5,
  DIGIT_5: 6,
  DIGIT_6: 7,
  DIGIT_7: 8,
  DIGIT_8: 9,
  DIGIT_9: 10,
} as const;

export type KeyName = keyof typeof KEY_CODES;

/** Highest Linux input key code (KEY_MAX, 0x2ff). */
export const KEY_CODE_MAX = 0x2ff;

export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyError';
  }
}

/** Names compared without case, underscores or a `KEY_` prefix: VOLUME_UP = KEY_VOLUMEUP = volumeup. */
function squash(name: string): string {
  return name.toUpperCase().replace(/^KEY_/, '').replace(/_/g, '');
}

const BY_SQUASHED = new Map<string, number>(Object.entries(KEY_CODES).map(([name, code]) => [squash(name), code]));

/**
 * A key name (case-insensitive; Linux `KEY_…` spellings and `KEY_0`…`KEY_9` for digits accepted) or
 * a key code (a number, or a string of digits), to the code. Throws `KeyError` for anything else.
 */
export function parseKey(key: string | number): number {
  if (typeof key === 'number') {
    if (Number.isInteger(key) && key > 0 && key <= KEY_CODE_MAX) return key;
    throw new KeyError(`remote key code ${key} is not a whole number from 1 to ${KEY_CODE_MAX}`);
  }
  if (typeof key !== 'string') throw new KeyError('a remote key must be a name like POWER or a key code');
  const text = key.trim();
  if (/^\d+$/.test(text)) return parseKey(Number(text));
  const digit = /^KEY_(\d)$/i.exec(text);
  if (digit) return KEY_CODES[`DIGIT_${digit[1]}` as KeyName];
  const code = /^[A-Za-z_0-9]+$/.test(text) ? BY_SQUASHED.get(squash(text)) : undefined;
  if (code === undefined) {
    throw new KeyError(`unknown remote key "${text.slice(0, 30)}": use a name like POWER, OK, MENU, INFO, CHANNEL_UP, DIGIT_1 or a key code`);
  }
  return code;
}

/** The name of a known key code, undefined for others. */
export function keyName(code: number): KeyName | undefined {
  return (Object.keys(KEY_CODES) as KeyName[]).find((name) => KEY_CODES[name] === code);
}
