import { tracked } from '@trpc/server';
import {
  createBoardInput,
  cursorInput,
  previewInput,
  pushInput,
  renameBoardInput,
  subscribeInput,
  type BoardEvent,
  toWireFrame,
  type User,
} from '@inkboard/protocol';
import { FrameQueue } from '../../boards/frameQueue.js';
import type { Context } from '../context.js';
import { TRPCError } from '@trpc/server';
import { authedProcedure, boardProcedure, rateLimited, router } from '../trpc.js';

/** Unsent bytes on a socket beyond which its subscriber is cut off. */
export const SLOW_CONSUMER_BYTES = 1024 * 1024;
/** Close code telling the client to reconnect and resume. */
export const CLOSE_TOO_SLOW = 4408;

export const boardRouter = router({
  /** The caller's boards (owned and shared), most recently changed first, with an SVG thumbnail. */
  list: authedProcedure.query(({ ctx }) =>
    ctx.app.access.boardsOf(ctx.user.id).map((b) => ({ ...b, thumbnail: ctx.app.service.thumbnail(b.id) })),
  ),

  byId: boardProcedure('viewer').query(({ ctx, input }) => {
    const { id, title, seq, elementCount, createdAt, updatedAt, ownerId } = ctx.app.service.requireBoard(input.boardId);
    return { id, title, seq, elementCount, createdAt, updatedAt, ownerId, role: ctx.role };
  }),

  create: authedProcedure.input(createBoardInput).use(rateLimited('boards')).mutation(({ ctx, input }) => {
    const { id, title } = ctx.app.service.createBoard(input.title, ctx.user.id);
    return { id, title, role: 'owner' as const };
  }),

  rename: boardProcedure('owner').input(renameBoardInput).mutation(({ ctx, input }) => {
    ctx.app.store.renameBoard(input.boardId, input.title);
    return { id: input.boardId, title: input.title };
  }),

  delete: boardProcedure('owner').mutation(({ ctx, input }) => {
    ctx.app.service.deleteBoard(input.boardId);
    ctx.app.access.forget(input.boardId);
    return { id: input.boardId };
  }),

  /** Leaves a board shared with the caller (the owner deletes instead). */
  leave: boardProcedure('viewer').mutation(({ ctx, input }) => {
    if (ctx.role === 'owner') throw new TRPCError({ code: 'BAD_REQUEST', message: 'The owner cannot leave their board; delete it instead.' });
    ctx.app.access.removeMember(input.boardId, ctx.user.id);
    return { id: input.boardId };
  }),

  /** All live elements and the seq they reflect. */
  snapshot: boardProcedure('viewer').query(({ ctx, input }) => ctx.app.service.snapshot(input.boardId)),

  /**
   * Applies ops in order, atomically. Resolves after they are on disk, with each op's seq; an op id
   * seen before is acknowledged again with its original seq and not applied twice.
   */
  push: boardProcedure('editor').input(pushInput).use(rateLimited<{ ops: unknown[] }>('ops', (i) => i.ops.length)).mutation(async ({ ctx, input }) => {
    const acks = await ctx.app.service.push(input.boardId, ctx.user, input.ops);
    return { acks };
  }),

  /** Moves the caller's cursor (ephemeral; only the latest per tick is delivered). */
  cursor: boardProcedure('viewer').input(cursorInput).use(rateLimited('cursor')).mutation(({ ctx, input }) => {
    publish(ctx, input.boardId, { type: 'cursor', clientId: ctx.clientId, x: input.x, y: input.y });
    return null;
  }),

  /** A stroke or shape in progress, shown to others while it is drawn (never stored). */
  preview: boardProcedure('editor').input(previewInput).use(rateLimited('preview')).mutation(({ ctx, input }) => {
    const { boardId, ...rest } = input;
    publish(ctx, boardId, { type: 'preview', clientId: ctx.clientId, ...rest });
    return null;
  }),

  /**
   * The board's events as frames, one per tick. First frame: a snapshot (or, when resuming with
   * `lastEventId`, exactly the ops after it) and the presence list. The tracked id is the seq.
   */
  onEvents: boardProcedure('viewer').input(subscribeInput).subscription(async function* ({ ctx, input, signal }) {
    const { boardId } = input;
    const queue = new FrameQueue();
    // Listen first, then read the backlog: nothing committed in between can be missed.
    const unsubscribe = ctx.app.hub.subscribe(boardId, {
      userId: ctx.user.id,
      frame: queue.push,
      revoked: () => queue.fail(new TRPCError({ code: 'FORBIDDEN', message: 'You no longer have access to this board.' })),
    });
    const entry = { clientId: ctx.clientId, user: publicUser(ctx.user) };
    try {
      const last = input.lastEventId == null ? null : Number(input.lastEventId);
      const backlog = last === null ? null : ctx.app.service.opsSince(boardId, last);
      const first: BoardEvent[] = backlog ?? [ctx.app.service.snapshot(boardId)];
      let seq = backlog ? (backlog.at(-1)?.seq ?? last!) : ctx.app.service.currentSeq(boardId);
      ctx.app.hub.join(boardId, seq, entry);
      first.push({ type: 'presence', clients: ctx.app.hub.presence(boardId), self: ctx.clientId });
      yield tracked(String(seq), toWireFrame({ seq, events: first }));
      for await (const frame of queue.drain(signal)) {
        // A consumer that does not read (slow network, stalled tab) is cut off before it costs
        // unbounded memory; it reconnects and resumes from its last seq.
        if (ctx.socket && ctx.socket.bufferedAmount > SLOW_CONSUMER_BYTES) {
          ctx.app.metrics.refused.inc({ kind: 'slow_consumer' });
          ctx.app.log.warn({ userId: ctx.user.id, clientId: ctx.clientId, boardId, buffered: ctx.socket.bufferedAmount }, 'slow consumer cut off');
          ctx.socket.close(CLOSE_TOO_SLOW, 'too slow: reconnect and resume');
          return;
        }
        let out = frame;
        if (frame.events.some((e) => e.type === 'op' && e.seq <= seq)) {
          out = { seq: frame.seq, events: frame.events.filter((e) => e.type !== 'op' || e.seq > seq) };
        }
        seq = Math.max(seq, out.seq);
        if (out.events.length) yield tracked(String(seq), out);
      }
    } finally {
      unsubscribe();
      // A deleted board has no seq any more (currentSeq throws NOT_FOUND): leave its presence anyway,
      // or the entry (and the hub's room) would stay forever.
      let seq = 0;
      try {
        seq = ctx.app.service.currentSeq(boardId);
      } catch {
        // deleted
      }
      ctx.app.hub.leave(boardId, seq, ctx.clientId);
    }
  }),
});

/** What others see of a person: never the sign-in name. */
export function publicUser(user: User): User {
  return { id: user.id, name: user.name, color: user.color };
}

function publish(ctx: Pick<Context, 'app'>, boardId: string, event: BoardEvent) {
  ctx.app.hub.publish(boardId, ctx.app.service.currentSeq(boardId), [event]);
}
