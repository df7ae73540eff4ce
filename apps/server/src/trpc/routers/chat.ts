import { boardRefInput, chatHistoryInput, chatSendInput } from '@inkboard/protocol';
import { boardProcedure, rateLimited, router } from '../trpc.js';
import { EPHEMERAL_RULES, publishEphemeral } from '../../boards/ephemeral.js';

export const chatRouter = router({
  /** Stores a message, then delivers it to everyone on the board. */
  send: boardProcedure('viewer').input(chatSendInput).use(rateLimited('chat')).mutation(async ({ ctx, input }) => {
    const message = await ctx.app.storage.addChatMessage(input.boardId, ctx.user, input.text, Date.now());
    ctx.app.hub.publish(input.boardId, ctx.app.service.knownSeq(input.boardId), [{ type: 'chat', message }]);
    return message;
  }),

  /** Newest first, up to `limit` (100) messages older than `before`. */
  history: boardProcedure('viewer').input(chatHistoryInput).query(async ({ ctx, input }) => {
    const rows = await ctx.app.storage.chatHistory(input.boardId, input.limit + 1, input.before);
    return { messages: rows.slice(0, input.limit), hasMore: rows.length > input.limit };
  }),

  /** Tells the others the caller is typing (ephemeral). */
  typing: boardProcedure(EPHEMERAL_RULES.typing.least).input(boardRefInput).use(rateLimited(EPHEMERAL_RULES.typing.limit)).mutation(({ ctx, input }) => {
    publishEphemeral(ctx.app, { type: 'typing', ...input }, ctx.clientId, ctx.user);
    return null;
  }),
});
