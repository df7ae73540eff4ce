import { LIMITS } from '@inkboard/protocol';

/** Token buckets per key: `rate` tokens a second, up to `burst`. Idle keys are forgotten. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly rate: number,
    readonly burst: number,
  ) {}

  /** Takes `cost` tokens if there are enough; false means "too many". */
  take(key: string, cost = 1, now = Date.now()): boolean {
    const b = this.refill(key, now);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }

  /**
   * For costs that vary by size (points, bytes): takes `cost` when the bucket holds it, or, for a
   * cost larger than the burst, when the bucket is full; the bucket then owes the rest and refills
   * from below zero. Returns 0 when taken, else the seconds until it would be.
   */
  spend(key: string, cost: number, now = Date.now()): number {
    const b = this.refill(key, now);
    const needed = Math.min(cost, this.burst);
    if (b.tokens < needed) return (needed - b.tokens) / this.rate;
    b.tokens -= cost;
    return 0;
  }

  private refill(key: string, now: number): { tokens: number; at: number } {
    let b = this.buckets.get(key);
    if (b === undefined) {
      // Only a new key can grow the map (a lookup per message, no insertion: issue 19).
      if (this.buckets.size >= 10_000) this.prune(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
      return b;
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    return b;
  }

  private prune(now: number): void {
    for (const [key, b] of this.buckets) if (b.tokens + ((now - b.at) / 1000) * this.rate >= this.burst) this.buckets.delete(key);
  }
}

/** Per-user limits of what a person can send (docs/limits.md). */
export const RATE_LIMITS = {
  ops: { rate: 200, burst: 400 },
  cursor: { rate: 60, burst: 120 },
  preview: { rate: 120, burst: 240 },
  /** Points in pushes (added strokes, lines, arrows, patched point lists): a push costs its size, not 1. */
  points: { rate: 20_000, burst: 100_000 },
  /** Elements added or updated by pushes (each one is validated and merged: a move of 2,000 elements costs 2,000, not 1). */
  elementChanges: { rate: 5_000, burst: 20_000 },
  /** UTF-8 bytes of element data in pushes. */
  bytes: { rate: 1024 * 1024, burst: 4 * 1024 * 1024 },
  /** Points in live previews (an element's, or appended). */
  previewPoints: { rate: LIMITS.previewPointsPerSecond, burst: 2 * LIMITS.previewPointsPerSecond },
  /** Bytes of board snapshots sent to a person's joining subscriptions (a board at its budget is about 10-20 MB; INKBOARD_SNAPSHOT_MB_PER_SECOND). */
  snapshotBytes: { rate: 64 * 1024 * 1024, burst: 128 * 1024 * 1024 },
  chat: { rate: 2, burst: 10 },
  typing: { rate: 4, burst: 8 },
  /** Views announced for followers (the web app sends at most 10 a second, only while the view changes). */
  view: { rate: 15, burst: 30 },
  boards: { rate: 2, burst: 20 },
  /** Version history calls (history.*: lists, states, restores; a state also counts as snapshot bytes). */
  history: { rate: 20, burst: 100 },
} as const;
export type RateLimitKind = keyof typeof RATE_LIMITS;

/** The buckets of RATE_LIMITS, with `overrides` (settings) in place of the defaults. */
export function createRateLimiters(overrides: Partial<Record<RateLimitKind, { rate: number; burst: number }>> = {}): Record<RateLimitKind, TokenBuckets> {
  const limits = { ...RATE_LIMITS, ...overrides };
  return Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, new TokenBuckets(v.rate, v.burst)])) as Record<RateLimitKind, TokenBuckets>;
}
