import { createTokenInput, tokenRefInput } from '@inkboard/protocol';
import { authedProcedure, router } from '../trpc.js';

export const tokenRouter = router({
  /** A new API token for scripts: the value is shown this once. */
  create: authedProcedure.input(createTokenInput).mutation(({ ctx, input }) => {
    const created = ctx.app.auth.createToken(ctx.user.id, input.name);
    ctx.app.log.info({ userId: ctx.user.id, tokenId: created.id }, 'api token created');
    return created;
  }),

  /** The caller's tokens: name, prefix, created, last used (never the value). */
  list: authedProcedure.query(({ ctx }) => ctx.app.auth.listTokens(ctx.user.id)),

  /** Revokes a token; connections opened with it close at once. */
  revoke: authedProcedure.input(tokenRefInput).mutation(({ ctx, input }) => {
    ctx.app.auth.revokeToken(ctx.user.id, input.tokenId);
    ctx.app.connections.closeToken(input.tokenId);
    ctx.app.log.info({ userId: ctx.user.id, tokenId: input.tokenId }, 'api token revoked');
    return { ok: true };
  }),
});
