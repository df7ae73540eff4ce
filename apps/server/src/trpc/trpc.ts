import { initTRPC, TRPCError } from '@trpc/server';
import type { Role } from '@inkboard/protocol';
import { z, ZodError } from 'zod';
import type { RateLimitKind } from '../auth/TokenBucket.js';
import { GUEST_OUT } from '../boards/AccessService.js';
import type { Context } from './context.js';
import { MAX_BATCH_SIZE } from '../plugins/httpGuard.js';

const t = initTRPC.context<Context>().create({
  // Never send stack traces to clients.
  isDev: false,
  errorFormatter({ shape, error }) {
    // Input validation: say which field is wrong and why, in words.
    if (error.code === 'BAD_REQUEST' && error.cause instanceof ZodError) {
      return { ...shape, message: `Invalid input: ${z.prettifyError(error.cause).replace(/\n/g, '; ')}` };
    }
    // tRPC's own refusal of a WebSocket message holding too many calls: name the limit, as over HTTP (httpGuard.ts).
    if (error.code === 'BAD_REQUEST' && error.message === 'Batch call exceeds maximum size') {
      return { ...shape, message: `A batch may hold at most ${MAX_BATCH_SIZE} calls; send them in several messages.` };
    }
    return shape;
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Anyone, signed in or not. */
export const publicProcedure = t.procedure;

/**
 * A signed-in person or a valid API token. Over a WebSocket the server is closing (credentials
 * ended, too many connections) nothing more is done, even for a client that ignores the close frame.
 */
export const authedProcedure = publicProcedure.use(({ ctx, next }) => next({ ctx: { user: requireUser(ctx) } }));

/** The caller, or UNAUTHORIZED (also on a WebSocket the server is closing). */
export function requireUser(ctx: Pick<Context, 'user' | 'socket'>): NonNullable<Context['user']> {
  if (!ctx.user || (ctx.socket && ctx.socket.readyState !== ctx.socket.OPEN)) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first (or pass a valid API token).' });
  return ctx.user;
}

/**
 * Who acts on a board: the signed-in user, or a guest as a user (its id, name and colour; the id
 * starts with GUEST_ID_PREFIX, so access checks find the guest's role), or UNAUTHORIZED.
 */
export function requireActor(ctx: Pick<Context, 'user' | 'guest' | 'guestEnded' | 'socket'>): NonNullable<Context['user']> {
  if (ctx.guest && !ctx.user && (!ctx.socket || ctx.socket.readyState === ctx.socket.OPEN)) return { id: ctx.guest.id, name: ctx.guest.name, color: ctx.guest.color, username: '' };
  if (!ctx.user && ctx.guestEnded) throw new TRPCError({ code: 'UNAUTHORIZED', message: GUEST_OUT });
  return requireUser(ctx);
}

/**
 * Per-user token bucket: over the limit the call gets TOO_MANY_REQUESTS and nobody else is slowed.
 * `cost` counts what the call carries (e.g. ops in a push).
 */
export function rateLimited<I>(kind: RateLimitKind, cost: (input: I) => number = () => 1) {
  return t.middleware(({ ctx, input, next }) => {
    takeRate(ctx, kind, cost(input as I));
    return next();
  });
}

/** Takes `cost` from the caller's bucket of `kind`, or throws TOO_MANY_REQUESTS (closing a socket that keeps flooding). */
export function takeRate(ctx: Pick<Context, 'app' | 'user' | 'address' | 'socket' | 'clientId'> & { guest?: Context['guest'] }, kind: RateLimitKind, cost = 1): void {
  const key = ctx.user?.id ?? ctx.guest?.id ?? ctx.address;
  if (ctx.app.limits[kind].take(key, cost)) return;
  ctx.app.metrics.refused.inc({ kind });
  if (ctx.socket && ctx.app.violations.count(ctx.socket) > FLOOD_REFUSALS) {
    // Refusing still costs a parse per message: a socket that keeps flooding is closed.
    ctx.app.metrics.refused.inc({ kind: 'flood_closed' });
    ctx.app.log.warn({ userId: ctx.user?.id, clientId: ctx.clientId, kind }, 'flooding socket closed');
    ctx.socket.close(CLOSE_FLOODING, 'too many requests: slow down');
  }
  throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Too many ${kind} requests; slow down and retry in a moment.` });
}

/** Refusals within `ViolationCounter`'s window after which a socket is closed. */
export const FLOOD_REFUSALS = 100;
/** Close code for a flooding socket: reconnect later (with backoff), slower. */
export const CLOSE_FLOODING = 4430;

/** Counts rate-limit refusals per socket over a sliding 5 s window. */
export class ViolationCounter {
  private readonly counts = new WeakMap<object, { n: number; since: number }>();

  count(socket: object, now = Date.now()): number {
    const c = this.counts.get(socket);
    const next = c && now - c.since < 5_000 ? { n: c.n + 1, since: c.since } : { n: 1, since: now };
    this.counts.set(socket, next);
    return next.n;
  }
}

/**
 * Procedures on one board, for callers with at least role `least` on it: members, and guests of
 * that board (issue 18), whose `user` is then the guest as others see it (`ctx.guest` stays set).
 */
export function boardProcedure(least: Role) {
  return publicProcedure.input(z.object({ boardId: z.string() })).use(async ({ ctx, input, next }) => {
    const guest = await guestOf(ctx, input.boardId);
    const user = requireActor({ ...ctx, ...guest });
    const role = await ctx.app.access.require(input.boardId, user.id, least);
    return next({ ctx: { role, user, ...guest } });
  });
}

/**
 * The guest a call on `boardId` acts as: the request's own (`ctx.guest`), unless the guest cookie
 * holds another secret for that board (a browser that is a guest of several boards, issue 18): then
 * that one, looked up by its secret.
 */
export async function guestOf(ctx: Pick<Context, 'app' | 'user' | 'guest' | 'guestEnded' | 'guestSecrets'>, boardId: string): Promise<Pick<Context, 'guest' | 'guestEnded'>> {
  const secret = ctx.user || ctx.guest?.boardId === boardId ? undefined : ctx.guestSecrets.get(boardId);
  if (secret === undefined) return { guest: ctx.guest, guestEnded: ctx.guestEnded };
  const guest = await ctx.app.guests.byToken(secret);
  return { guest, guestEnded: guest === null };
}
