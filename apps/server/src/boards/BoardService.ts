import { TRPCError } from '@trpc/server';
import { newId, renderSvg, toWireFrame, utf8Length, sortElements, type Element, type Op, type OpEvent, type SnapshotEvent, type User } from '@inkboard/protocol';
import { OwnedBoardsLimitError, type BoardState, type BoardWrite, type Storage } from '../storage/Storage.js';
import { advance, budgetProblem, DEFAULT_BUDGETS, ElementCosts, tooManyBoards, touchedBy, type BoardBudgets, type Totals } from './budgets.js';
import type { BoardHub } from './BoardHub.js';
import { PreviewStrokes } from './ephemeral.js';
import { ByteLru } from '../render/ByteLru.js';

/** A board held in memory: this process's copy of its elements at `seq`, with their running totals. */
interface LiveBoard extends Totals {
  id: string;
  seq: number;
  elements: ReadonlyMap<string, Element>;
}

/** A board nobody watches is dropped from memory after this long (it reloads from the database on use). */
const IDLE_EVICT_MS = 10 * 60_000;

export interface PushAck {
  opId: string;
  seq: number;
  /** True when this op id was already applied: acknowledged again, not applied twice. */
  duplicate: boolean;
}

interface PendingPush {
  boardId: string;
  author: Pick<User, 'id' | 'name'>;
  ops: readonly Op[];
  resolve: (acks: PushAck[]) => void;
  reject: (err: unknown) => void;
}

/** Serializes joining subscribers' snapshots, off the event loop for big boards (the render pool, `RenderPool.snapshot`). */
export interface SnapshotSource {
  readonly limits: { snapshotInlineBytes: number };
  snapshot(boardId: string, minSeq: number, inline?: () => Promise<SnapshotBytes>): Promise<SnapshotBytes>;
  cachedSnapshotBytes(boardId: string, minSeq: number): number | undefined;
}

/** A snapshot event as JSON bytes (packed with `toWireFrame`), and its seq. */
export interface SnapshotBytes {
  seq: number;
  bytes: Uint8Array;
}

/** Serialized backlogs kept for subscribers resuming at once (least recently used dropped first). */
export const BACKLOG_CACHE_BYTES = 32 * 1024 * 1024;

/** Thumbnails draw the topmost elements only, to stay small. */
const THUMBNAIL_MAX_ELEMENTS = 1_000;

const notFound = (boardId: string) => new TRPCError({ code: 'NOT_FOUND', message: `Board "${boardId}" does not exist (it may have been deleted).` });

/**
 * Sequencing and persistence of board edits. The database is the authority on each board's order:
 * seqs are assigned inside the transaction that stores the ops, with the board's row locked, so
 * several server processes never hand out the same seq. Each process keeps a copy of the boards in
 * use and catches it up from the op log when another process wrote in between. Pushes that arrive
 * together are written in one transaction (group commit); only after the commit are they
 * acknowledged and broadcast.
 */
export class BoardService {
  private readonly live = new Map<string, LiveBoard>();
  private readonly thumbnails = new Map<string, { seq: number; svg: string }>();
  private readonly lastUsed = new Map<string, number>();
  private queue: PendingPush[] = [];
  /** Batches being committed, oldest first (at most `pipelineDepth`). */
  private readonly inFlight: PendingPush[][] = [];
  /** Settles once the newest batch in flight has been acknowledged (the next waits for it, to keep their order). */
  private acked: Promise<void> = Promise.resolve();
  private flushScheduled = false;
  /**
   * Commits in flight at once: 2 where the storage orders transactions by call (SQLite: the next
   * transaction runs while the previous one's fdatasync is on the thread pool), else 1.
   */
  private readonly pipelineDepth: number;
  /**
   * Boards as the batches in flight left them: written, maybe not yet on disk, so neither served nor
   * published; only the next batch plans on top of them (a failed batch's copy is caught up from the
   * database by `caughtUp`, which reloads when the stored seq is behind).
   */
  private readonly staged = new Map<string, LiveBoard>();
  private readonly costs = new ElementCosts();
  /** Serialized backlogs by board and starting seq (backlogBytes); a board's op log holds at most 8 MiB by default. */
  private readonly backlogs = new ByteLru<SnapshotBytes>(BACKLOG_CACHE_BYTES, BACKLOG_CACHE_BYTES / 2);
  /** Points of live previews per connection and element (ephemeral.ts). */
  readonly previews = new PreviewStrokes();

