// Test helper: a Clock that only moves when the test advances it, so deadlines are checked exactly
// and without sleeping. Timers fire in due order; a timer set while advancing fires in the same
// advance when it falls within it.
import { Clock, ClockTimer } from '../../src/clock';

interface Pending { id: number; at: number; callback: () => void }

export class FakeClock implements Clock {
  private time = 1_000_000;
  private nextId = 1;
  private timers: Pending[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): ClockTimer {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(timer: ClockTimer): void {
    this.timers = this.timers.filter((t) => t.id !== timer);
  }

  /** Timers still scheduled. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.callback();
    }
    this.time = end;
  }
}
