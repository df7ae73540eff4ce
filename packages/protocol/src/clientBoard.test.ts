import { describe, expect, it } from 'vitest';
import { addPending, dropPending, emptyClientBoard, receiveFrame, visibleElements, type ClientBoard } from './clientBoard.js';
import type { Element, Rectangle } from './elements/index.js';
import type { BoardEvent, Frame } from './events.js';
import type { Op } from './ops.js';

const rect = (id: string, extra: Partial<Rectangle> = {}): Rectangle => ({
  type: 'rectangle', id, x: 0, y: 0, z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1,
  width: 10, height: 10, fillColor: 'transparent', ...extra,
});
const add = (opId: string, ...elements: Element[]): Op => ({ type: 'add', opId, elements });
const move = (opId: string, id: string, x: number): Op => ({ type: 'update', opId, updates: [{ id, patch: { x } }] });
const del = (opId: string, ...ids: string[]): Op => ({ type: 'delete', opId, ids });

const author = { id: 'u1', name: 'Alice' };
const opEvent = (seq: number, op: Op): BoardEvent => ({ type: 'op', seq, author, op });
const snapshot = (seq: number, ...elements: Element[]): BoardEvent => ({ type: 'snapshot', seq, elements });
/** A frame whose seq is the last op's (or the given one). */
const frame = (events: BoardEvent[], seq?: number): Frame => ({
  seq: seq ?? events.reduce((s, e) => (e.type === 'op' || e.type === 'snapshot' ? e.seq : s), 0),
  events,
});

function receive(board: ClientBoard, f: Frame): ClientBoard {
  const result = receiveFrame(board, f);
  expect(result.gap).toBe(false);
  return result.board;
}
const ids = (els: ReadonlyMap<string, Element>) => [...els.keys()].sort();