  constructor(
    private readonly storage: Storage,
    private readonly hub: BoardHub,
    private readonly opLogRetention: number,
    private readonly observe: { committed(ops: number, seconds: number): void } = { committed: () => {} },
    readonly budgets: BoardBudgets = DEFAULT_BUDGETS,
  ) {
    // A deleted board (on any process) is dropped from memory here too.
    this.pipelineDepth = storage.commitsInCallOrder ? 2 : 1;
    hub.onSignal((signal) => {
      if (signal.type === 'revoke' && signal.userId === null) this.drop(signal.boardId);
    });
  }

  /** Forgets boards that nobody watched or edited for `idleMs` (memory stays bounded by what is in use). */
  evictIdle(now = Date.now(), idleMs = IDLE_EVICT_MS): number {
    let evicted = 0;
    for (const [boardId, used] of this.lastUsed) {
      if (now - used < idleMs || this.hub.subscriberCount(boardId) > 0) continue;
      if (this.queue.some((p) => p.boardId === boardId) || this.inFlight.some((batch) => batch.some((p) => p.boardId === boardId))) continue;
      this.drop(boardId);
      evicted++;
    }
    return evicted;
  }

  /** Boards held in memory. */
  get loadedBoards(): number {
    return this.live.size;
  }

  /** Writes whatever is queued now (graceful shutdown). */
  async flushNow(): Promise<void> {
    while (this.inFlight.length || this.queue.length) {
      this.flush();
      await this.acked;
    }
  }

  /** A new board owned by `ownerId`, or BAD_REQUEST when they own as many as one person may. */
  async createBoard(title: string, ownerId: string) {
    try {
      return await this.storage.createBoard({ id: newId(12), title, ownerId, now: Date.now(), maxOwned: this.budgets.maxOwnedBoards });
    } catch (err) {
      if (err instanceof OwnedBoardsLimitError) throw tooManyBoards(err.owned, this.budgets);
      throw err;
    }
  }

  /** UTF-8 bytes of element data a push carries (added elements as they will be stored, other ops as sent). */
  pushBytes(ops: readonly Op[]): number {
    let bytes = 0;
    for (const op of ops) {
      if (op.type === 'add') for (const el of op.elements) bytes += this.costs.of(el).bytes;
      else bytes += utf8Length(JSON.stringify(op));
    }
    return bytes;
  }

  /** The board's row, or NOT_FOUND. */
  async requireBoard(boardId: string) {
    const row = await this.storage.board(boardId);
    if (!row) throw notFound(boardId);
    return row;
  }

  renameBoard(boardId: string, title: string): Promise<void> {
    return this.storage.renameBoard(boardId, title, Date.now());
  }

  /** Deletes the board and everything on it; its subscribers on every process are cut off. */
  async deleteBoard(boardId: string): Promise<void> {
    await this.storage.deleteBoard(boardId);
    this.drop(boardId);
    this.hub.revoke(boardId, null);
  }

  /**
   * Refuses ops adding images whose files are not on the board (routes/files.ts; set by buildApp):
   * a promise that rejects with the refusal, or null when the ops add no image.
   */
  imageCheck: ((boardId: string, ops: readonly Op[]) => Promise<void> | null) | null = null;
  /** Per board, the last push still waiting for its image check: later pushes queue behind it, in order. */
  private readonly checking = new Map<string, Promise<void>>();

  /** Renders previews off the event loop (the render pool, `RenderPool.thumbnail`; set by buildApp). */
  thumbnailRenderer: ((boardId: string) => Promise<string>) | null = null;

