import { sortElements, zRangeAbove, type Rectangle, type Text } from '@inkboard/protocol';
import { describe, expect, it } from 'vitest';
import { arrange, arrangedOrder, longestIncreasing, nudgePatches, withLabels, type ArrangeMove } from './arrange.js';

const rect = (id: string, z: string, extra: Partial<Rectangle> = {}): Rectangle => ({
  type: 'rectangle', id, z, x: 0, y: 0, width: 10, height: 10, strokeColor: '#000000', strokeWidth: 2, opacity: 1, fillColor: 'transparent', ...extra,
});

/** A board of `ids` stacked in that order. */
function board(ids: string[]): Rectangle[] {
  const zs = zRangeAbove(null, ids.length);
  return ids.map((id, i) => rect(id, zs[i]!));
}

/** The paint order after applying the z updates of `arrange`. */
function after(els: Rectangle[], selected: string[], move: ArrangeMove): string[] {
  const updates = new Map(arrange(els, new Set(selected), move).map((u) => [u.id, u.z]));
  return sortElements(els.map((el) => ({ ...el, z: updates.get(el.id) ?? el.z }))).map((el) => el.id);
}

describe('arrangedOrder', () => {
  const order = ['a', 'b', 'c', 'd', 'e'];
  it('brings to the front and sends to the back keeping the selection’s own order', () => {
    expect(arrangedOrder(order, new Set(['d', 'b']), 'front')).toEqual(['a', 'c', 'e', 'b', 'd']);
    expect(arrangedOrder(order, new Set(['d', 'b']), 'back')).toEqual(['b', 'd', 'a', 'c', 'e']);
  });
  it('steps each run of selected elements past one neighbour', () => {
    expect(arrangedOrder(order, new Set(['b']), 'forward')).toEqual(['a', 'c', 'b', 'd', 'e']);
    expect(arrangedOrder(order, new Set(['b', 'c']), 'forward')).toEqual(['a', 'd', 'b', 'c', 'e']);
    expect(arrangedOrder(order, new Set(['a', 'c']), 'forward')).toEqual(['b', 'a', 'd', 'c', 'e']);
    expect(arrangedOrder(order, new Set(['e']), 'forward')).toEqual(order);
    expect(arrangedOrder(order, new Set(['d']), 'backward')).toEqual(['a', 'b', 'd', 'c', 'e']);
    expect(arrangedOrder(order, new Set(['a']), 'backward')).toEqual(order);
  });
});

describe('arrange', () => {
  it('gives the new order through z values, changing only what must move', () => {
    const els = board(['a', 'b', 'c', 'd', 'e']);
    expect(after(els, ['b'], 'front')).toEqual(['a', 'c', 'd', 'e', 'b']);
    expect(arrange(els, new Set(['b']), 'front')).toHaveLength(1);
    expect(after(els, ['d', 'e'], 'back')).toEqual(['d', 'e', 'a', 'b', 'c']);
    expect(arrange(els, new Set(['d', 'e']), 'back')).toHaveLength(2);
    expect(after(els, ['b', 'c'], 'forward')).toEqual(['a', 'd', 'b', 'c', 'e']);
    expect(after(els, ['c'], 'backward')).toEqual(['a', 'c', 'b', 'd', 'e']);
  });
  it('changes nothing when the order would stay the same', () => {
    const els = board(['a', 'b', 'c']);
    expect(arrange(els, new Set(['c']), 'front')).toEqual([]);
    expect(arrange(els, new Set(['a']), 'back')).toEqual([]);
  });
  it('copes with equal z values (concurrent adds) and random selections', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(rand() * 12);
      const zs = zRangeAbove(null, 4);
      // Few distinct z values: many ties, ordered by id.
      const els = sortElements(Array.from({ length: n }, (_, i) => rect(`e${i}`, zs[Math.floor(rand() * 4)]!)));
      const selected = els.filter(() => rand() < 0.4).map((el) => el.id);
      const moves: ArrangeMove[] = ['front', 'back', 'forward', 'backward'];
      const move = moves[Math.floor(rand() * 4)]!;
      const expected = arrangedOrder(els.map((el) => el.id), new Set(selected), move);
      expect(after(els, selected, move), `seed round ${round}`).toEqual(expected);
    }
  });
});

describe('longestIncreasing', () => {
  it('finds one longest strictly increasing run', () => {
    const seq = [3, 1, 4, 1, 5, 9, 2, 6];
    const picked = longestIncreasing(seq).map((i) => seq[i]!);
    expect(picked).toHaveLength(4);
    for (let i = 1; i < picked.length; i++) expect(picked[i]!).toBeGreaterThan(picked[i - 1]!);
    expect(longestIncreasing([])).toEqual([]);
  });
});

describe('nudgePatches', () => {
  it('moves by the step', () => {
    expect(nudgePatches([rect('a', 'a0', { x: 1.5, y: 2 })], 10, -1)).toEqual([{ id: 'a', patch: { x: 11.5, y: 1 } }]);
  });
});

describe('withLabels', () => {
  it('takes a selected container’s label along, in paint order', () => {
    const [a, b] = board(['a', 'b']);
    const label: Text = { type: 'text', id: 'l', z: 'a9', x: 0, y: 0, strokeColor: '#000000', strokeWidth: 2, opacity: 1, text: 'Hi', fontSize: 20, containerId: 'a' };
    expect(withLabels([a!, b!, label], new Set(['a'])).map((e) => e.id)).toEqual(['a', 'l']);
    expect(withLabels([a!, b!, label], new Set(['b'])).map((e) => e.id)).toEqual(['b']);
  });
});
