import { acceptShareLinkInput, boardRefInput, createShareLinkInput, memberRefInput, readmitMemberInput, setMemberRoleInput, shareLinkRefInput } from '@inkboard/protocol';
import type { Context } from '../context.js';
import { authedProcedure, boardProcedure, router } from '../trpc.js';

/** Tells everyone on the board that its members changed (their share dialogs reload the list). */
function membersChanged(ctx: Context, boardId: string): void {
  ctx.app.hub.publish(boardId, ctx.app.service.knownSeq(boardId), [{ type: 'members' }]);
}

export const shareRouter = router({
  /**
   * A link that makes whoever opens it (signed in) a member with `role`; it may expire
   * (`expiresInHours`) or admit at most `maxUses` people. The code is shown once.
   */
  createLink: boardProcedure('owner')
    .input(createShareLinkInput)
    .mutation(({ ctx, input }) => ctx.app.access.createLink(input.boardId, input.role, ctx.user.id, { expiresInHours: input.expiresInHours, maxUses: input.maxUses })),

  links: boardProcedure('owner').input(boardRefInput).query(({ ctx, input }) => ctx.app.access.links(input.boardId)),

  revokeLink: boardProcedure('owner').input(shareLinkRefInput).mutation(async ({ ctx, input }) => {
    await ctx.app.access.revokeLink(input.boardId, input.linkId);
    return { ok: true };
  }),

  /** Joins the board of a share link. */
  accept: authedProcedure.input(acceptShareLinkInput).mutation(async ({ ctx, input }) => {
    const joined = await ctx.app.access.acceptLink(input.code, ctx.user.id);
    membersChanged(ctx, joined.boardId);
    return joined;
  }),

  /** Members with their roles; sign-in names only for the owner (others see display names). */
  members: boardProcedure('viewer')
    .input(boardRefInput)
    .query(async ({ ctx, input }) =>
      (await ctx.app.access.members(input.boardId)).map((m) => (ctx.role === 'owner' ? m : { ...m, username: null })),
    ),

  setRole: boardProcedure('owner').input(setMemberRoleInput).mutation(async ({ ctx, input }) => {
    await ctx.app.access.setRole(input.boardId, input.userId, input.role);
    membersChanged(ctx, input.boardId);
    return { ok: true };
  }),

  /** People the owner removed: links do not let them back in until `readmit`. */
  removed: boardProcedure('owner').input(boardRefInput).query(({ ctx, input }) => ctx.app.access.removed(input.boardId)),

  /** Lets a removed person back in with `role` (and links work for them again). */
  readmit: boardProcedure('owner').input(readmitMemberInput).mutation(async ({ ctx, input }) => {
    await ctx.app.access.readmit(input.boardId, input.userId, input.role);
    membersChanged(ctx, input.boardId);
    return { ok: true };
  }),

  /** Removes a member; their live connections to the board end at once, and no link lets them back in. */
  removeMember: boardProcedure('owner').input(memberRefInput).mutation(async ({ ctx, input }) => {
    await ctx.app.access.removeMember(input.boardId, input.userId, { byOwner: true });
    membersChanged(ctx, input.boardId);
    return { ok: true };
  }),
});
