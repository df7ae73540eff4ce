import { acceptShareLinkInput, boardRefInput, createShareLinkInput, memberRefInput, readmitMemberInput, setMemberRoleInput, shareLinkRefInput } from '@inkboard/protocol';
import { authedProcedure, boardProcedure, router } from '../trpc.js';

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
  accept: authedProcedure.input(acceptShareLinkInput).mutation(({ ctx, input }) => ctx.app.access.acceptLink(input.code, ctx.user.id)),

  /** Members with their roles; sign-in names only for the owner (others see display names). */
  members: boardProcedure('viewer')
    .input(boardRefInput)
    .query(async ({ ctx, input }) =>
      (await ctx.app.access.members(input.boardId)).map((m) => (ctx.role === 'owner' ? m : { ...m, username: null })),
    ),

  setRole: boardProcedure('owner').input(setMemberRoleInput).mutation(async ({ ctx, input }) => {
    await ctx.app.access.setRole(input.boardId, input.userId, input.role);
    return { ok: true };
  }),

  /** People the owner removed: links do not let them back in until `readmit`. */
  removed: boardProcedure('owner').input(boardRefInput).query(({ ctx, input }) => ctx.app.access.removed(input.boardId)),

  /** Lets a removed person back in with `role` (and links work for them again). */
  readmit: boardProcedure('owner').input(readmitMemberInput).mutation(async ({ ctx, input }) => {
    await ctx.app.access.readmit(input.boardId, input.userId, input.role);
    return { ok: true };
  }),

  /** Removes a member; their live connections to the board end at once, and no link lets them back in. */
  removeMember: boardProcedure('owner').input(memberRefInput).mutation(async ({ ctx, input }) => {
    await ctx.app.access.removeMember(input.boardId, input.userId, { byOwner: true });
    return { ok: true };
  }),
});
