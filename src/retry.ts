/**
 * The two habits every part of the core shares when something keeps failing: wait longer between
 * tries (Backoff), and say a failure once rather than on every try (LogOnce).
 */

export interface BackoffOptions {
  /** The first delay, in ms. */
  firstMs: number;
  /** The longest delay, in ms (default: firstMs, a fixed delay). */
  maxMs?: number;
  /** Growth per try (default 2 when maxMs > firstMs, else 1). */
  factor?: number;
  /** Tries before giving up (default: never give up). */
  attempts?: number;
}

/** Delays between tries: firstMs, then ×factor up to maxMs; `next()` is undefined once the tries are used up. */
export class Backoff {
  private tries = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** Tries made since the last reset. */
  get used(): number {
    return this.tries;
  }

  get limit(): number {
    return this.options.attempts ?? Infinity;
  }

  /** The delay before the next try, counting it; undefined when no tries are left. */
  next(): number | undefined {
    if (this.tries >= this.limit) return undefined;
    const { firstMs, maxMs = firstMs } = this.options;
    const factor = this.options.factor ?? (maxMs > firstMs ? 2 : 1);
    this.tries++;
    return Math.min(firstMs * factor ** (this.tries - 1), maxMs);
  }

  /** After a success: the next failure starts again from the first delay and the full budget. */
  reset(): void {
    this.tries = 0;
  }
}

/**
 * Writes a line only when it differs from the one before, so a failure that repeats on every poll,
 * retry or tap is logged once, and again when it changes or after it cleared.
 */
export class LogOnce {
  private last = '';

  constructor(private readonly write: (line: string) => void) {}

  /** The line last written and not cleared since, '' when none. */
  get current(): string {
    return this.last;
  }

  /** Writes `line` unless it is the current one. */
  say(line: string): void {
    if (line === this.last) return;
    this.last = line;
    this.write(line);
  }

  /** The failure is over; returns true when there was one (to say so, for example). */
  clear(): boolean {
    const had = this.last !== '';
    this.last = '';
    return had;
  }
}
