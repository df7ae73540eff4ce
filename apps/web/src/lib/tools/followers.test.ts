import { describe, expect, it } from 'vitest';
import { followUpdates, type Arrow, type Element } from '@inkboard/protocol';
import { movePatches } from './followers.js';

const common = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const a: Element = { ...common, id: 'a', type: 'rectangle', x: 0, y: 0, width: 100, height: 100, fillColor: 'transparent' };
const b: Element = { ...common, id: 'b', type: 'ellipse', x: 300, y: 0, width: 100, height: 100, fillColor: 'transparent' };
// From the middle of a to the middle of b, both ends bound.
const arrow: Arrow = {
  ...common,
  id: 'arrow',
  type: 'arrow',
  x: 50,
  y: 50,
  points: [[0, 0], [300, 0]],
  startBinding: { elementId: 'a', fixedPoint: [0.5, 0.5] },
  endBinding: { elementId: 'b', fixedPoint: [0.5, 0.5] },
};
const board = new Map<string, Element>([a, b, arrow].map((el) => [el.id, el]));

describe('moving a selection with bound arrows', () => {
  it('moves shapes by x, y; their bound arrow ends follow through followUpdates', () => {
    const updates = followUpdates(board, movePatches(board, [a], 10, 20));
    expect(updates).toEqual([
      { id: 'a', patch: { x: 10, y: 20 } },
      { id: 'arrow', patch: { points: [[10, 20], [300, 0]] } },
    ]);
  });

  it('an arrow moved without its shapes lets go of them and moves whole', () => {
    const updates = followUpdates(board, movePatches(board, [arrow], 0, 200));
    expect(updates).toEqual([{ id: 'arrow', patch: { x: 50, y: 250, startBinding: null, endBinding: null } }]);
  });

  it('an arrow moved with one of its shapes stays bound to that one only', () => {
    const [, moved] = movePatches(board, [a, arrow], 5, 5);
    expect(moved).toEqual({ id: 'arrow', patch: { x: 55, y: 55, endBinding: null } });
  });

  it('a free end takes the place it is drawn at (its shape moved by someone else since)', () => {
    const shifted = new Map(board).set('b', { ...b, x: 400 });
    const [moved] = movePatches(shifted, [arrow], 0, 0);
    expect(moved!.patch).toMatchObject({ points: [[0, 0], [400, 0]], startBinding: null, endBinding: null });
  });
});