describe('receiveFrame', () => {
  it('applies ops in order and advances seq', () => {
    const result = receiveFrame(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1'))), opEvent(2, move('o2', 'r1', 5)), opEvent(3, add('o3', rect('r2')))]));
    expect(result.gap).toBe(false);
    expect(result.board.seq).toBe(3);
    expect(result.board.confirmed.get('r1')?.x).toBe(5);
    expect(ids(result.board.confirmed)).toEqual(['r1', 'r2']);
    expect(result.confirmedOps).toEqual([{ opId: 'o1', seq: 1 }, { opId: 'o2', seq: 2 }, { opId: 'o3', seq: 3 }]);
  });

  it('order matters: an update after a delete of the same element is dropped', () => {
    const b = receive(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1'))), opEvent(2, del('o2', 'r1')), opEvent(3, move('o3', 'r1', 9))]));
    expect(b.confirmed.size).toBe(0);
    expect(b.seq).toBe(3);
  });

  it('accumulates across frames', () => {
    let b = receive(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1')))]));
    b = receive(b, frame([opEvent(2, move('o2', 'r1', 7))]));
    expect(b.seq).toBe(2);
    expect(b.confirmed.get('r1')?.x).toBe(7);
  });

  it('ignores ops at or below the current seq (duplicates)', () => {
    const b1 = receive(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1'))), opEvent(2, move('o2', 'r1', 5))]));
    const again = receiveFrame(b1, frame([opEvent(1, add('o1', rect('r1'))), opEvent(2, move('o2', 'r1', 5))]));
    expect(again.gap).toBe(false);
    expect(again.confirmedOps).toEqual([]);
    expect(again.board.seq).toBe(2);
    expect(again.board.confirmed).toBe(b1.confirmed);
    // A frame overlapping what we have applies only the new part.
    const overlap = receive(b1, frame([opEvent(2, move('o2', 'r1', 5)), opEvent(3, move('o3', 'r1', 8))]));
    expect(overlap.seq).toBe(3);
    expect(overlap.confirmed.get('r1')?.x).toBe(8);
  });

  it('reports a gap when an op seq is skipped and leaves the board unchanged', () => {
    const b1 = receive(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1')))]));
    const result = receiveFrame(b1, frame([opEvent(3, move('o3', 'r1', 9))]));
    expect(result.gap).toBe(true);
    expect(result.board).toBe(b1);
    expect(result.confirmedOps).toEqual([]);
  });

  it('reports a gap when a skip follows valid ops in the same frame, without applying any of them', () => {
    const result = receiveFrame(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1'))), opEvent(3, add('o3', rect('r3')))]));
    expect(result.gap).toBe(true);
    expect(result.board).toBe(emptyClientBoard);
  });

  it('reports a gap when the frame seq is beyond its last op', () => {
    const result = receiveFrame(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1')))], 2));
    expect(result.gap).toBe(true);
    expect(result.board).toBe(emptyClientBoard);
  });

  it('treats an op that does not apply as a gap (client is out of sync)', () => {
    const b1 = receive(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1')))]));
    const result = receiveFrame(b1, frame([opEvent(2, add('o2', rect('r1')))]));
    expect(result.gap).toBe(true);
    expect(result.board).toBe(b1);
  });

  it('a frame without ops at the current seq changes nothing', () => {
    const b1 = receive(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1')))]));
    const result = receiveFrame(b1, { seq: 1, events: [{ type: 'cursor', clientId: 'c1', x: 1, y: 2 }, { type: 'leave', clientId: 'c2' }] });
    expect(result.gap).toBe(false);
    expect(result.board).toEqual(b1);
    expect(result.board.confirmed).toBe(b1.confirmed);
  });

  it('a snapshot replaces the state and seq; later ops in the frame apply on top', () => {
    let b = receive(emptyClientBoard, frame([opEvent(1, add('o1', rect('old1'), rect('old2')))]));
    b = receive(b, frame([snapshot(10, rect('s1'), rect('s2', { x: 3 })), opEvent(10, move('dup', 's1', 99)), opEvent(11, move('o11', 's2', 4))]));
    expect(b.seq).toBe(11);
    expect(ids(b.confirmed)).toEqual(['s1', 's2']);
    expect(b.confirmed.get('s1')?.x).toBe(0);
    expect(b.confirmed.get('s2')?.x).toBe(4);
  });

  it('a snapshot can move seq backwards (board reset) and may be empty', () => {
    const b1 = receive(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1'))), opEvent(2, move('o2', 'r1', 1))]));
    const b2 = receive(b1, frame([snapshot(0)]));
    expect(b2.seq).toBe(0);
    expect(b2.confirmed.size).toBe(0);
  });

  it('does not mutate the previous board', () => {
    const b1 = receive(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1')))]));
    const before = new Map(b1.confirmed);
    receive(b1, frame([opEvent(2, move('o2', 'r1', 50)), opEvent(3, del('o3', 'r1'))]));
    expect(b1.confirmed).toEqual(before);
    expect(b1.seq).toBe(1);
    expect(emptyClientBoard.confirmed.size).toBe(0);
  });
});

describe('pending ops', () => {
  it('addPending queues in order and dropPending removes by op id', () => {
    let b = addPending(emptyClientBoard, add('p1', rect('r1')));
    b = addPending(b, move('p2', 'r1', 5));
    b = addPending(b, move('p3', 'r1', 6));
    expect(b.pending.map((op) => op.opId)).toEqual(['p1', 'p2', 'p3']);
    expect(dropPending(b, 'p2').pending.map((op) => op.opId)).toEqual(['p1', 'p3']);
    expect(dropPending(b, 'nope').pending).toHaveLength(3);
    expect(emptyClientBoard.pending).toHaveLength(0);
  });

  it('are dropped once the server confirms them, others stay', () => {
    let b = addPending(emptyClientBoard, add('p1', rect('mine')));
    b = addPending(b, move('p2', 'mine', 5));
    const result = receiveFrame(b, frame([opEvent(1, add('other', rect('theirs'))), opEvent(2, add('p1', rect('mine')))]));
    expect(result.gap).toBe(false);
    expect(result.confirmedOps).toEqual([{ opId: 'other', seq: 1 }, { opId: 'p1', seq: 2 }]);
    expect(result.board.pending.map((op) => op.opId)).toEqual(['p2']);
    expect(ids(result.board.confirmed)).toEqual(['mine', 'theirs']);
  });

  it('stay pending when the frame has a gap', () => {
    const b = addPending(emptyClientBoard, add('p1', rect('mine')));
    const result = receiveFrame(b, frame([opEvent(2, add('p1', rect('mine')))]));
    expect(result.gap).toBe(true);
    expect(result.board.pending).toHaveLength(1);
  });
});

describe('visibleElements', () => {
  it('is the confirmed map itself when nothing is pending', () => {
    const b = receive(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1')))]));
    expect(visibleElements(b)).toBe(b.confirmed);
  });

  it('overlays pending ops in order on the confirmed state without changing it', () => {
    let b = receive(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1'), rect('r2')))]));
    b = addPending(b, add('p1', rect('new')));
    b = addPending(b, move('p2', 'r1', 40));
    b = addPending(b, move('p3', 'r1', 41));
    b = addPending(b, del('p4', 'r2'));
    const view = visibleElements(b);
    expect(ids(view)).toEqual(['new', 'r1']);
    expect(view.get('r1')?.x).toBe(41);
    expect(ids(b.confirmed)).toEqual(['r1', 'r2']);
    expect(b.confirmed.get('r1')?.x).toBe(0);
  });

  it('skips pending ops that no longer apply but keeps the rest', () => {
    let b = receive(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1')))]));
    b = addPending(b, add('p1', rect('r1', { x: 500 }))); // duplicate id now
    b = addPending(b, { type: 'update', opId: 'p2', updates: [{ id: 'r1', patch: { text: 'x' } }] } as unknown as Op);
    b = addPending(b, move('p3', 'r1', 3));
    const view = visibleElements(b);
    expect(view.get('r1')).toEqual(rect('r1', { x: 3 }));
    expect(view.size).toBe(1);
  });

  it('shows a teammate change underneath a pending local change', () => {
    let b = addPending(receive(emptyClientBoard, frame([opEvent(1, add('o1', rect('r1')))])), move('p1', 'r1', 10));
    b = receive(b, frame([opEvent(2, { type: 'update', opId: 'bob', updates: [{ id: 'r1', patch: { x: 99, y: 7 } }] })]));
    expect(visibleElements(b).get('r1')).toMatchObject({ x: 10, y: 7 });
    b = receive(b, frame([opEvent(3, move('p1', 'r1', 10))]));
    expect(b.pending).toHaveLength(0);
    expect(visibleElements(b).get('r1')).toMatchObject({ x: 10, y: 7 });
  });
});
