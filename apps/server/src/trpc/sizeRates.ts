import { TRPCError } from '@trpc/server';
import type { TokenBuckets } from '../auth/TokenBucket.js';
import type { Context } from './context.js';
import { CLOSE_FLOODING, FLOOD_REFUSALS } from './trpc.js';

/** The rate buckets charged by size (auth/TokenBucket.ts), and how a refusal names what they count. */
const UNITS = { points: 'points', elementChanges: 'added or updated elements', bytes: 'bytes of element data', previewPoints: 'preview points' } as const;
export type SizeRateKind = keyof typeof UNITS;

const count = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * Charges `cost` (points or bytes a call carries) to the caller's bucket of `kind`, or throws
 * TOO_MANY_REQUESTS saying how much the call carried, the rate and when to retry. A cost larger than
 * the burst passes when the bucket is full and leaves it owing (TokenBuckets.spend). A socket that
 * keeps being refused is closed, as for the other rate limits.
 */
export function chargeSize(ctx: Pick<Context, 'app' | 'user' | 'address' | 'socket' | 'clientId'>, kind: SizeRateKind, cost: number): void {
  if (cost <= 0) return;
  const bucket = ctx.app.limits[kind];
  const wait = bucket.spend(ctx.user?.id ?? ctx.address, cost);
  if (wait === 0) return;
  ctx.app.metrics.refused.inc({ kind });
  if (ctx.socket && ctx.app.violations.count(ctx.socket) > FLOOD_REFUSALS) {
    ctx.app.metrics.refused.inc({ kind: 'flood_closed' });
    ctx.app.log.warn({ userId: ctx.user?.id, clientId: ctx.clientId, kind }, 'flooding socket closed');
    ctx.socket.close(CLOSE_FLOODING, 'too many requests: slow down');
  }
  throw sizeRefusal(kind, cost, bucket, wait);
}

/** TOO_MANY_REQUESTS for a call of `cost` that the bucket cannot take for another `wait` seconds. */
export function sizeRefusal(kind: SizeRateKind, cost: number, bucket: TokenBuckets, wait: number): TRPCError {
  const unit = UNITS[kind];
  return new TRPCError({
    code: 'TOO_MANY_REQUESTS',
    message: `Too many ${unit}: this carries ${count(cost)} ${unit} and one person may send ${count(bucket.rate)} a second (bursts up to ${count(bucket.burst)}). Nothing was applied; retry in ${Math.max(1, Math.ceil(wait))} s.`,
  });
}
