/**
 * HomeKit's naming rules for accessory, service and input names: letters, digits, spaces and a few
 * punctuation marks only, starting and ending with a letter or digit, at most 64 characters. Names
 * that break them make the Home app refuse the accessory or the whole bridge stop responding, so
 * every name from a receiver (channel names carry "&", "(IPTV)", "+1", emoji ...) passes through here.
 */
import { HOMEKIT_NAME_MAX_LENGTH } from '../settings';

/** Characters HomeKit accepts inside a name (not at its ends). */
const ALLOWED = /[\p{L}\p{N} '’.,-]/u;
const ALNUM = /[\p{L}\p{N}]/u;

/**
 * The name made acceptable to HomeKit: "&" becomes "and", "+" becomes "plus", other characters
 * become spaces, runs of spaces collapse, the ends are trimmed to a letter or digit, and the name
 * is cut to 64 characters. Returns `fallback` (itself cleaned) when nothing usable is left.
 */
export function cleanName(input: string, fallback = 'Channel'): string {
  const replaced = Array.from(String(input ?? '').normalize('NFC'))
    .map((ch) => (ch === '&' ? ' and ' : ch === '+' ? ' plus ' : ALLOWED.test(ch) ? ch : ' '))
    .join('');
  let name = trimToAlnum(replaced.replace(/\s+/g, ' '));
  if (Array.from(name).length > HOMEKIT_NAME_MAX_LENGTH) {
    name = trimToAlnum(Array.from(name).slice(0, HOMEKIT_NAME_MAX_LENGTH).join(''));
  }
  if (name !== '') return name;
  return fallback === '' ? 'Channel' : cleanName(fallback, '');
}

/** True when HomeKit accepts the name as it is. */
export function isValidName(name: string): boolean {
  return name !== '' && cleanName(name, '') === name;
}

function trimToAlnum(s: string): string {
  const chars = Array.from(s);
  let start = 0;
  let end = chars.length;
  while (start < end && !ALNUM.test(chars[start])) start++;
  while (end > start && !ALNUM.test(chars[end - 1])) end--;
  return chars.slice(start, end).join('');
}
