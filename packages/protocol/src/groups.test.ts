import { describe, expect, it } from 'vitest';
import { applyOp } from './applyOp.js';
import type { Element } from './elements/index.js';
import { expandToGroups, groupPatches, selectionForClick, ungroupPatches } from './groups.js';
import { LIMITS } from './primitives.js';

const style = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const r = (id: string, groupIds?: string[]): Element => ({ type: 'rectangle', id, x: 0, y: 0, width: 10, height: 10, ...style, fillColor: 'transparent', ...(groupIds ? { groupIds } : {}) });
const boardOf = (...els: Element[]) => new Map(els.map((el) => [el.id, el]));

describe('groups', () => {
  const board = boardOf(r('a', ['inner', 'outer']), r('b', ['inner', 'outer']), r('c', ['outer']), r('d'), {
    type: 'text', id: 'lab', x: 0, y: 0, ...style, text: 'x', fontSize: 10, containerId: 'c',
  });

  it('a click selects the outermost group (with labels); inside a group, the next group in', () => {
    expect(selectionForClick(board, 'a').sort()).toEqual(['a', 'b', 'c', 'lab']);
    expect(selectionForClick(board, 'a', 'outer').sort()).toEqual(['a', 'b']);
    expect(selectionForClick(board, 'a', 'inner')).toEqual(['a']);
    expect(selectionForClick(board, 'd')).toEqual(['d']);
    expect(selectionForClick(board, 'missing')).toEqual([]);
  });

  it('expandToGroups adds whole outermost groups', () => {
    expect(expandToGroups(board, ['b', 'd']).sort()).toEqual(['a', 'b', 'c', 'd', 'lab']);
  });

  it('group appends a new outermost group; ungroup removes it; both are valid ops', () => {
    const patches = groupPatches(board, ['a', 'd'], 'g2')!;
    expect(patches.find((p) => p.id === 'a')!.patch).toEqual({ groupIds: ['inner', 'outer', 'g2'] });
    expect(patches.find((p) => p.id === 'd')!.patch).toEqual({ groupIds: ['g2'] });
    const grouped = applyOp(board, { type: 'update', opId: 'o', updates: patches });
    expect(grouped.ok).toBe(true);
    if (!grouped.ok) return;
    expect(selectionForClick(grouped.elements, 'd').sort()).toEqual(['a', 'b', 'c', 'd', 'lab']);
    const un = ungroupPatches(grouped.elements, ['d']);
    const back = applyOp(grouped.elements, { type: 'update', opId: 'p', updates: un });
    expect(back.ok).toBe(true);
    if (back.ok) for (const id of ['a', 'b', 'c', 'd']) expect(back.elements.get(id)!.groupIds ?? []).toEqual(board.get(id)!.groupIds ?? []);
  });

  it('refuses to group one element, or past the nesting limit', () => {
    expect(groupPatches(board, ['d'], 'g')).toBeNull();
    const deep = boardOf(r('x', Array.from({ length: LIMITS.groupDepth }, (_, i) => `g${i}`)), r('y'));
    expect(groupPatches(deep, ['x', 'y'], 'more')).toBeNull();
  });
});
