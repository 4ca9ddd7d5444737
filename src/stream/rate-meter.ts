/**
 * Current throughput over a short sliding window, without timers: bytes are counted into fixed
 * buckets keyed by time, and the rate is read from the buckets still inside the window.
 */
const BUCKETS = 4;

export class RateMeter {
  private readonly bucketMs: number;
  private readonly counts = new Array<number>(BUCKETS).fill(0);
  private readonly stamps = new Array<number>(BUCKETS).fill(-1);

  constructor(private readonly windowMs: number, private readonly now: () => number = Date.now) {
    this.bucketMs = this.windowMs / BUCKETS;
  }

  add(bytes: number): void {
    const slot = Math.floor(this.now() / this.bucketMs);
    const index = slot % BUCKETS;
    if (this.stamps[index] !== slot) {
      this.stamps[index] = slot;
      this.counts[index] = 0;
    }
    this.counts[index] += bytes;
  }

  /** Bits per second over the last window (the bucket in progress counts as a partial one). */
  bitsPerSecond(): number {
    const now = this.now();
    const slot = Math.floor(now / this.bucketMs);
    let bytes = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.stamps[i] > slot - BUCKETS && this.stamps[i] <= slot) bytes += this.counts[i];
    }
    const spanMs = (BUCKETS - 1) * this.bucketMs + (now % this.bucketMs);
    return spanMs > 0 ? Math.round((bytes * 8 * 1000) / spanMs) : 0;
  }
}
