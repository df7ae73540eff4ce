import { tracked } from '@trpc/server';
import {
  createBoardInput,
  cursorInput,
  LIMITS,
  previewInput,
  pushInput,
  renameBoardInput,
  subscribeInput,
  type WireEvent,
  type WireFrame,
  type WireOpEvent,
} from '@inkboard/protocol';
import { EPHEMERAL_RULES, publicUser, publishEphemeral } from '../../boards/ephemeral.js';
import { FrameQueue, RESYNC } from '../../boards/frameQueue.js';
import { continuation } from '../../boards/sharedFrame.js';
import { pushTooLarge, pushTooManyChanges, rawPushChanges, rawPushPoints } from '../../boards/budgets.js';
import { chargeSize } from '../sizeRates.js';
import { envelopeOf, sendShared, sharedFrameMessage, withEventBytes } from '../../plugins/frameEncoder.js';
import type { Context } from '../context.js';
import { TRPCError } from '@trpc/server';
import { authedProcedure, boardProcedure, rateLimited, router } from '../trpc.js';

// Unsent bytes per socket and in total, and subscriptions per socket: plugins/socketGuard.ts.
export { CLOSE_TOO_SLOW } from '../../plugins/socketGuard.js';

export const boardRouter = router({
  /** The caller's boards (owned and shared), most recently changed first, with an SVG thumbnail. */
  list: authedProcedure.query(async ({ ctx }) => {
    const boards = await ctx.app.access.boardsOf(ctx.user.id);
    return Promise.all(boards.map(async (b) => ({ ...b, thumbnail: await ctx.app.service.thumbnail(b.id) })));
  }),

  byId: boardProcedure('viewer').query(async ({ ctx, input }) => {
    const { id, title, seq, elementCount, createdAt, updatedAt, ownerId } = await ctx.app.service.requireBoard(input.boardId);
    return { id, title, seq, elementCount, createdAt, updatedAt, ownerId, role: ctx.role };
  }),

  create: authedProcedure.input(createBoardInput).use(rateLimited('boards')).mutation(async ({ ctx, input }) => {
    const { id, title } = await ctx.app.service.createBoard(input.title, ctx.user.id);
    return { id, title, role: 'owner' as const };
  }),

  rename: boardProcedure('owner').input(renameBoardInput).mutation(async ({ ctx, input }) => {
    await ctx.app.service.renameBoard(input.boardId, input.title);
    // Everyone on the board sees the new title at once (not an op: no seq of its own).
    ctx.app.hub.publish(input.boardId, ctx.app.service.knownSeq(input.boardId), [{ type: 'renamed', title: input.title }]);
    return { id: input.boardId, title: input.title };
  }),

  delete: boardProcedure('owner').mutation(async ({ ctx, input }) => {
    await ctx.app.service.deleteBoard(input.boardId);
    return { id: input.boardId };
  }),

  /** Leaves a board shared with the caller (the owner deletes instead). */
  leave: boardProcedure('viewer').mutation(async ({ ctx, input }) => {
    if (ctx.role === 'owner') throw new TRPCError({ code: 'BAD_REQUEST', message: 'The owner cannot leave their board; delete it instead.' });
    if (ctx.guest) throw new TRPCError({ code: 'BAD_REQUEST', message: 'A guest leaves by closing the board; the owner can remove guests.' });
    await ctx.app.access.removeMember(input.boardId, ctx.user.id);
    ctx.app.hub.publish(input.boardId, ctx.app.service.knownSeq(input.boardId), [{ type: 'members' }]);
    return { id: input.boardId };
  }),

  /** All live elements and the seq they reflect. */
  snapshot: boardProcedure('viewer').query(({ ctx, input }) => ctx.app.service.snapshot(input.boardId)),

  /**
   * Applies ops in order, atomically. Resolves after they are on disk, with each op's seq; an op id
   * seen before is acknowledged again with its original seq and not applied twice.
   */
  push: boardProcedure('editor')
    // Points are counted and charged before validation (its cost grows with them), bytes after it (measured as stored).
    .use(async ({ ctx, getRawInput, next }) => {
      const raw = await getRawInput();
      const points = rawPushPoints(raw);
      if (points > LIMITS.pointsPerPush) throw pushTooLarge(points);
      const changes = rawPushChanges(raw);
      if (changes > LIMITS.elementChangesPerPush) throw pushTooManyChanges(changes);
      chargeSize(ctx, 'points', points);
      chargeSize(ctx, 'elementChanges', changes);
      return next();
    })
    .input(pushInput)
    .use(rateLimited<{ ops: unknown[] }>('ops', (i) => i.ops.length))
    .use(({ ctx, input, next }) => {
      chargeSize(ctx, 'bytes', ctx.app.service.pushBytes(input.ops));
      return next();
    })
    .mutation(async ({ ctx, input }) => {
      const acks = await ctx.app.service.push(input.boardId, publicUser(ctx.user), input.ops);
      return { acks };
    }),

  /** Moves the caller's cursor (ephemeral; only the latest per tick is delivered). */
  cursor: boardProcedure(EPHEMERAL_RULES.cursor.least).input(cursorInput).use(rateLimited(EPHEMERAL_RULES.cursor.limit)).mutation(({ ctx, input }) => {
    publishEphemeral(ctx.app, { type: 'cursor', ...input }, ctx.clientId, ctx.user);
    return null;
  }),

  /** A stroke or shape in progress, shown to others while it is drawn (never stored). */
  preview: boardProcedure(EPHEMERAL_RULES.preview.least).input(previewInput).use(rateLimited(EPHEMERAL_RULES.preview.limit)).mutation(({ ctx, input }) => {
    publishEphemeral(ctx.app, { type: 'preview', ...input }, ctx.clientId, ctx.user);
    return null;
  }),

  /**
   * The board's events as frames, one per tick. First frame: a snapshot (or, when resuming with
   * `lastEventId`, exactly the ops after it) and the presence list. The tracked id is the seq of the
   * last op delivered. Ops arrive in seq order with no gap: a frame that skips seqs (an event lost
   * between processes, or overtaken by another process's) is preceded by the missing ops, read from
   * the database.
   */
  onEvents: boardProcedure('viewer').input(subscribeInput).subscription(async function* ({ ctx, input, signal }) {
    const { boardId } = input;
    const { service, hub } = ctx.app;
    const socket = ctx.socket;
    // Over HTTP (server-sent events) nothing would bound what a reader that does not read holds.
    if (!socket) throw new TRPCError({ code: 'METHOD_NOT_SUPPORTED', message: 'Subscribe to a board over the WebSocket (/trpc), not over HTTP.' });
    const guard = ctx.app.sockets.guard;
    // A few boards per socket: each can start with a snapshot of megabytes (TOO_MANY_REQUESTS past it).
    const release = guard.openSubscription(socket);
    const queue = new FrameQueue();
    // `signal.aborted` as a plain flag for the fast path below, which asks it for every frame (issue 19).
    let ended = false;
    const onAbort = () => {
      ended = true;
    };
    /** The fast path, once the first frame is out (see below); null: every frame goes through the queue. */
    let direct: ((frame: WireFrame) => boolean) | null = null;
    // A guest gets no chat while the public link has it off (issue 18): the hub asks at each frame
    // (a cached setting, read here first) and hands it the tick's frame without chat.
    const guests = ctx.guest ? ctx.app.guests : null;
    if (guests) await guests.chatAllowed(boardId).catch(() => false);
    // Listen first, then read the backlog: nothing committed in between can be missed.
    const unsubscribe = await hub.subscribe(boardId, {
      userId: ctx.user.id,
      frame: (frame) => queue.offer(frame, direct),
      revoked: () => queue.fail(new TRPCError({ code: 'FORBIDDEN', message: 'You no longer have access to this board.' })),
      resync: queue.resync,
      ...(guests ? { withoutChat: () => !guests.chatOpen(boardId) } : {}),
    }).catch((err: unknown) => {
      release();
      throw err;
    });
    const entry = { clientId: ctx.clientId, user: publicUser(ctx.user), ...(ctx.guest ? { guest: true } : {}) };
    let joined = false;
    try {
      const last = input.lastEventId == null ? null : Number(input.lastEventId);
      // The ops after lastEventId, serialized once for everyone resuming from there (BoardService.backlogBytes).
      const backlog = last === null ? null : await service.backlogBytes(boardId, last);
      let seq: number;
      let first: WireFrame;
      if (backlog) {
        seq = backlog.seq;
        await hub.join(boardId, seq, entry);
        joined = true;
        const presence: WireEvent = { type: 'presence', clients: await hub.presence(boardId), self: ctx.clientId };
        first = withEventBytes<WireFrame>(seq, backlog.bytes, [presence]);
      } else {
        // The snapshot is serialized once per board and seq, off the event loop when the board is
        // big, and its bytes are copied into this subscriber's message (plugins/frameEncoder.ts).
        const snapshot = await service.snapshotBytes(boardId, (bytes) => chargeSnapshot(ctx, bytes));
        seq = snapshot.seq;
        await hub.join(boardId, seq, entry);
        joined = true;
        const presence: WireEvent = { type: 'presence', clients: await hub.presence(boardId), self: ctx.clientId };
        first = withEventBytes<WireFrame>(seq, snapshot.bytes, [presence]);
      }
      yield tracked(String(seq), first);

      // The fast path (issue 19): a tick's frame that continues this subscriber's seq exactly is
      // written to the socket by the hub's flush itself, as the very bytes tRPC would send for it
      // (the envelope learnt from the first frame, plugins/frameEncoder.ts), shared by every
      // subscriber of the board with the same request id: no generator step, promise or encoding
      // per subscriber and frame. Only when nothing is ahead of it in the queue (FrameQueue.offer).
      // Anything else (a gap or duplicate to mend, a resync, a slow consumer to cut) goes through the
      // queue and the generator below, in order.
      const envelope = envelopeOf(first);
      if (envelope) {
        ended = signal?.aborted ?? false;
        signal?.addEventListener('abort', onAbort, { once: true });
        direct = (item) => {
          if (ended || socket.readyState !== socket.OPEN || guard.cutIfSlow(socket)) return false;
          const next = continuation(item, seq);
          if (next < 0) return false;
          const message = sharedFrameMessage(envelope, next, item);
          try {
            sendShared(socket, message);
          } catch {
            return false; // the generator sends it, or ends with the socket
          }
          seq = next;
          return true;
        };
      }

      /**
       * What the subscriber lacks after `seq` as JSON bytes of events: the ops from the log (shared
       * with everyone resuming from there), or a snapshot when the log no longer reaches back (made
       * off the event loop for a big board, and charged like a join's). Moves `seq` to what they reach.
       */
      const missed = async (): Promise<Uint8Array> => {
        ctx.app.metrics.gapFills.inc();
        const filled = (await service.backlogBytes(boardId, seq)) ?? (await service.snapshotBytes(boardId, (bytes) => chargeSnapshot(ctx, bytes)));
        seq = Math.max(seq, filled.seq);
        return filled.bytes;
      };

      for await (let item of queue.drain(signal)) {
        // A consumer that does not read (slow network, stalled tab) is cut off before it costs
        // unbounded memory; it reconnects and resumes from its last seq.
        // (The guard also checks every socket on a timer, so one that gets no new frame is cut off too.)
        if (guard.cutIfSlow(socket)) return;
        if (item === RESYNC) {
          const bytes = await missed();
          if (bytes.byteLength) yield tracked(String(seq), withEventBytes<WireFrame>(seq, bytes, []));
          continue;
        }
        // Ops committed by other processes can arrive in the same frame out of order: put them in order.
        if (!opsAscending(item.events)) item = { seq: item.seq, events: sortOps(item.events) };
        // Walk the frame's ops: duplicates (at or below seq) are dropped, a skipped seq is a gap.
        let next = seq;
        let gap = false;
        let dup = false;
        for (const e of item.events) {
          if (e.type !== 'op') continue;
          if (e.seq <= next) dup = true;
          else if (e.seq === next + 1) next = e.seq;
          else gap = true;
        }
        if (item.seq > next) gap = true;
        if (!gap && !dup) {
          // The common case: the shared frozen frame, serialized once for every subscriber.
          seq = next;
          yield tracked(String(seq), item);
          continue;
        }
        const filled = gap ? await missed() : null;
        const rest = item.events.filter((e) => e.type !== 'op' || e.seq > seq);
        for (const e of rest) if (e.type === 'op') seq = e.seq;
        if (filled?.byteLength) yield tracked(String(seq), withEventBytes<WireFrame>(seq, filled, rest));
        else if (rest.length) yield tracked(String(seq), { seq, events: rest });
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      release();
      unsubscribe();
      if (joined) await hub.leave(boardId, service.knownSeq(boardId), ctx.clientId);
    }
  }),
});

const mb = (bytes: number) => `${Math.max(1, Math.round(bytes / 1024 / 1024))} MB`;

/**
 * Charges a joining subscription's snapshot (its bytes) to the caller's `snapshotBytes` bucket, or
 * refuses it with TOO_MANY_REQUESTS: re-subscribing to a big board in a loop would make the server
 * send megabytes per call.
 */
function chargeSnapshot(ctx: Pick<Context, 'app' | 'user' | 'address'>, bytes: number): void {
  const bucket = ctx.app.limits.snapshotBytes;
  const wait = bucket.spend(ctx.user?.id ?? ctx.address, bytes);
  if (wait === 0) return;
  ctx.app.metrics.refused.inc({ kind: 'snapshot_bytes' });
  throw new TRPCError({
    code: 'TOO_MANY_REQUESTS',
    message: `Too many board snapshots: joining this board sends about ${mb(bytes)}, and one person may receive ${mb(bucket.rate)} of snapshots a second (bursts up to ${mb(bucket.burst)}). Subscribe again in ${Math.max(1, Math.ceil(wait))} s, or resume with lastEventId (no snapshot needed).`,
  });
}

function opsAscending(events: readonly WireEvent[]): boolean {
  let last = -Infinity;
  for (const e of events) {
    if (e.type !== 'op') continue;
    if (e.seq < last) return false;
    last = e.seq;
  }
  return true;
}

/** The events with the ops sorted by seq, each other event where it was. */
function sortOps(events: readonly WireEvent[]): WireEvent[] {
  const ops = events.filter((e): e is WireOpEvent => e.type === 'op').sort((a, b) => a.seq - b.seq);
  let i = 0;
  return events.map((e) => (e.type === 'op' ? ops[i++]! : e));
}