  /**
   * A small SVG of the board, from the render pool (cached there per seq): never rendered on the
   * event loop, and a placeholder while the first one is not ready.
   */
  async thumbnail(boardId: string): Promise<string> {
    if (!this.thumbnailRenderer) throw new Error('BoardService.thumbnailRenderer is not set (buildApp sets it)');
    return this.thumbnailRenderer(boardId);
  }

  /** The board as this process last knew it, loaded from the database on first use. */
  async board(boardId: string): Promise<LiveBoard> {
    this.lastUsed.set(boardId, Date.now());
    return this.live.get(boardId) ?? this.sync(boardId);
  }

  /** The board as the database holds it now (caught up when another process wrote since). */
  async fresh(boardId: string): Promise<LiveBoard> {
    const board = await this.board(boardId);
    const seq = await this.storage.boardSeq(boardId);
    if (seq === undefined) throw notFound(boardId);
    return seq === board.seq ? board : this.sync(boardId);
  }

  /** This process's copy of the board, if it is loaded (no database access). */
  peek(boardId: string): LiveBoard | undefined {
    return this.live.get(boardId);
  }

  /** The seq this process knows of (0 when the board is not loaded): a hint for ephemeral frames. */
  knownSeq(boardId: string): number {
    return this.live.get(boardId)?.seq ?? 0;
  }

  async snapshot(boardId: string): Promise<SnapshotEvent> {
    const board = await this.fresh(boardId);
    return { type: 'snapshot', seq: board.seq, elements: [...board.elements.values()] };
  }

  /** Set by buildApp (the render pool). */
  snapshotSource: SnapshotSource | null = null;

  /**
   * Told each board's seq after a commit that added ops to it, and the bytes of op JSON the commit's
   * trims moved to history_ops (version history's checkpoints and byte budget; set by buildApp).
   */
  afterCommit: ((boardId: string, seq: number, movedToHistory: number) => void) | null = null;

  /**
   * The board's snapshot event for a subscriber joining now, as JSON bytes, at the board's current
   * seq or later (call it after registering with the hub). Serialized once per board and seq and
   * shared: on the event loop when the board holds fewer element bytes than the inline threshold,
   * else by a render worker reading the database itself. `charge` is told what the join costs first
   * (the cached snapshot's size, else the board's element bytes) and may throw to refuse it.
   */
  async snapshotBytes(boardId: string, charge: (bytes: number) => void): Promise<SnapshotBytes> {
    const source = this.snapshotSource;
    if (!source) throw new Error('BoardService.snapshotSource is not set (buildApp sets it)');
    const row = await this.requireBoard(boardId);
    const elementBytes = Math.max(row.elementBytes, this.live.get(boardId)?.bytes ?? 0);
    charge(source.cachedSnapshotBytes(boardId, row.seq) ?? elementBytes);
    const inline =
      elementBytes < source.limits.snapshotInlineBytes
        ? async (): Promise<SnapshotBytes> => {
            const snapshot = await this.snapshot(boardId);
            const [event] = toWireFrame({ seq: snapshot.seq, events: [snapshot] }).events;
            return { seq: snapshot.seq, bytes: Buffer.from(JSON.stringify(event)) };
          }
        : undefined;
    return source.snapshot(boardId, row.seq, inline);
  }

  /**
   * The ops after `after` as a resuming subscriber receives them (packed op events, JSON joined by
   * commas) and the seq they reach, or null when the log no longer reaches back (send a snapshot).
   * Kept per board and starting seq while the board has no newer op: subscribers resuming from the
   * same seq at once (a group's connection came back) share one read and one serialization.
   */
  async backlogBytes(boardId: string, after: number): Promise<SnapshotBytes | null> {
    const board = await this.fresh(boardId);
    if (after > board.seq) return null;
    if (after === board.seq) return { seq: after, bytes: new Uint8Array(0) };
    const key = `${boardId}:${after}`;
    const cached = this.backlogs.get(key);
    if (cached && cached.seq >= board.seq) return cached;
    const ops = await this.opsSince(boardId, after);
    if (!ops) return null;
    const seq = ops.at(-1)?.seq ?? after;
    const json = toWireFrame({ seq, events: ops }).events.map((e) => JSON.stringify(e)).join(',');
    const backlog = { seq, bytes: Buffer.from(json) };
    this.backlogs.set(key, backlog, backlog.bytes.byteLength);
    return backlog;
  }

