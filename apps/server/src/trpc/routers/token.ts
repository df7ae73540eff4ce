import { createTokenInput, tokenRefInput } from '@inkboard/protocol';
import { TRPCError } from '@trpc/server';
import { authedProcedure, router } from '../trpc.js';

export const tokenRouter = router({
  /**
   * A new API token for scripts: the value is shown this once. Only with a password session: a token
   * cannot mint tokens, so a leaked one cannot leave copies behind that outlive its revocation.
   */
  create: authedProcedure.input(createTokenInput).mutation(async ({ ctx, input }) => {
    if (ctx.credential?.kind !== 'session') {
      throw new TRPCError({ code: 'FORBIDDEN', message: 'An API token cannot create API tokens: create API tokens while signed in with your password (the web app, or `inkboard token create NAME`, which asks for it).' });
    }
    const created = await ctx.app.auth.createToken(ctx.user.id, input.name);
    ctx.app.log.info({ userId: ctx.user.id, tokenId: created.id }, 'api token created');
    return created;
  }),

  /** The caller's tokens: name, prefix, created, last used (never the value). */
  list: authedProcedure.query(({ ctx }) => ctx.app.auth.listTokens(ctx.user.id)),

  /** Revokes a token; connections opened with it close at once (on every server process). */
  revoke: authedProcedure.input(tokenRefInput).mutation(async ({ ctx, input }) => {
    await ctx.app.auth.revokeToken(ctx.user.id, input.tokenId);
    // Closes its connections on every process.
    ctx.app.hub.signal({ type: 'token-revoked', tokenId: input.tokenId });
    ctx.app.log.info({ userId: ctx.user.id, tokenId: input.tokenId }, 'api token revoked');
    return { ok: true };
  }),
});
