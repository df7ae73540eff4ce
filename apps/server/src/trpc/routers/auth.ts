import { signInInput, signUpInput, updateProfileInput } from '@inkboard/protocol';
import type { Context } from '../context.js';
import { SESSION_COOKIE } from '../context.js';
import { authedProcedure, publicProcedure, router } from '../trpc.js';

function setSessionCookie(ctx: Context, sessionId: string | null): void {
  if (!ctx.reply) return; // over a WebSocket no cookie can be set: sign in over HTTP
  const base = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: ctx.app.cookie.secure };
  if (sessionId) ctx.reply.setCookie(SESSION_COOKIE, sessionId, { ...base, maxAge: ctx.app.cookie.maxAgeSeconds });
  else ctx.reply.clearCookie(SESSION_COOKIE, base);
}

export const authRouter = router({
  /** Creates an account and signs in (sets the session cookie). */
  signUp: publicProcedure.input(signUpInput).mutation(async ({ ctx, input }) => {
    const signed = await ctx.app.auth.signUp(input.username, input.password, input.name);
    ctx.app.log.info({ userId: signed.user.id, ip: ctx.address }, 'account created');
    setSessionCookie(ctx, signed.sessionId);
    return { user: signed.user };
  }),

  /** Signs in with a new session id (sets the cookie). The error never says whether the username exists. */
  signIn: publicProcedure.input(signInInput).mutation(async ({ ctx, input }) => {
    const signed = await ctx.app.auth.signIn(input.username, input.password, ctx.address).catch((err: unknown) => {
      ctx.app.log.warn({ username: input.username, ip: ctx.address, code: (err as { code?: string }).code }, 'sign-in refused');
      throw err;
    });
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

  /** The caller, or null when not signed in. */
  me: publicProcedure.query(({ ctx }) => ctx.user),

  /** Changes the display name and/or colour used for cursors, presence and chat. */
  updateProfile: authedProcedure.input(updateProfileInput).mutation(({ ctx, input }) => ctx.app.auth.updateProfile(ctx.user.id, input)),
});