  /** Ops after `seq` when the log still reaches back that far, else null (send a snapshot). */
  async opsSince(boardId: string, seq: number): Promise<OpEvent[] | null> {
    const board = await this.fresh(boardId);
    if (seq > board.seq) return null;
    if (seq === board.seq) return [];
    const oldest = await this.storage.oldestOpSeq(boardId);
    if (oldest === undefined || oldest > seq + 1) return null;
    const ops = await this.storage.opsAfter(boardId, seq);
    // Trimmed in between: the caller gets a snapshot instead.
    return ops[0]?.seq === seq + 1 ? ops : null;
  }

  /** Applies the ops in order, atomically: all are acknowledged with their seqs, or none is applied. */
  async push(boardId: string, author: Pick<User, 'id' | 'name'>, ops: readonly Op[]): Promise<PushAck[]> {
    await this.board(boardId); // NOT_FOUND before queueing
    const check = this.imageCheck?.(boardId, ops) ?? null;
    // Marked as handled at once: it may fail while an earlier push's check is still running.
    check?.catch(() => {});
    const before = this.checking.get(boardId);
    if (check || before) {
      // A push waiting for its check keeps its place: one pushed after it (by the same client, say a
      // move of the image just placed) is not queued before it.
      const mine = (async () => {
        await before;
        await check;
      })();
      const tail = mine.catch(() => {});
      this.checking.set(boardId, tail);
      try {
        await mine;
      } finally {
        if (this.checking.get(boardId) === tail) this.checking.delete(boardId);
      }
    }
    return new Promise((resolve, reject) => {
      // Only the id and display name go into op events and the op log: callers pass the signed-in
      // user, whose record also holds the sign-in username.
      this.queue.push({ boardId, author: { id: author.id, name: author.name }, ops, resolve, reject });
      // With no commit in flight, written as soon as the current task's promises have settled (pushes
      // queued by then share the transaction), not on the next turn of the event loop: under load
      // that waited for the rest of the poll phase, hundreds of sockets' messages (issue 19). With a
      // commit in flight, on the next turn as before, so that the pushes of a busy spell gather in
      // few transactions (one per push made the soak test's memory grow ~20 MB more).
      if (!this.flushScheduled && this.inFlight.length < this.pipelineDepth) {
        this.flushScheduled = true;
        if (this.inFlight.length === 0) queueMicrotask(() => this.flush());
        else setImmediate(() => this.flush());
      }
    });
  }

  private drop(boardId: string): void {
    this.live.delete(boardId);
    this.thumbnails.delete(boardId);
    this.lastUsed.delete(boardId);
  }

  /** Keeps the newer of two copies (a slow reader must not roll the board back). */
  private keep(board: LiveBoard): LiveBoard {
    const current = this.live.get(board.id);
    if (current && current.seq >= board.seq) return current;
    this.live.set(board.id, board);
    return board;
  }

  /** The newest copy to plan a commit on: as a batch in flight left it, else the live one. */
  private newest(boardId: string): LiveBoard | undefined {
    const staged = this.staged.get(boardId);
    const live = this.live.get(boardId);
    return staged && (!live || staged.seq > live.seq) ? staged : live;
  }

  /** Reads the board consistently (row locked) and brings this process's copy up to it. */
  private async sync(boardId: string): Promise<LiveBoard> {
    const known = this.live.get(boardId);
    let synced: LiveBoard | undefined;
    await this.storage.commit([{ boardId, knownSeq: known?.seq ?? -1, opIds: [] }], (states) => {
      const state = states.get(boardId);
      if (state) synced = caughtUp(boardId, known, state, this.costs);
      return [];
    });
    if (!synced) throw notFound(boardId);
    return this.keep(synced);
  }

