import { router } from '../trpc.js';
import { boardRouter } from './board.js';
import { chatRouter } from './chat.js';

export const appRouter = router({
  board: boardRouter,
  chat: chatRouter,
});

/** The API's type: clients import it type-only. */
export type AppRouter = typeof appRouter;
