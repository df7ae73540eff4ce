import { changePasswordInput, signInInput, signUpInput, updateProfileInput } from '@inkboard/protocol';
import { TRPCError } from '@trpc/server';
import { RetryAfter } from '../../auth/AuthService.js';
import type { Context } from '../context.js';
import { SESSION_COOKIE } from '../context.js';
import { authedProcedure, publicProcedure, router } from '../trpc.js';

/** A refusal that says when to retry also says it in the HTTP Retry-After header. */
function withRetryAfter(ctx: Context) {
  return (err: unknown): never => {
    if (ctx.reply && err instanceof TRPCError && err.cause instanceof RetryAfter) ctx.reply.header('retry-after', String(err.cause.seconds));
    throw err;
  };
}

/** Closes the sockets of ended sessions and tokens, on every process. */
function closeEnded(ctx: Context, ended: { sessions?: readonly string[]; tokens?: readonly string[] }): void {
  for (const idHash of ended.sessions ?? []) ctx.app.hub.signal({ type: 'session-ended', idHash });
  for (const tokenId of ended.tokens ?? []) ctx.app.hub.signal({ type: 'token-revoked', tokenId });
}

function setSessionCookie(ctx: Context, sessionId: string | null): void {
  if (!ctx.reply) return; // over a WebSocket no cookie can be set: sign in over HTTP
  const base = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: ctx.app.cookie.secure };
  if (sessionId) ctx.reply.setCookie(SESSION_COOKIE, sessionId, { ...base, maxAge: ctx.app.cookie.maxAgeSeconds });
  else ctx.reply.clearCookie(SESSION_COOKIE, base);
}

export const authRouter = router({
  /** Creates an account and signs in (sets the session cookie). */
  signUp: publicProcedure.input(signUpInput).mutation(async ({ ctx, input }) => {
    const signed = await ctx.app.auth.signUp(input.username, input.password, input.name, ctx.address);
    ctx.app.log.info({ userId: signed.user.id, ip: ctx.address }, 'account created');
    setSessionCookie(ctx, signed.sessionId);
    return { user: signed.user };
  }),

  /** Signs in with a new session id (sets the cookie). The error never says whether the username exists. */
  signIn: publicProcedure.input(signInInput).mutation(async ({ ctx, input }) => {
    const signed = await ctx.app.auth
      .signIn(input.username, input.password, ctx.address)
      .catch((err: unknown) => {
        ctx.app.log.warn({ username: input.username, ip: ctx.address, code: (err as { code?: string }).code }, 'sign-in refused');
        throw err;
      })
      .catch(withRetryAfter(ctx));
    closeEnded(ctx, { sessions: signed.ended });
    ctx.app.log.info({ userId: signed.user.id, ip: ctx.address }, 'signed in');
    setSessionCookie(ctx, signed.sessionId);
    return { user: signed.user };
  }),

  /** Ends the session; its open WebSockets close at once. */
  signOut: publicProcedure.mutation(async ({ ctx }) => {
    if (ctx.sessionId) {
      ctx.app.hub.signal({ type: 'session-ended', idHash: await ctx.app.auth.signOut(ctx.sessionId) });
      ctx.app.log.info({ userId: ctx.user?.id }, 'signed out');
    }
    setSessionCookie(ctx, null);
    return { ok: true };
  }),

  /**
   * Changes the password (the current one is checked, under the sign-in limits) and ends every other
   * session of the user, whose sockets close at once; the caller stays signed in. API tokens stay.
   */
  changePassword: authedProcedure.input(changePasswordInput).mutation(async ({ ctx, input }) => {
    const keep = ctx.credential?.kind === 'session' ? ctx.credential.idHash : undefined;
    const ended = await ctx.app.auth.changePassword(ctx.user, input.currentPassword, input.newPassword, ctx.address, keep).catch(withRetryAfter(ctx));
    closeEnded(ctx, { sessions: ended });
    ctx.app.log.info({ userId: ctx.user.id, ip: ctx.address, endedSessions: ended.length }, 'password changed');
    return { endedSessions: ended.length };
  }),

  /** Ends every session of the user and revokes every API token; all their sockets close at once, on every process. */
  signOutEverywhere: authedProcedure.mutation(async ({ ctx }) => {
    const ended = await ctx.app.auth.signOutEverywhere(ctx.user.id);
    closeEnded(ctx, ended);
    ctx.app.log.info({ userId: ctx.user.id, endedSessions: ended.sessions.length, revokedTokens: ended.tokens.length }, 'signed out everywhere');
    setSessionCookie(ctx, null);
    return { endedSessions: ended.sessions.length, revokedTokens: ended.tokens.length };
  }),

  /** The caller, or null when not signed in. */
  me: publicProcedure.query(({ ctx }) => ctx.user),

  /** Changes the display name and/or colour used for cursors, presence and chat. */
  updateProfile: authedProcedure.input(updateProfileInput).mutation(({ ctx, input }) => ctx.app.auth.updateProfile(ctx.user.id, input)),
});
