/**
 * The iOS Remote's keys (HomeKit's RemoteKey values) as the Enigma2 remote control key codes the
 * box understands. The info button is configurable (`infoKey`) because the iOS Remote has no menu
 * button and users disagree on which box key they miss most.
 */
import { KEY_CODES, parseKey } from '../receiver/keys';

/** HomeKit RemoteKey characteristic values (HAP specification, Television service). */
export const HOMEKIT_REMOTE_KEYS = {
  REWIND: 0,
  FAST_FORWARD: 1,
  NEXT_TRACK: 2,
  PREVIOUS_TRACK: 3,
  ARROW_UP: 4,
  ARROW_DOWN: 5,
  ARROW_LEFT: 6,
  ARROW_RIGHT: 7,
  SELECT: 8,
  BACK: 9,
  EXIT: 10,
  PLAY_PAUSE: 11,
  INFORMATION: 15,
} as const;

/**
 * Back and exit both send KEY_EXIT: Enigma2's keymaps bind "cancel/back" to KEY_EXIT on every
 * common remote, while KEY_BACK does nothing on most images.
 */
const FIXED: Record<number, number> = {
  [HOMEKIT_REMOTE_KEYS.REWIND]: KEY_CODES.REWIND,
  [HOMEKIT_REMOTE_KEYS.FAST_FORWARD]: KEY_CODES.FAST_FORWARD,
  [HOMEKIT_REMOTE_KEYS.NEXT_TRACK]: KEY_CODES.NEXT,
  [HOMEKIT_REMOTE_KEYS.PREVIOUS_TRACK]: KEY_CODES.PREVIOUS,
  [HOMEKIT_REMOTE_KEYS.ARROW_UP]: KEY_CODES.UP,
  [HOMEKIT_REMOTE_KEYS.ARROW_DOWN]: KEY_CODES.DOWN,
  [HOMEKIT_REMOTE_KEYS.ARROW_LEFT]: KEY_CODES.LEFT,
  [HOMEKIT_REMOTE_KEYS.ARROW_RIGHT]: KEY_CODES.RIGHT,
  [HOMEKIT_REMOTE_KEYS.SELECT]: KEY_CODES.OK,
  [HOMEKIT_REMOTE_KEYS.BACK]: KEY_CODES.EXIT,
  [HOMEKIT_REMOTE_KEYS.EXIT]: KEY_CODES.EXIT,
  [HOMEKIT_REMOTE_KEYS.PLAY_PAUSE]: KEY_CODES.PLAY_PAUSE,
};

/**
 * The Enigma2 key code for a HomeKit RemoteKey value, undefined for keys the box has no use for.
 * `infoKey` is the configured key name or code (validated by the config layer).
 */
export function enigma2KeyFor(remoteKey: number, infoKey: string): number | undefined {
  if (remoteKey === HOMEKIT_REMOTE_KEYS.INFORMATION) return parseKey(infoKey);
  return FIXED[remoteKey];
}
