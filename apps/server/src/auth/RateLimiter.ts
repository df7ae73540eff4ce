/**
 * Counts failures per key in a sliding window; a key with `max` failures in `windowMs` is blocked
 * until the oldest one ages out.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Milliseconds until `key` may try again; 0 when it may now. */
  retryAfter(key: string, now = Date.now()): number {
    const times = this.recent(key, now);
    return times.length >= this.max ? times[0]! + this.windowMs - now : 0;
  }

  /** Records a failure; returns a function that takes this one back (an attempt that turned out fine). */
  fail(key: string, now = Date.now()): () => void {
    const times = this.recent(key, now);
    times.push(now);
    this.failures.set(key, times);
    return () => {
      const current = this.failures.get(key);
      const i = current?.indexOf(now) ?? -1;
      if (!current || i < 0) return;
      current.splice(i, 1);
      if (!current.length) this.failures.delete(key);
    };
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    const times = (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (times.length) this.failures.set(key, times);
    else this.failures.delete(key);
    return times;
  }
}
