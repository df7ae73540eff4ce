import { TRPCError } from '@trpc/server';
import { applyOps, newId, renderSvg, sortElements, type Element, type Op, type OpEvent, type SnapshotEvent, type User } from '@inkboard/protocol';
import type { BoardHub } from './BoardHub.js';
import type { BoardStore } from './BoardStore.js';

/** A board held in memory: the authority on its elements and seq. */
interface LiveBoard {
  id: string;
  seq: number;
  elements: ReadonlyMap<string, Element>;
}

/** A board nobody watches is dropped from memory after this long (it reloads from SQLite on use). */
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

/** Thumbnails draw the topmost elements only, to stay small. */
const THUMBNAIL_MAX_ELEMENTS = 1_000;


/**
 * Sequencing and persistence of board edits. Pushes that arrive together are written in one
 * transaction (group commit); only after the commit are they acknowledged and broadcast.
 */
export class BoardService {
  private readonly live = new Map<string, LiveBoard>();
  private readonly thumbnails = new Map<string, { seq: number; svg: string }>();
  private readonly lastUsed = new Map<string, number>();
  private queue: PendingPush[] = [];
  private flushScheduled = false;

  constructor(
    private readonly store: BoardStore,
    private readonly hub: BoardHub,
    private readonly opLogRetention: number,
    private readonly observe: { committed(ops: number, seconds: number): void } = { committed: () => {} },
  ) {}

  /** Forgets boards that nobody watched or edited for `idleMs` (memory stays bounded by what is in use). */
  evictIdle(now = Date.now(), idleMs = IDLE_EVICT_MS): number {
    let evicted = 0;
    for (const [boardId, used] of this.lastUsed) {
      if (now - used < idleMs || this.hub.subscriberCount(boardId) > 0 || this.queue.some((p) => p.boardId === boardId)) continue;
      this.live.delete(boardId);
      this.thumbnails.delete(boardId);
      this.lastUsed.delete(boardId);
      evicted++;
    }
    return evicted;
  }

  /** Boards held in memory. */
  get loadedBoards(): number {
    return this.live.size;
  }

  /** Writes whatever is queued now (graceful shutdown). */
  flushNow(): void {
    if (this.queue.length) this.flush();
  }

  /** A new board owned by `ownerId`. */
  createBoard(title: string, ownerId: string) {
    return this.store.createBoard(newId(12), title, ownerId);
  }

  /** The board's row, or NOT_FOUND. */
  requireBoard(boardId: string) {
    const row = this.store.getBoard(boardId);
    if (!row) throw new TRPCError({ code: 'NOT_FOUND', message: `Board "${boardId}" does not exist (it may have been deleted).` });
    return row;
  }

  /** Deletes the board and everything on it; its subscribers are cut off. */
  deleteBoard(boardId: string): void {
    this.store.deleteBoard(boardId);
    this.live.delete(boardId);
    this.thumbnails.delete(boardId);
    this.lastUsed.delete(boardId);
    this.hub.revoke(boardId, null);
  }

  /** A small SVG of the board (cached per seq). */
  thumbnail(boardId: string): string {
    const board = this.board(boardId);
    const cached = this.thumbnails.get(boardId);
    if (cached?.seq === board.seq) return cached.svg;
    const svg = renderSvg(sortElements(board.elements.values()).slice(-THUMBNAIL_MAX_ELEMENTS), { padding: 8 });
    this.thumbnails.set(boardId, { seq: board.seq, svg });
    return svg;
  }

  /** The board in memory, loaded from the database on first use. */
  board(boardId: string): LiveBoard {
    this.lastUsed.set(boardId, Date.now());
    let board = this.live.get(boardId);
    if (!board) {
      const row = this.requireBoard(boardId);
      board = { id: boardId, seq: row.seq, elements: new Map(this.store.loadElements(boardId).map((e) => [e.id, e])) };
      this.live.set(boardId, board);
    }
    return board;
  }

  currentSeq(boardId: string): number {
    return this.board(boardId).seq;
  }

  snapshot(boardId: string): SnapshotEvent {
    const board = this.board(boardId);
    return { type: 'snapshot', seq: board.seq, elements: [...board.elements.values()] };
  }

