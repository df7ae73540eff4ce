import { TRPCClientError } from '@trpc/client';
import {
  addPending,
  dropPending,
  emptyClientBoard,
  fromWireFrame,
  pushableRun,
  receiveFrame,
  visibleElements,
  type BoardEvent,
  type ClientBoard,
  type Elements,
  type Frame,
  type Op,
  type PresenceEntry,
} from '@inkboard/protocol';
import { backoffMs, type InkboardClient } from './createClient.js';

export type SessionStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface SessionListener {
  /** Every event of every frame, after the board state took it in. */
  event?(event: BoardEvent, session: BoardSession): void;
  /** The visible board or the status changed. */
  change?(session: BoardSession): void;
  /** The server refused an op (it was dropped) or the subscription failed for good. */
  error?(error: Error, op?: Op): void;
}

/** Codes that mean "this op will never be accepted": drop it instead of retrying. */
const FINAL_CODES = new Set(['BAD_REQUEST', 'NOT_FOUND', 'FORBIDDEN', 'UNAUTHORIZED', 'PAYLOAD_TOO_LARGE', 'UNPROCESSABLE_CONTENT']);

/**
 * A live copy of one board: subscribes with resume, applies the client's own ops optimistically,
 * sends them one push at a time (in order) and re-sends with the same op ids after a failure, so
 * each op is applied exactly once.
 */
export class BoardSession {
  board: ClientBoard = emptyClientBoard;
  status: SessionStatus = 'connecting';
  presence = new Map<string, PresenceEntry>();
  /** This connection's client id on the board (its cursor and preview events carry it). */
  clientId: string | null = null;
  /** Times a frame skipped seqs and the session had to ask again (should stay 0). */
  gaps = 0;
  private unsubscribe: (() => void) | null = null;
  private readonly waiters = new Map<string, { resolve: (seq: number) => void; reject: (e: Error) => void }>();
  private readonly acked = new Map<string, number>();
  private sending = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private resubscribeTimer: ReturnType<typeof setTimeout> | null = null;
  private resubscribeAttempt = 0;
  /** After a refused push of several ops, send this many one at a time to find the bad one. */
  private singly = 0;

  constructor(
    readonly client: InkboardClient,
    readonly boardId: string,
    private readonly listener: SessionListener = {},
  ) {}

  /** The board as this client shows it: confirmed state plus its own unconfirmed ops. */
  get elements(): Elements {
    return visibleElements(this.board);
  }

  get seq(): number {
    return this.board.seq;
  }

  /** Starts (or restarts after a gap) the subscription, resuming after `lastEventId` when given. */
  start(lastEventId?: number): this {
    this.unsubscribe?.();
    const sub = this.client.trpc.board.onEvents.subscribe(
      { boardId: this.boardId, lastEventId: lastEventId === undefined ? undefined : String(lastEventId) },
      {
        onData: ({ data }) => this.receive(fromWireFrame(data)),
        onError: (err) => {
          const code = (err.data as { code?: string } | undefined)?.code;
          if (code && FINAL_CODES.has(code)) {
            // No access any more (or the board is gone): retrying cannot help.
            this.setStatus('closed');
            this.listener.error?.(err);
            return;
          }
          // A connection that broke at a bad moment, or a server that cut us off for being slow:
          // subscribe again from what we have.
          this.setStatus('reconnecting');
          if (this.resubscribeTimer) clearTimeout(this.resubscribeTimer);
          this.resubscribeTimer = setTimeout(() => {
            this.resubscribeTimer = null;
            if (this.status !== 'closed') this.start(this.board.seq || undefined);
          }, backoffMs(this.resubscribeAttempt++));
        },
        onConnectionStateChange: (state) => {
          if (state.state === 'connecting' && this.status === 'live') this.setStatus('reconnecting');
        },
      },
    );
    this.unsubscribe = () => sub.unsubscribe();
    return this;
  }

  /** Applies an op locally at once and queues it; resolves with its seq once the server stored it. */
  apply(op: Op): Promise<number> {
    this.board = addPending(this.board, op);
    const done = new Promise<number>((resolve, reject) => this.waiters.set(op.opId, { resolve, reject }));
    this.listener.change?.(this);
    this.sendPending();
    return done;
  }

