import { applyOpInPlace, type Elements } from './applyOp.js';
import type { Element } from './elements/index.js';
import type { Frame } from './events.js';
import type { Op } from './ops.js';

/**
 * A client's copy of a board: what the server confirmed up to `seq`, plus the client's own ops not
 * yet confirmed. Pure: every function returns a new state.
 */
export interface ClientBoard {
  seq: number;
  confirmed: ReadonlyMap<string, Element>;
  /** Sent or queued, in the order they were made; re-sent with the same op id until confirmed. */
  pending: readonly Op[];
}

export const emptyClientBoard: ClientBoard = { seq: 0, confirmed: new Map(), pending: [] };

export interface FrameResult {
  board: ClientBoard;
  /** The frame skipped over seqs this client never saw: resubscribe without lastEventId. */
  gap: boolean;
  /** Ops (by op id) that the frame confirmed, with their seqs. */
  confirmedOps: { opId: string; seq: number }[];
}

/** Folds a server frame into the client board: snapshots replace, ops at or below `seq` are duplicates. */
export function receiveFrame(board: ClientBoard, frame: Frame): FrameResult {
  let confirmed: Map<string, Element> | null = null;
  let seq = board.seq;
  const confirmedOps: { opId: string; seq: number }[] = [];
  for (const event of frame.events) {
    if (event.type === 'snapshot') {
      confirmed = new Map(event.elements.map((e) => [e.id, e]));
      seq = event.seq;
    } else if (event.type === 'op') {
      if (event.seq <= seq) continue;
      if (event.seq !== seq + 1) return { board, gap: true, confirmedOps: [] };
      confirmed ??= new Map(board.confirmed);
      if (applyOpInPlace(confirmed, event.op) !== null) return { board, gap: true, confirmedOps: [] };
      seq = event.seq;
      confirmedOps.push({ opId: event.op.opId, seq: event.seq });
    }
  }
  if (frame.seq > seq) return { board, gap: true, confirmedOps: [] };
  const done = new Set(confirmedOps.map((c) => c.opId));
  const pending = done.size ? board.pending.filter((op) => !done.has(op.opId)) : board.pending;
  return { board: { seq, confirmed: confirmed ?? board.confirmed, pending }, gap: false, confirmedOps };
}

/** Queues an op of this client (optimistic). */
export function addPending(board: ClientBoard, op: Op): ClientBoard {
  return { ...board, pending: [...board.pending, op] };
}

/** Drops an op the server refused. */
export function dropPending(board: ClientBoard, opId: string): ClientBoard {
  return { ...board, pending: board.pending.filter((op) => op.opId !== opId) };
}

/** Confirmed state with the pending ops on top; pending ops that no longer apply are skipped. */
export function visibleElements(board: ClientBoard): Elements {
  if (!board.pending.length) return board.confirmed;
  const view = new Map(board.confirmed);
  for (const op of board.pending) applyOpInPlace(view, op);
  return view;
}
