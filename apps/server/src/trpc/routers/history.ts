import { TRPCError } from '@trpc/server';
import {
  historyElementInfoInput,
  historyListInput,
  historyNamedInput,
  historyNameInput,
  historyRestoreInput,
  historyStateAtInput,
  historyUnnameInput,
} from '@inkboard/protocol';
import { rawPushChanges, rawPushPoints } from '../../boards/budgets.js';
import { publicUser } from '../../boards/ephemeral.js';
import { chargeSize } from '../sizeRates.js';
import type { Context } from '../context.js';
import { boardProcedure, rateLimited, router } from '../trpc.js';

const mb = (bytes: number) => `${Math.max(1, Math.round(bytes / 1024 / 1024))} MB`;

/**
 * Version history (issue 16; not the per-user undo of protocol/history.ts): a board's past as
 * versions, named versions, the state at a seq and restores. Viewers read; editors name and restore.
 * The work is in boards/VersionService.ts.
 */
export const historyRouter = router({
  /** Versions newest first (runs of edits by one person), paged by `before` (the previous page's `next`). */
  list: boardProcedure('viewer')
    .input(historyListInput)
    .use(rateLimited('history'))
    .query(({ ctx, input }) => ctx.app.versions.list(input.boardId, input.before, input.limit)),

  /** Every named version of the board, by seq. */
  named: boardProcedure('viewer')
    .input(historyNamedInput)
    .use(rateLimited('history'))
    .query(({ ctx, input }) => ctx.app.versions.named(input.boardId)),

  /** Names the board's state at `seq` (the current state when left out). */
  name: boardProcedure('editor')
    .input(historyNameInput)
    .use(rateLimited('history'))
    .mutation(({ ctx, input }) => ctx.app.versions.name(input.boardId, publicUser(ctx.user), input.name, input.seq)),

  /** Removes a name (the state itself stays in the history). */
  unname: boardProcedure('editor')
    .input(historyUnnameInput)
    .use(rateLimited('history'))
    .mutation(({ ctx, input }) => ctx.app.versions.unname(input.boardId, input.id)),

  /** The board's elements just after op `seq` (0: the empty board). */
  stateAt: boardProcedure('viewer')
    .input(historyStateAtInput)
    .use(rateLimited('history'))
    .query(async ({ ctx, input }) => {
      const { seq, elements, bytes } = await ctx.app.versions.stateWithBytes(input.boardId, input.seq);
      chargeState(ctx, bytes);
      return { seq, elements };
    }),

  /** Who created the element and who last changed it (within the kept history). */
  elementInfo: boardProcedure('viewer')
    .input(historyElementInfoInput)
    .use(rateLimited('history'))
    .query(({ ctx, input }) => ctx.app.versions.elementInfo(input.boardId, input.elementId)),

  /**
   * Restores the board (or only `ids`) to its state at `seq`, as the caller, through the normal push
   * path: one atomic push, live for everyone, undoable like any edit. Returns the ops and their acks.
   */
  restore: boardProcedure('editor')
    .input(historyRestoreInput)
    .use(rateLimited('history'))
    .mutation(({ ctx, input }) =>
      // Charged like a push of the same ops (points, elements, bytes), before anything is applied.
      ctx.app.versions.restore(input.boardId, publicUser(ctx.user), input.seq, input.opId, input.ids, (ops) => {
        const raw = { ops };
        chargeSize(ctx, 'points', rawPushPoints(raw));
        chargeSize(ctx, 'elementChanges', rawPushChanges(raw));
        chargeSize(ctx, 'bytes', ctx.app.service.pushBytes(ops));
      }),
    ),
});

/** A state costs what a snapshot of it would: charged to the caller's snapshot bytes (TOO_MANY_REQUESTS past them). */
function chargeState(ctx: Pick<Context, 'app' | 'user' | 'address'>, bytes: number): void {
  if (bytes <= 0) return;
  const bucket = ctx.app.limits.snapshotBytes;
  const wait = bucket.spend(ctx.user?.id ?? ctx.address, bytes);
  if (wait === 0) return;
  ctx.app.metrics.refused.inc({ kind: 'snapshot_bytes' });
  throw new TRPCError({
    code: 'TOO_MANY_REQUESTS',
    message: `Too many board states: this one is about ${mb(bytes)}, and one person may receive ${mb(bucket.rate)} of states and snapshots a second. Ask again in ${Math.max(1, Math.ceil(wait))} s.`,
  });
}
