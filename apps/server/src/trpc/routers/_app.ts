import { router } from '../trpc.js';
import { authRouter } from './auth.js';
import { boardRouter } from './board.js';
import { chatRouter } from './chat.js';
import { guestRouter } from './guest.js';
import { historyRouter } from './history.js';
import { shareRouter } from './share.js';
import { tokenRouter } from './token.js';

export const appRouter = router({
  auth: authRouter,
  board: boardRouter,
  chat: chatRouter,
  guest: guestRouter,
  history: historyRouter,
  share: shareRouter,
  token: tokenRouter,
});

/** The API's type: clients import it type-only. */
export type AppRouter = typeof appRouter;
