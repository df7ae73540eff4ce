import { describe, expect, it } from 'vitest';
import { BackoffLimiter, SignInLimiter, SIGN_IN_LIMITS } from './RateLimiter.js';

const T = 1_700_000_000_000;

describe('BackoffLimiter', () => {
  it('lets `free` failures pass, then doubles the wait after the latest failure, up to maxMs', () => {
    const limiter = new BackoffLimiter({ free: 2, baseMs: 1000, maxMs: 5000, windowMs: 60_000 });
    limiter.fail('k', T);
    expect(limiter.retryAfter('k', T)).toBe(0);
    limiter.fail('k', T);
    expect(limiter.retryAfter('k', T)).toBe(1000);
    expect(limiter.retryAfter('k', T + 400)).toBe(600);
    limiter.fail('k', T + 1000);
    expect(limiter.retryAfter('k', T + 1000)).toBe(2000);
    limiter.fail('k', T + 3000);
    expect(limiter.retryAfter('k', T + 3000)).toBe(4000);
    limiter.fail('k', T + 7000);
    expect(limiter.retryAfter('k', T + 7000)).toBe(5000); // capped
    expect(limiter.retryAfter('other', T)).toBe(0);
  });

  it('forgets failures older than the window; a taken-back failure does not count', () => {
    const limiter = new BackoffLimiter({ free: 1, baseMs: 1000, maxMs: 5000, windowMs: 10_000 });
    limiter.fail('k', T);
    const undo = limiter.fail('k', T + 1);
    expect(limiter.count('k', T + 1)).toBe(2);
    undo();
    expect(limiter.count('k', T + 1)).toBe(1);
    expect(limiter.retryAfter('k', T + 1)).toBe(999);
    expect(limiter.count('k', T + 10_001)).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('keeps at most maxKeys keys, dropping the least recently failed', () => {
    const limiter = new BackoffLimiter({ free: 0, baseMs: 1000, maxMs: 5000, windowMs: 60_000, maxKeys: 3 });
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) limiter.fail(key, T + i);
    expect(limiter.size).toBe(3);
    expect(limiter.count('a', T + 4)).toBe(0);
    expect(limiter.count('d', T + 4)).toBe(1);
  });
});

describe('SignInLimiter', () => {
  it('slows the guessing address and not another address of the same account', () => {
    const limiter = new SignInLimiter();
    for (let i = 0; i < 50; i++) {
      if (limiter.retryAfter('ada', 'A', T + i).ms === 0) limiter.attempt('ada', 'A', T + i);
    }
    expect(limiter.retryAfter('ada', 'A', T + 50)).toMatchObject({ reason: 'pair' });
    expect(limiter.retryAfter('ada', 'A', T + 50).ms).toBeGreaterThan(0);
    expect(limiter.retryAfter('ada', 'B', T + 50)).toEqual({ ms: 0, reason: null });
  });

  it('over the account-wide threshold holds back addresses that failed on the account, not fresh ones', () => {
    const limiter = new SignInLimiter();
    const n = SIGN_IN_LIMITS.account.free + 2;
    for (let i = 0; i < n; i++) limiter.attempt('ada', `10.0.0.${i}`, T);
    const dirty = limiter.retryAfter('ada', '10.0.0.0', T + 10);
    expect(dirty.reason).toBe('account');
    expect(dirty.ms).toBe(4000 - 10);
    expect(limiter.retryAfter('ada', '10.9.9.9', T + 10)).toEqual({ ms: 0, reason: null });
  });

  it('a right password forgets the address’s failures on the account; cancel takes one attempt back', () => {
    const limiter = new SignInLimiter();
    for (let i = 0; i < 3; i++) limiter.attempt('ada', 'A', T);
    limiter.attempt('ada', 'A', T + 5000).succeeded();
    expect(limiter.retryAfter('ada', 'A', T + 5000)).toEqual({ ms: 0, reason: null });
    for (let i = 0; i < 3; i++) limiter.attempt('bob', 'A', T);
    limiter.attempt('bob', 'A', T + 5000).cancel();
    expect(limiter.retryAfter('bob', 'A', T + 5000)).toEqual({ ms: 0, reason: null });
    limiter.attempt('bob', 'A', T + 5000);
    expect(limiter.retryAfter('bob', 'A', T + 5000).ms).toBe(2000);
  });
});
