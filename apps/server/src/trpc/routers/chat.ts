import { boardRefInput, chatHistoryInput, chatSendInput } from '@inkboard/protocol';
import { boardProcedure, rateLimited, router } from '../trpc.js';
import { publicUser } from './board.js';

export const chatRouter = router({
  /** Stores a message, then delivers it to everyone on the board. */
  send: boardProcedure('viewer').input(chatSendInput).use(rateLimited('chat')).mutation(({ ctx, input }) => {
    const message = ctx.app.store.addChatMessage(input.boardId, ctx.user, input.text);
    ctx.app.hub.publish(input.boardId, ctx.app.service.currentSeq(input.boardId), [{ type: 'chat', message }]);
    return message;
  }),

  /** Newest first, up to `limit` (100) messages older than `before`. */
  history: boardProcedure('viewer').input(chatHistoryInput).query(({ ctx, input }) => {
    const rows = ctx.app.store.chatHistory(input.boardId, input.limit + 1, input.before);
    return { messages: rows.slice(0, input.limit), hasMore: rows.length > input.limit };
  }),

  /** Tells the others the caller is typing (ephemeral). */
  typing: boardProcedure('viewer').input(boardRefInput).use(rateLimited('typing')).mutation(({ ctx, input }) => {
    ctx.app.hub.publish(input.boardId, ctx.app.service.currentSeq(input.boardId), [{ type: 'typing', clientId: ctx.clientId, user: publicUser(ctx.user) }]);
    return null;
  }),
});
