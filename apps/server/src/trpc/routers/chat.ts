import { boardRefInput, chatHistoryInput, chatSendInput } from '@inkboard/protocol';
import { TRPCError } from '@trpc/server';
import { boardProcedure, rateLimited, router } from '../trpc.js';
import { EPHEMERAL_RULES, publishEphemeral } from '../../boards/ephemeral.js';

/** Chat for members, and for guests while the public link allows it (checked at every call; issue 18). */
const chatProcedure = (least: 'viewer') =>
  boardProcedure(least).use(async ({ ctx, input, next }) => {
    if (ctx.guest && !(await ctx.app.guests.chatAllowed((input as { boardId: string }).boardId))) {
      throw new TRPCError({ code: 'FORBIDDEN', message: "The owner turned chat off for this board's guests." });
    }
    return next();
  });

export const chatRouter = router({
  /** Stores a message, then delivers it to everyone on the board. */
  send: chatProcedure('viewer').input(chatSendInput).use(rateLimited('chat')).mutation(async ({ ctx, input }) => {
    const message = await ctx.app.storage.addChatMessage(input.boardId, ctx.user, input.text, Date.now());
    ctx.app.hub.publish(input.boardId, ctx.app.service.knownSeq(input.boardId), [{ type: 'chat', message }]);
    return message;
  }),

  /** Newest first, up to `limit` (100) messages older than `before`. */
  history: chatProcedure('viewer').input(chatHistoryInput).query(async ({ ctx, input }) => {
    const rows = await ctx.app.storage.chatHistory(input.boardId, input.limit + 1, input.before);
    return { messages: rows.slice(0, input.limit), hasMore: rows.length > input.limit };
  }),

  /** Tells the others the caller is typing (ephemeral). */
  typing: chatProcedure(EPHEMERAL_RULES.typing.least).input(boardRefInput).use(rateLimited(EPHEMERAL_RULES.typing.limit)).mutation(({ ctx, input }) => {
    publishEphemeral(ctx.app, { type: 'typing', ...input }, ctx.clientId, ctx.user);
    return null;
  }),
});
