import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyOp, applyOps, type Elements } from './applyOp.js';
import { bindingPatches, bindingPoint, findBindTarget, fixedPointOf, followUpdates, resolvedArrowPoints } from './bindings.js';
import type { Arrow, Element, Text } from './elements/index.js';
import { elementCenter } from './geometry.js';
import { moveElements, resizeElements, rotateElements } from './transform.js';

const SEED = 2024;
const style = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const box: Element = { type: 'rectangle', id: 'box', x: 100, y: 100, width: 100, height: 50, ...style, fillColor: 'transparent' };
const other: Element = { type: 'ellipse', id: 'oval', x: 400, y: 100, width: 80, height: 80, ...style, z: 'a1', fillColor: '#ffc9c9' };
const arrow: Arrow = {
  type: 'arrow', id: 'arr', x: 0, y: 0, ...style, z: 'a2', points: [[200, 125], [400, 140]],
  startBinding: { elementId: 'box', fixedPoint: [1, 0.5] }, endBinding: { elementId: 'oval', fixedPoint: [0, 0.5] },
};
const label: Text = { type: 'text', id: 'lab', x: 0, y: 0, ...style, z: 'a3', text: 'Hello', fontSize: 20, containerId: 'box' };
const boardOf = (...els: Element[]) => new Map(els.map((el) => [el.id, el]));
const apply = (board: Elements, updates: { id: string; patch: object }[]) => {
  const r = applyOp(board, { type: 'update', opId: 'o', updates: updates as never });
  if (!r.ok) throw new Error(r.error);
  return r.elements;
};

describe('binding points', () => {
  it('map a normalized point of the box to the world and back, also on a turned shape', () => {
    expect(bindingPoint(box, [1, 0.5])).toEqual([200, 125]);
    expect(fixedPointOf(box, 150, 100)).toEqual([0.5, 0]);
    const turned = { ...box, angle: Math.PI / 2 };
    const [x, y] = bindingPoint(turned, [1, 0.5]);
    expect(x).toBeCloseTo(150);
    expect(y).toBeCloseTo(175);
    const back = fixedPointOf(turned, x, y);
    expect(back[0]).toBeCloseTo(1);
    expect(back[1]).toBeCloseTo(0.5);
  });

  it('findBindTarget picks the topmost bindable shape under the point, skipping locked and excluded ones', () => {
    const els = [box, other, arrow];
    expect(findBindTarget(els, 150, 120)).toEqual({ elementId: 'box', fixedPoint: [0.5, 0.4] });
    expect(findBindTarget(els, 300, 300)).toBeNull();
    expect(findBindTarget(els, 203, 120, { tolerance: 5 })?.elementId).toBe('box');
    expect(findBindTarget(els, 150, 120, { exclude: new Set(['box']) })).toBeNull();
    expect(findBindTarget([{ ...box, locked: true }], 150, 120)).toBeNull();
  });
});

describe('bound arrows and labels follow', () => {
  it('a moved shape takes the bound arrow end and its label along, in the same op', () => {
    const board = boardOf(box, other, arrow, label);
    const updates = followUpdates(board, moveElements([box], 50, 20));
    expect(updates.map((u) => u.id).sort()).toEqual(['arr', 'box', 'lab']);
    const after = apply(board, updates);
    const a = after.get('arr') as Arrow;
    expect(a.points[0]).toEqual([250, 145]);
    expect(a.points[1]).toEqual([400, 140]);
    const l = after.get('lab') as Text;
    const [cx, cy] = elementCenter(after.get('box')!);
    expect(l.x + 'Hello'.length * 20 * 0.6 / 2).toBeCloseTo(cx);
    expect(l.y + 20 * 1.25 / 2).toBeCloseTo(cy);
  });

  it('resizing and turning the shape keep the end on the same normalized point', () => {
    const board = boardOf(box, other, arrow, label);
    let after = apply(board, followUpdates(board, resizeElements([box], 'se', [300, 200])));
    expect((after.get('arr') as Arrow).points[0]).toEqual(bindingPoint(after.get('box')!, [1, 0.5]));
    after = apply(after, followUpdates(after, rotateElements([after.get('box')!], Math.PI / 2)));
    const [x, y] = bindingPoint(after.get('box')!, [1, 0.5]);
    const p = (after.get('arr') as Arrow).points[0]!;
    expect(p[0]).toBeCloseTo(x, 1);
    expect(p[1]).toBeCloseTo(y, 1);
    expect(after.get('lab')!.angle).toBeCloseTo(Math.PI / 2);
  });

  it('an end whose shape is gone stays where it is', () => {
    const board = boardOf(other, arrow);
    expect(resolvedArrowPoints(arrow, (id) => board.get(id))[0]).toEqual([200, 125]);
    expect(bindingPatches(board, ['box'])).toEqual([]);
  });

  it('one person moves the shape while another draws an arrow to it: the end follows, whatever the order', () => {
    const start = boardOf(box, other);
    // Bob binds to the box as he saw it; Alice moves the box at the same time.
    const bobArrow: Arrow = { type: 'arrow', id: 'bob', x: 0, y: 0, ...style, z: 'a5', points: [[0, 0], [150, 125]], endBinding: { elementId: 'box', fixedPoint: [0.5, 0.5] } };
    const addArrow = { type: 'add' as const, opId: 'b1', elements: [bobArrow] };
    const moveBox = { type: 'update' as const, opId: 'a1', updates: followUpdates(start, moveElements([box], 300, 0)) };
    for (const order of [[addArrow, moveBox], [moveBox, addArrow]]) {
      const r = applyOps(start, order);
      if (!r.ok) throw new Error(r.error);
      const shown = resolvedArrowPoints(r.elements.get('bob') as Arrow, (id) => r.elements.get(id));
      expect(shown[1]).toEqual([450, 125]); // drawn at the box's centre where the box now is
      // The next change of the box (by anyone) stores it too.
      const fixed = apply(r.elements, bindingPatches(r.elements, ['box']));
      expect((fixed.get('bob') as Arrow).points[1]).toEqual([450, 125]);
    }
  });

  it('property: after any move, resize or turn of the shape with followUpdates, the bound end is on its point', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('move', 'resize', 'rotate'), fc.integer({ min: -300, max: 300 }), fc.integer({ min: -300, max: 300 }),
        fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }),
        (kind, dx, dy, fx, fy) => {
          const bound: Arrow = { ...arrow, endBinding: { elementId: 'box', fixedPoint: [fx, fy] }, startBinding: null };
          const board = boardOf(box, bound);
          const updates = kind === 'move' ? moveElements([box], dx, dy) : kind === 'resize' ? resizeElements([box], 'se', [200 + dx, 150 + dy]) : rotateElements([box], dx / 100);
          const after = apply(board, followUpdates(board, updates));
          const [x, y] = bindingPoint(after.get('box')!, bound.endBinding!.fixedPoint);
          const p = (after.get('arr') as Arrow).points[1]!;
          expect(Math.abs(p[0] - x)).toBeLessThan(0.02);
          expect(Math.abs(p[1] - y)).toBeLessThan(0.02);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});
