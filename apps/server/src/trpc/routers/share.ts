import { acceptShareLinkInput, boardRefInput, createShareLinkInput, memberRefInput, setMemberRoleInput, shareLinkRefInput } from '@inkboard/protocol';
import { authedProcedure, boardProcedure, router } from '../trpc.js';

export const shareRouter = router({
  /** A link that makes whoever opens it (signed in) a member with `role`. The code is shown once. */
  createLink: boardProcedure('owner').input(createShareLinkInput).mutation(({ ctx, input }) => ctx.app.access.createLink(input.boardId, input.role, ctx.user.id)),

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

  /** Removes a member; their live connections to the board end at once. */
  removeMember: boardProcedure('owner').input(memberRefInput).mutation(async ({ ctx, input }) => {
    await ctx.app.access.removeMember(input.boardId, input.userId);
    return { ok: true };
  }),
});
