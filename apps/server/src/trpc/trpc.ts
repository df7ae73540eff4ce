import { initTRPC } from '@trpc/server';
import { z, ZodError } from 'zod';
import type { Context } from './context.js';

const t = initTRPC.context<Context>().create({
  // Never send stack traces to clients.
  isDev: false,
  errorFormatter({ shape, error }) {
    // Input validation: say which field is wrong and why, in words.
    if (error.code === 'BAD_REQUEST' && error.cause instanceof ZodError) {
      return { ...shape, message: `Invalid input: ${z.prettifyError(error.cause).replace(/\n/g, '; ')}` };
    }
    return shape;
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Anyone who reached the server; accounts will narrow this. */
export const publicProcedure = t.procedure;

/** Procedures on one board: the board must exist (NOT_FOUND otherwise). */
export const boardProcedure = publicProcedure
  .input(z.object({ boardId: z.string() }))
  .use(({ ctx, input, next }) => {
    ctx.service.requireBoard(input.boardId);
    return next();
  });
