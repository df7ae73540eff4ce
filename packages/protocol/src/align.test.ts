import { describe, expect, it } from 'vitest';
import { alignPatches, distributePatches } from './align.js';
import { applyOp } from './applyOp.js';
import { duplicateElements } from './duplicate.js';
import type { Element } from './elements/index.js';
import { elementBounds } from './geometry.js';

const style = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const r = (id: string, x: number, y: number, w: number, h: number, extra: object = {}): Element =>
  ({ type: 'rectangle', id, x, y, width: w, height: h, ...style, fillColor: 'transparent', ...extra }) as Element;
const boardOf = (...els: Element[]) => new Map(els.map((el) => [el.id, el]));
const run = (els: Element[], updates: { id: string; patch: object }[]) => {
  const res = applyOp(boardOf(...els), { type: 'update', opId: 'o', updates: updates as never });
  if (!res.ok) throw new Error(res.error);
  return res.elements;
};

describe('align and distribute', () => {
  const els = [r('a', 0, 0, 10, 10), r('b', 50, 30, 20, 20), r('c', 200, 100, 40, 10)];

  it('aligns left, right, centre, top, middle, bottom', () => {
    const left = run(els, alignPatches(els, 'left'));
    for (const id of ['a', 'b', 'c']) expect(elementBounds(left.get(id)!).minX).toBe(-1);
    const right = run(els, alignPatches(els, 'right'));
    for (const id of ['a', 'b', 'c']) expect(elementBounds(right.get(id)!).maxX).toBe(241);
    const middle = run(els, alignPatches(els, 'middle'));
    for (const id of ['a', 'b', 'c']) {
      const b = elementBounds(middle.get(id)!);
      expect((b.minY + b.maxY) / 2).toBe(55);
    }
    expect(alignPatches([els[0]!], 'left')).toEqual([]);
  });

  it('a group aligns as one unit and a label rides with its container', () => {
    const grouped = [r('a', 0, 0, 10, 10, { groupIds: ['g'] }), r('b', 50, 30, 20, 20, { groupIds: ['g'] }), r('c', 200, 100, 40, 10)];
    const label: Element = { type: 'text', id: 't', x: 205, y: 100, ...style, text: 'x', fontSize: 8, containerId: 'c' };
    const after = run([...grouped, label], alignPatches([...grouped, label], 'top'));
    expect(after.get('a')!.y).toBe(0);
    expect(after.get('b')!.y).toBe(30); // kept its place in the group
    expect(after.get('c')!.y).toBe(0);
    expect(after.get('t')!.y).toBe(0);
  });

  it('distributes with equal gaps, the ends staying', () => {
    const row = [r('a', 0, 0, 10, 10), r('b', 15, 0, 30, 10), r('c', 100, 0, 10, 10), r('d', 300, 0, 20, 10)];
    const after = run(row, distributePatches(row, 'horizontal'));
    const boxes = ['a', 'b', 'c', 'd'].map((id) => elementBounds(after.get(id)!));
    const gaps = boxes.slice(1).map((b, i) => b.minX - boxes[i]!.maxX);
    for (const g of gaps) expect(g).toBeCloseTo(gaps[0]!, 1);
    expect(after.get('a')!.x).toBe(0);
    expect(after.get('d')!.x).toBe(300);
    expect(distributePatches(row.slice(0, 2), 'vertical')).toEqual([]);
  });
});

describe('duplicateElements', () => {
  it('copies with new ids above the board, groups and labels remapped, bindings kept or dropped', () => {
    let n = 0;
    const newId = () => `n${n++}`;
    const box = r('box', 0, 0, 100, 50, { groupIds: ['g'], z: 'a1' });
    const label: Element = { type: 'text', id: 'lab', x: 10, y: 10, ...style, z: 'a2', text: 'hi', fontSize: 10, containerId: 'box', groupIds: ['g'] };
    const lone: Element = { type: 'text', id: 'lone', x: 10, y: 10, ...style, z: 'a3', text: 'hi', fontSize: 10, containerId: 'box' };
    const arrow: Element = { type: 'arrow', id: 'arr', x: 0, y: 0, ...style, z: 'a4', points: [[0, 0], [1, 1]], startBinding: { elementId: 'box', fixedPoint: [1, 1] }, endBinding: { elementId: 'gone', fixedPoint: [0, 0] } };
    const board = boardOf(box, label, lone, arrow);
    const copies = duplicateElements([box, label], board, { newId });
    expect(copies.map((c) => c.id)).toEqual(['n0', 'n1']);
    expect(copies[0]).toMatchObject({ x: 10, y: 10, groupIds: ['n2'] });
    expect(copies[1]).toMatchObject({ x: 20, y: 20, containerId: 'n0', groupIds: ['n2'] });
    expect(copies.every((c) => c.z > 'a4')).toBe(true);
    const [loneCopy, arrowCopy] = duplicateElements([lone, arrow], board, { newId, offset: [0, 0] });
    expect(loneCopy).toMatchObject({ containerId: null });
    expect(arrowCopy).toMatchObject({ startBinding: { elementId: 'box' }, endBinding: null });
    expect(applyOp(board, { type: 'add', opId: 'o', elements: copies }).ok).toBe(true);
  });
});
