/**
 * Failed attempts per key with exponential back-off: the first `free` failures in `windowMs` cost
 * nothing; after that each further attempt must wait `baseMs * 2^(failures - free)` (at most
 * `maxMs`) after the latest failure. Failures older than `windowMs` are forgotten.
 */
export interface BackoffOptions {
  free: number;
  baseMs: number;
  maxMs: number;
  windowMs: number;
  /** Keys kept at most (attacker-chosen usernames and addresses); the oldest are dropped beyond. */
  maxKeys?: number;
}

const DEFAULT_MAX_KEYS = 100_000;

export class BackoffLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly options: BackoffOptions) {}

  /** Failures of `key` still within the window. */
  count(key: string, now = Date.now()): number {
    return this.recent(key, now).length;
  }

  /** Milliseconds until `key` may try again; 0 when it may now. */
  retryAfter(key: string, now = Date.now()): number {
    const times = this.recent(key, now);
    const over = times.length - this.options.free;
    if (over < 0) return 0;
    const delay = Math.min(this.options.baseMs * 2 ** over, this.options.maxMs);
    return Math.max(0, times[times.length - 1]! + delay - now);
  }

  /** Records a failure; returns a function that takes this one back (an attempt that turned out fine). */
  fail(key: string, now = Date.now()): () => void {
    const times = this.recent(key, now);
    times.push(now);
    this.failures.delete(key); // re-inserted last: Map order is then least recently failed first
    this.failures.set(key, times);
    if (this.failures.size > (this.options.maxKeys ?? DEFAULT_MAX_KEYS)) this.shrink(now);
    return () => {
      const current = this.failures.get(key);
      const i = current?.lastIndexOf(now) ?? -1;
      if (!current || i < 0) return;
      current.splice(i, 1);
      if (!current.length) this.failures.delete(key);
    };
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  get size(): number {
    return this.failures.size;
  }

  private recent(key: string, now: number): number[] {
    const times = (this.failures.get(key) ?? []).filter((t) => t > now - this.options.windowMs);
    if (times.length) this.failures.set(key, times);
    else this.failures.delete(key);
    return times;
  }

  /** Drops keys whose failures aged out, then (still too many) the least recently failed ones. */
  private shrink(now: number): void {
    const limit = this.options.maxKeys ?? DEFAULT_MAX_KEYS;
    for (const [key, times] of this.failures) if (times[times.length - 1]! <= now - this.options.windowMs) this.failures.delete(key);
    for (const key of this.failures.keys()) {
      if (this.failures.size <= limit) break;
      this.failures.delete(key);
    }
  }
}

/**
 * The three limits of password checks (sign-in and change of password). See docs/limits.md.
 * - (account, address): 3 free failures, then 1 s, 2 s, 4 s ... up to 15 min: the guesser slows down
 *   fast, and nobody else is affected.
 * - account, from every address: over 20 failures an hour, an address that has itself failed on this
 *   account waits 1 s, 2 s ... up to 1 min more; an address without failures on it is not held back,
 *   so the owner signs in while someone else guesses.
 * - address, over every account: 30 free failures, then 1 s, 2 s ... up to 15 min (credential stuffing).
 */
export const SIGN_IN_LIMITS = {
  pair: { free: 3, baseMs: 1_000, maxMs: 15 * 60_000, windowMs: 60 * 60_000 },
  account: { free: 20, baseMs: 1_000, maxMs: 60_000, windowMs: 60 * 60_000 },
  address: { free: 30, baseMs: 1_000, maxMs: 15 * 60_000, windowMs: 60 * 60_000 },
} as const satisfies Record<string, BackoffOptions>;

/** Password-check limiter: which wait applies to an attempt, and recording its outcome. */
export class SignInLimiter {
  private readonly pair: BackoffLimiter;
  private readonly account: BackoffLimiter;
  private readonly address: BackoffLimiter;

  constructor(limits: { pair: BackoffOptions; account: BackoffOptions; address: BackoffOptions } = SIGN_IN_LIMITS) {
    this.pair = new BackoffLimiter(limits.pair);
    this.account = new BackoffLimiter(limits.account);
    this.address = new BackoffLimiter(limits.address);
  }

  /** Milliseconds the attempt on `account` from `address` must wait, and why; 0 when it may go on. */
  retryAfter(account: string, address: string, now = Date.now()): { ms: number; reason: 'pair' | 'account' | 'address' | null } {
    const pairKey = `${account}\u0000${address}`;
    const pair = this.pair.retryAfter(pairKey, now);
    // The account-wide slow-down holds back only addresses that have failed on this account.
    const account_ = this.pair.count(pairKey, now) > 0 ? this.account.retryAfter(account, now) : 0;
    const addr = this.address.retryAfter(address, now);
    const ms = Math.max(pair, account_, addr);
    if (ms === 0) return { ms: 0, reason: null };
    return { ms, reason: ms === pair ? 'pair' : ms === addr ? 'address' : 'account' };
  }

  /**
   * Counts an attempt as failed before the (slow) check, so that concurrent guesses cannot all pass
   * `retryAfter` while their hashes are computed. Call `succeeded` when the password was right (the
   * address's failures on this account are forgotten), `cancel` when it could not be checked.
   */
  attempt(account: string, address: string, now = Date.now()): { succeeded(): void; cancel(): void } {
    const pairKey = `${account}\u0000${address}`;
    const forgivePair = this.pair.fail(pairKey, now);
    const forgiveAccount = this.account.fail(account, now);
    const forgiveAddress = this.address.fail(address, now);
    return {
      succeeded: () => {
        this.pair.reset(pairKey);
        forgiveAccount();
        forgiveAddress();
      },
      cancel: () => {
        forgivePair();
        forgiveAccount();
        forgiveAddress();
      },
    };
  }
}
