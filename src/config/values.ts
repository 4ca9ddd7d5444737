/**
 * Small value helpers shared by the config readers: lenient booleans (true/false/1/0/yes/no),
 * URL credential redaction, and quoting a value for an error message without leaking secrets.
 */

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** A boolean from a real boolean, 1/0, or a word; undefined when it is none of those. */
export function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value !== 'string') return undefined;
  const w = value.trim().toLowerCase();
  if (TRUE_WORDS.has(w)) return true;
  if (FALSE_WORDS.has(w)) return false;
  return undefined;
}

/** The URL with any password in its user-info replaced by '***' (also for unparsable input). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

const SHOW_MAX = 80;

/** A value as it should appear in an error message: strings quoted, URLs redacted, long ones cut. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    const s = redactUrl(value);
    return JSON.stringify(s.length > SHOW_MAX ? `${s.slice(0, SHOW_MAX)}…` : s);
  }
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