  /** Resolves when every op of this client is confirmed by a frame. */
  async settled(timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    while (this.board.pending.length) {
      if (Date.now() - start > timeoutMs) throw new Error(`${this.board.pending.length} ops still pending after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.resubscribeTimer) clearTimeout(this.resubscribeTimer);
    this.setStatus('closed');
  }

  private receive(frame: Frame): void {
    const result = receiveFrame(this.board, frame);
    if (result.gap) {
      this.gaps++;
      // Missed seqs (should not happen with tracked resume): ask again from what we have.
      this.start(this.board.seq);
      return;
    }
    this.board = result.board;
    for (const { opId, seq } of result.confirmedOps) this.settle(opId, seq);
    // Ops acknowledged at or below a snapshot's seq are already in it.
    for (const op of this.board.pending) {
      const seq = this.acked.get(op.opId);
      if (seq !== undefined && seq <= this.board.seq) {
        this.board = dropPending(this.board, op.opId);
        this.settle(op.opId, seq);
      }
    }
    for (const event of frame.events) {
      if (event.type === 'presence') {
        this.presence = new Map(event.clients.map((c) => [c.clientId, c]));
        if (event.self) this.clientId = event.self;
      }
      else if (event.type === 'join') this.presence.set(event.client.clientId, event.client);
      else if (event.type === 'leave') this.presence.delete(event.clientId);
    }
    this.resubscribeAttempt = 0;
    if (this.status !== 'live') {
      this.setStatus('live');
      this.sendPending();
    }
    for (const event of frame.events) this.listener.event?.(event, this);
    this.listener.change?.(this);
  }

  private settle(opId: string, seq: number | undefined): void {
    const waiter = this.waiters.get(opId);
    if (!waiter) return;
    this.waiters.delete(opId);
    this.acked.delete(opId);
    waiter.resolve(seq ?? this.board.seq);
  }

  /** One push in flight at a time keeps the server's order the order the ops were made. */
  private sendPending(): void {
    if (this.sending || this.status === 'closed') return;
    const unsent = this.board.pending.filter((op) => !this.acked.has(op.opId));
    // Within the server's per-push limits (ops, points, added or updated elements), so a burst of big
    // edits goes as several pushes instead of being refused whole.
    const ops = unsent.slice(0, this.singly > 0 ? 1 : pushableRun(unsent));
    if (!ops.length) return;
    this.sending = true;
    this.client.trpc.board.push.mutate({ boardId: this.boardId, ops }).then(
      ({ acks }) => {
        this.sending = false;
        this.attempt = 0;
        if (this.singly > 0) this.singly--;
        for (const ack of acks) {
          this.acked.set(ack.opId, ack.seq);
          if (ack.seq <= this.board.seq && !this.isConfirmedLater(ack.opId)) {
            this.board = dropPending(this.board, ack.opId);
            this.settle(ack.opId, ack.seq);
          }
        }
        this.sendPending();
      },
      (err: unknown) => {
        this.sending = false;
        const code = err instanceof TRPCClientError ? (err.data as { code?: string } | undefined)?.code : undefined;
        if (code && FINAL_CODES.has(code) && ops.length > 1 && code === 'BAD_REQUEST') {
          // A push is all or nothing: find the op that does not fit by sending them one by one.
          this.singly = ops.length;
          this.sendPending();
          return;
        }
        if (code && FINAL_CODES.has(code)) {
          if (this.singly > 0) this.singly--;
          for (const op of ops) {
            this.board = dropPending(this.board, op.opId);
            this.waiters.get(op.opId)?.reject(err as Error);
            this.waiters.delete(op.opId);
            this.listener.error?.(err as Error, op);
          }
          this.listener.change?.(this);
          this.sendPending();
          return;
        }
        // Unknown outcome (connection dropped): re-send the same op ids; the server de-duplicates.
        this.retryTimer = setTimeout(() => this.sendPending(), backoffMs(this.attempt++));
      },
    );
  }

  /** An ack above our seq: the frame with the op is still on its way and will confirm it. */
  private isConfirmedLater(opId: string): boolean {
    return (this.acked.get(opId) ?? 0) > this.board.seq;
  }

  private setStatus(status: SessionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.listener.change?.(this);
  }
}
