import { applyOp, emptyHistory, record, type Element, type Elements, type History, type Op, type Rectangle } from '@inkboard/protocol';
import { describe, expect, it } from 'vitest';
import { groupedStep, markGroup, type UndoGroups } from './undoGroups.js';

const rect = (id: string, extra: Partial<Rectangle> = {}): Rectangle => ({
  type: 'rectangle', id, z: 'a0', x: 0, y: 0, width: 10, height: 10, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, fillColor: 'transparent', ...extra,
});
const board = (...els: Element[]): Elements => new Map(els.map((e) => [e.id, e]));
const ids = (els: Elements) => [...els.keys()].sort();

function apply(els: Elements, op: Op): Elements {
  const r = applyOp(els, op);
  if (!r.ok) throw new Error(r.error);
  return r.elements;
}

/** One person's board and undo history, with grouped steps (what BoardSync does). */
class Person {
  history: History = emptyHistory;
  readonly groups: UndoGroups = new WeakMap();
  private n = 0;
  readonly newId = () => `op${++this.n}`;
  constructor(public elements: Elements) {}
  commit(op: Op): void {
    this.history = record(this.history, this.elements, op, this.newId());
    this.elements = apply(this.elements, op);
  }
  commitAll(ops: Op[]): void {
    const before = this.history;
    for (const op of ops) this.commit(op);
    markGroup(before, this.history, this.groups);
  }
  step(direction: 'undo' | 'redo'): Op[] {
    const s = groupedStep(this.history, this.elements, this.newId, direction, this.groups);
    this.history = s.history;
    for (const op of s.ops) this.elements = apply(this.elements, op);
    return s.ops;
  }
}

describe('grouped undo', () => {
  // A restore: b was deleted since, c was added since, a was moved since.
  const restore: Op[] = [
    { type: 'delete', opId: 'r1', ids: ['c'] },
    { type: 'update', opId: 'r2', updates: [{ id: 'a', patch: { x: 0 } }] },
    { type: 'add', opId: 'r3', elements: [rect('b')] },
  ];

  it('undoes and redoes the ops of one action as one step, after and before single steps', () => {
    const p = new Person(board(rect('a', { x: 50 })));
    p.commit({ type: 'add', opId: 'o1', elements: [rect('c')] });
    p.commitAll(restore);
    p.commit({ type: 'add', opId: 'o2', elements: [rect('d')] });
    expect(ids(p.elements)).toEqual(['a', 'b', 'd']);

    expect(p.step('undo')).toHaveLength(1); // d
    expect(ids(p.elements)).toEqual(['a', 'b']);
    expect(p.step('undo')).toHaveLength(3); // the whole restore
    expect(ids(p.elements)).toEqual(['a', 'c']);
    expect(p.elements.get('a')!.x).toBe(50);
    expect(p.step('undo')).toHaveLength(1); // c
    expect(ids(p.elements)).toEqual(['a']);
    expect(p.step('undo')).toEqual([]);

    expect(p.step('redo')).toHaveLength(1);
    expect(p.step('redo')).toHaveLength(3);
    expect(ids(p.elements)).toEqual(['a', 'b']);
    expect(p.elements.get('a')!.x).toBe(0);
    // And undone again as one step after the redo.
    expect(p.step('undo')).toHaveLength(3);
    expect(ids(p.elements)).toEqual(['a', 'c']);
  });

  it('skips the parts a teammate made moot, and never runs on into older entries', () => {
    const p = new Person(board(rect('a', { x: 50 })));
    p.commit({ type: 'add', opId: 'o1', elements: [rect('c')] });
    p.commitAll(restore);
    // Someone else deletes b (the restored one) and moves a: the restore's undo has only c left to bring back.
    p.elements = apply(apply(p.elements, { type: 'delete', opId: 'x1', ids: ['b'] }), { type: 'update', opId: 'x2', updates: [{ id: 'a', patch: { x: 7 } }] });
    expect(p.step('undo')).toHaveLength(1);
    expect(ids(p.elements)).toEqual(['a', 'c']);
    expect(p.elements.get('a')!.x).toBe(7);
    // The next undo is the older add of c.
    expect(p.step('undo')).toHaveLength(1);
    expect(ids(p.elements)).toEqual(['a']);
  });

  it('passes over a group with no effect left to the entry below it', () => {
    const p = new Person(board());
    p.commit({ type: 'add', opId: 'o1', elements: [rect('e')] });
    p.commitAll([
      { type: 'add', opId: 'r1', elements: [rect('f')] },
      { type: 'add', opId: 'r2', elements: [rect('g')] },
    ]);
    p.elements = apply(p.elements, { type: 'delete', opId: 'x', ids: ['f', 'g'] });
    expect(p.step('undo')).toHaveLength(1);
    expect(ids(p.elements)).toEqual([]);
  });

  it('marks nothing for a single op', () => {
    const p = new Person(board());
    p.commitAll([{ type: 'add', opId: 'o1', elements: [rect('e')] }]);
    expect(p.groups.get(p.history.undo[0]!)).toBeUndefined();
  });
});