  /** Ops after `seq` when the log still reaches back that far, else null (send a snapshot). */
  opsSince(boardId: string, seq: number): OpEvent[] | null {
    const board = this.board(boardId);
    if (seq > board.seq) return null;
    if (seq === board.seq) return [];
    const oldest = this.store.oldestOpSeq(boardId);
    if (oldest === undefined || oldest > seq + 1) return null;
    return this.store.opsAfter(boardId, seq);
  }

  /** Applies the ops in order, atomically: all are acknowledged with their seqs, or none is applied. */
  push(boardId: string, author: Pick<User, 'id' | 'name'>, ops: readonly Op[]): Promise<PushAck[]> {
    this.board(boardId); // NOT_FOUND before queueing
    return new Promise((resolve, reject) => {
      this.queue.push({ boardId, author, ops, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Writes every queued push in one transaction, then acknowledges and broadcasts. */
  private flush(): void {
    this.flushScheduled = false;
    if (!this.queue.length) return;
    const batch = this.queue;
    this.queue = [];
    const staged = new Map<string, LiveBoard>();
    const outcomes: { push: PendingPush; acks?: PushAck[]; error?: TRPCError }[] = [];
    const events = new Map<string, OpEvent[]>();
    const now = Date.now();
    const started = performance.now();
    let applied = 0;
    try {
      this.store.transaction(() => {
        for (const push of batch) {
          const before = staged.get(push.boardId) ?? this.live.get(push.boardId);
          if (!before) {
            outcomes.push({ push, error: new TRPCError({ code: 'NOT_FOUND', message: `Board "${push.boardId}" does not exist.` }) });
            continue;
          }
          const acks: PushAck[] = [];
          const fresh: Op[] = [];
          const seen = new Set<string>();
          for (const op of push.ops) {
            const dupSeq = this.store.seqOfOp(push.boardId, op.opId);
            if (dupSeq !== undefined) acks.push({ opId: op.opId, seq: dupSeq, duplicate: true });
            else if (seen.has(op.opId)) acks.push({ opId: op.opId, seq: -1, duplicate: true });
            else {
              seen.add(op.opId);
              fresh.push(op);
              acks.push({ opId: op.opId, seq: 0, duplicate: false });
            }
          }
          const result = applyOps(before.elements, fresh);
          if (!result.ok) {
            outcomes.push({ push, error: new TRPCError({ code: 'BAD_REQUEST', message: `Nothing was applied: ${result.error}` }) });
            continue;
          }
          let seq = before.seq;
          const boardEvents = events.get(push.boardId) ?? [];
          for (const op of fresh) {
            seq += 1;
            const event: OpEvent = { type: 'op', seq, author: push.author, op };
            this.store.writeOp(push.boardId, event, result.elements, now);
            boardEvents.push(event);
            const ack = acks.find((a) => a.opId === op.opId && !a.duplicate)!;
            ack.seq = seq;
          }
          for (const ack of acks) if (ack.seq === -1) ack.seq = acks.find((a) => a.opId === ack.opId && !a.duplicate)!.seq;
          events.set(push.boardId, boardEvents);
          if (fresh.length) {
            this.store.setBoardSeq(push.boardId, seq, result.elements.size, now);
            // Trim in steps of a quarter of the retention (at most 256 ops), so the log holds between
            // retention and 1.25x retention ops.
            const step = Math.max(1, Math.min(256, Math.floor(this.opLogRetention / 4)));
            if (Math.floor(seq / step) > Math.floor(before.seq / step) && seq > this.opLogRetention) {
              this.store.trimOps(push.boardId, seq - this.opLogRetention);
            }
          }
          applied += fresh.length;
          staged.set(push.boardId, { id: push.boardId, seq, elements: result.elements });
          outcomes.push({ push, acks });
        }
      });
    } catch (cause) {
      const error = new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'The edit could not be saved; nothing was applied. Retry it.', cause });
      for (const push of batch) push.reject(error);
      return;
    }
    this.observe.committed(applied, (performance.now() - started) / 1000);
    for (const [boardId, board] of staged) if (this.live.has(boardId)) this.live.set(boardId, board);
    for (const [boardId, boardEvents] of events) {
      if (boardEvents.length) this.hub.publish(boardId, boardEvents.at(-1)!.seq, boardEvents);
    }
    for (const outcome of outcomes) {
      if (outcome.error) outcome.push.reject(outcome.error);
      else outcome.push.resolve(outcome.acks!);
    }
  }
}
