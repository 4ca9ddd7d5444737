/**
 * The logging interface the core writes to. Homebridge's logger fits it as is; the `xg2g` command
 * supplies a console one. Messages are sentences a user can act on, never containing secrets.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

interface TextOutput {
  write(chunk: string): unknown;
}

/** Timestamped lines for the command line: info and debug to `out`, warnings and errors to `err`. */
export function textLogger(out: TextOutput, err: TextOutput, options: { debug?: boolean } = {}): Logger {
  const line = (level: string, message: string): string => `${new Date().toISOString()} ${level} ${message}\n`;
  return {
    debug: (m) => { if (options.debug) out.write(line('DEBUG', m)); },
    info: (m) => out.write(line('INFO ', m)),
    warn: (m) => err.write(line('WARN ', m)),
    error: (m) => err.write(line('ERROR', m)),
  };
}

/** A logger that drops everything: for tests that assert on behaviour, not output. */
export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Joins parts into sentences with exactly one full stop after each, whether or not a part (often an
 * error's message) already ends with one: `sentences('Box refused the login.', 'Will keep trying')`.
 */
export function sentences(...parts: string[]): string {
  return parts.map((p) => p.trim()).filter((p) => p !== '').map((p) => (/[.!?]$/.test(p) ? p : `${p}.`)).join(' ');
}

/**
 * Control characters (C0, DEL, C1, the Unicode line and paragraph separators) and bidirectional
 * overrides written as \u{…}: a request path or a name from the network must not start a fake log
 * line or reorder what an admin reads.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_LOGS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function escapeForLog(text: string): string {
  return text.replace(UNSAFE_IN_LOGS, (c) => `\\u{${c.charCodeAt(0).toString(16).padStart(4, '0')}}`);
}

/** The same logger with every message escaped (see escapeForLog): the core logs through this. */
export function escapingLogger(log: Logger): Logger {
  return {
    debug: (m) => log.debug(escapeForLog(m)),
    info: (m) => log.info(escapeForLog(m)),
    warn: (m) => log.warn(escapeForLog(m)),
    error: (m) => log.error(escapeForLog(m)),
  };
}