  /**
   * Writes every queued push in one transaction, then acknowledges and broadcasts. Pushes that
   * arrive during a commit go in the next one, which (SQLite) starts while the previous one is
   * flushed to disk; batches are acknowledged and published in the order they were written.
   */
  private flush(): void {
    this.flushScheduled = false;
    if (this.inFlight.length >= this.pipelineDepth || !this.queue.length) return;
    const batch = this.queue;
    this.queue = [];
    this.inFlight.push(batch);
    const previous = this.acked;
    this.acked = this.commitBatch(batch, previous)
      .catch((err: unknown) => {
        for (const push of batch) push.reject(err);
      })
      .finally(() => {
        this.inFlight.splice(this.inFlight.indexOf(batch), 1);
        this.flush();
      });
  }

  private async commitBatch(batch: PendingPush[], previous: Promise<void>): Promise<void> {
    const byBoard = new Map<string, PendingPush[]>();
    for (const push of batch) byBoard.set(push.boardId, [...(byBoard.get(push.boardId) ?? []), push]);
    const reads = [...byBoard].map(([boardId, pushes]) => ({
      boardId,
      knownSeq: this.newest(boardId)?.seq ?? -1,
      opIds: pushes.flatMap((p) => p.ops.map((op) => op.opId)),
    }));
    const known = new Map(reads.map((r) => [r.boardId, this.newest(r.boardId)]));
    const outcomes = new Map<PendingPush, { acks?: PushAck[]; error?: TRPCError }>();
    const staged: LiveBoard[] = [];
    const events = new Map<string, OpEvent[]>();
    const now = Date.now();
    const started = performance.now();
    let applied = 0;

    // The writes of the plan that committed (the storage notes on them what its trims moved to history).
    let planned: BoardWrite[] = [];
    const plan = (states: ReadonlyMap<string, BoardState | undefined>): BoardWrite[] => {
      // Re-run from scratch if the storage calls plan again (e.g. a retried transaction).
      outcomes.clear();
      staged.length = 0;
      events.clear();
      applied = 0;
      const writes: BoardWrite[] = [];
      // Element bytes each owner's boards hold, as this commit changes them (the storage quota).
      const ownerUsed = new Map<string, number>();
      for (const [boardId, pushes] of byBoard) {
        const state = states.get(boardId);
        if (!state) {
          for (const push of pushes) outcomes.set(push, { error: notFound(boardId) });
          continue;
        }
        const start = caughtUp(boardId, known.get(boardId), state, this.costs);
        let elements = start.elements;
        let seq = start.seq;
        let totals: Totals = { points: start.points, bytes: start.bytes };
        // The stored row may lag the elements (a database from before the budgets): count what the board holds.
        ownerUsed.set(state.ownerId, (ownerUsed.get(state.ownerId) ?? state.ownerBytes) - state.elementBytes + start.bytes);
        const assigned = new Map(state.applied);
        const boardEvents: OpEvent[] = [];
        const touched = new Set<string>();
        let cleared = false;
        for (const push of pushes) {
          const acks: PushAck[] = [];
          const fresh: Op[] = [];
          for (const op of push.ops) {
            const dup = assigned.get(op.opId) ?? (fresh.some((f) => f.opId === op.opId) ? -1 : undefined);
            if (dup !== undefined) acks.push({ opId: op.opId, seq: dup, duplicate: true });
            else {
              fresh.push(op);
              acks.push({ opId: op.opId, seq: 0, duplicate: false });
            }
          }
          const result = advance({ elements, ...totals }, fresh, this.costs);
          if (!result.ok) {
            outcomes.set(push, { error: new TRPCError({ code: 'BAD_REQUEST', message: `Nothing was applied: ${result.error}` }) });
            continue;
          }
          const used = ownerUsed.get(state.ownerId)!;
          const over = budgetProblem(totals, result, used, push.author.id === state.ownerId, this.budgets);
          if (over) {
            outcomes.set(push, { error: over });
            continue;
          }
          ownerUsed.set(state.ownerId, used + result.bytes - totals.bytes);
          totals = { points: result.points, bytes: result.bytes };
          for (const op of fresh) {
            seq += 1;
            assigned.set(op.opId, seq);
            boardEvents.push({ type: 'op', seq, author: push.author, op });
            if (op.type === 'clear') cleared = true;
            else for (const id of touchedBy(op)) touched.add(id);
          }
          for (const ack of acks) if (ack.seq <= 0) ack.seq = assigned.get(ack.opId)!;
          elements = result.elements;
          applied += fresh.length;
          outcomes.set(push, { acks });
        }
        staged.push({ id: boardId, seq, elements, ...totals });
        if (!boardEvents.length) continue;
        events.set(boardId, boardEvents);
        // Trim in steps of a quarter of the retention (at most 256 ops), so the log holds between
        // retention and 1.25x retention ops.
        const step = Math.max(1, Math.min(256, Math.floor(this.opLogRetention / 4)));
        const trim = Math.floor(seq / step) > Math.floor(state.seq / step) && seq > this.opLogRetention;
        const upserts: Element[] = [];
        const deletes: string[] = [];
        for (const id of touched) {
          const el = elements.get(id);
          if (el) upserts.push(el);
          else if (!cleared) deletes.push(id);
        }
        if (cleared) for (const el of elements.values()) if (!touched.has(el.id)) upserts.push(el);
        writes.push({
          boardId,
          ops: boardEvents,
          cleared,
          upserts,
          deletes,
          seq,
          elementCount: elements.size,
          elementPoints: totals.points,
          elementBytes: totals.bytes,
          now,
          ...(trim ? { trimUpTo: seq - this.opLogRetention } : {}),
          logMaxBytes: this.budgets.opLogMaxBytes,
        });
      }
      planned = writes;
      return writes;
    };

    // SQLite has run the transaction by the time `commit` returns (commitsInCallOrder): the next
    // batch plans on these copies while this one's fdatasync runs.
    const durable = this.storage.commit(reads, plan);
    for (const board of staged) this.staged.set(board.id, board);
    let failed: unknown;
    try {
      await durable;
    } catch (cause) {
      failed = cause;
    }
    // Acknowledged and published after the batch before it, whatever order the disk finished in.
    await previous;
    for (const board of staged) if (this.staged.get(board.id) === board) this.staged.delete(board.id);
    if (failed !== undefined) {
      const error = new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'The edit could not be saved; nothing was applied. Retry it.', cause: failed });
      for (const push of batch) push.reject(error);
      return;
    }
    this.observe.committed(applied, (performance.now() - started) / 1000);
    for (const board of staged) {
      if (this.live.has(board.id) || this.lastUsed.has(board.id)) this.keep(board);
    }
    for (const [boardId, boardEvents] of events) this.hub.publish(boardId, boardEvents.at(-1)!.seq, boardEvents);
    if (this.afterCommit) {
      const moved = new Map(planned.map((w) => [w.boardId, w.movedToHistory ?? 0]));
      for (const [boardId, boardEvents] of events) this.afterCommit(boardId, boardEvents.at(-1)!.seq, moved.get(boardId) ?? 0);
    }
    for (const push of batch) {
      const outcome = outcomes.get(push)!;
      if (outcome.error) push.reject(outcome.error);
      else push.resolve(outcome.acks!);
    }
  }
}

/** The board at the state's seq: `known` with the ops it missed applied, or the elements read. */
function caughtUp(boardId: string, known: LiveBoard | undefined, state: BoardState, costs: ElementCosts): LiveBoard {
  if (state.ops === null || !known) {
    const elements = new Map((state.elements ?? []).map((e) => [e.id, e]));
    return { id: boardId, seq: state.seq, elements, ...costs.total(elements.values()) };
  }
  if (!state.ops.length) return known;
  const result = advance(known, state.ops.map((e) => e.op), costs);
  // Logged ops were valid in this order when they were applied; anything else is a broken log.
  if (!result.ok) throw new Error(`Board ${boardId}: the op log does not apply to seq ${known.seq}: ${result.error}`);
  return { id: boardId, seq: state.seq, elements: result.elements, points: result.points, bytes: result.bytes };
}
