/**
 * Time for the parts that keep deadlines (stream sessions, upstream connections): a Clock that
 * tests replace with one they advance by hand, so every deadline can be tested without sleeping;
 * an Alarm, the one-shot timer those parts arm and cancel, which its owner's AbortSignal cancels;
 * and a child lifetime that ends with its parent, so nothing outlives what started it.
 */

/** An opaque handle of a scheduled callback. */
export type ClockTimer = unknown;

export interface Clock {
  /** Milliseconds, like Date.now(). */
  now(): number;
  setTimeout(callback: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/** A one-shot timer: arm() (re)starts it, cancel() stops it, and so does the signal's abort. */
export class Alarm {
  private handle: ClockTimer | undefined;

  constructor(private readonly clock: Clock, private readonly onFire: () => void, signal?: AbortSignal) {
    signal?.addEventListener('abort', () => this.cancel(), { once: true });
  }

  get armed(): boolean {
    return this.handle !== undefined;
  }

  arm(ms: number): void {
    this.cancel();
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      this.onFire();
    }, ms);
  }

  cancel(): void {
    if (this.handle === undefined) return;
    this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }
}

/** An AbortController that aborts when `parent` does (and stops listening once it has aborted itself). */
export function childLifetime(parent: AbortSignal): AbortController {
  const child = new AbortController();
  if (parent.aborted) {
    child.abort();
    return child;
  }
  const onParentAbort = (): void => child.abort();
  parent.addEventListener('abort', onParentAbort, { once: true });
  child.signal.addEventListener('abort', () => parent.removeEventListener('abort', onParentAbort), { once: true });
  return child;
}
