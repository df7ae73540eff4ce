import { describe, expect, it } from 'vitest';
import { applyOpInPlace } from './applyOp.js';
import type { Element, Text } from './elements/index.js';
import type { Op } from './ops.js';
import { renderSvg } from './svg.js';
import { extraLabels, withoutExtraLabels } from './textLayout.js';
import { sortElements } from './zorder.js';

/*
 * Two people label one box at once: each client adds its own label text bound to the box (it did
 * not see the other's yet). Whatever order the server applies the two adds in, every client and
 * the export show one label: the box's first by (z, id).
 */

const style = { strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const box: Element = { type: 'rectangle', id: 'box', x: 0, y: 0, z: 'a0', ...style, width: 200, height: 100, fillColor: 'transparent' };
const label = (id: string, z: string, text: string, containerId = 'box'): Text => ({ type: 'text', id, x: 20, y: 40, z, ...style, text, fontSize: 20, containerId });

/** The board after the server applied `ops` in this order. */
function board(ops: Op[]): Element[] {
  const elements = new Map<string, Element>([[box.id, box]]);
  for (const op of ops) applyOpInPlace(elements, op);
  return sortElements(elements.values());
}

describe('two labels for one box', () => {
  // Both clients computed the same z (the box was the top element for both): the id decides.
  const ann = label('lbl-ann', 'a1', 'Ann typed this');
  const bob = label('lbl-bob', 'a1', 'Bob typed that');
  const addAnn: Op = { type: 'add', opId: 'op-ann', elements: [ann] };
  const addBob: Op = { type: 'add', opId: 'op-bob', elements: [bob] };

  it('shows the same single label whatever order the server applied the adds in', () => {
    for (const order of [[addAnn, addBob], [addBob, addAnn]]) {
      const els = board(order);
      expect([...extraLabels(els)]).toEqual(['lbl-bob']);
      const shown = withoutExtraLabels(els).filter((el) => el.type === 'text');
      expect(shown.map((el) => el.id)).toEqual(['lbl-ann']);
      const svg = renderSvg(els);
      expect(svg).toContain('Ann typed this');
      expect(svg).not.toContain('Bob typed that');
    }
  });

  it('keeps the lower z first when the zs differ, and leaves other boxes and free texts alone', () => {
    const other: Element = { ...box, id: 'other', x: 400, z: 'a2' };
    const els = sortElements([box, other, label('x', 'a5', 'late'), label('y', 'a3', 'early'), label('z', 'a4', 'own', 'other'), { ...label('free', 'a6', 'free'), containerId: undefined }]);
    expect([...extraLabels(els)]).toEqual(['x']);
  });

  it('does not hide labels whose box is gone (they are drawn as free texts)', () => {
    const els = sortElements([label('p', 'a1', 'one', 'gone'), label('q', 'a2', 'two', 'gone')]);
    expect(extraLabels(els).size).toBe(0);
    expect(withoutExtraLabels(els)).toBe(els);
  });

  it('converges to one label once the next edit deletes the extra one', () => {
    // The next person to edit the label updates the first and deletes the rest in one step.
    const merge: Op[] = [
      { type: 'update', opId: 'op-edit', updates: [{ id: 'lbl-ann', patch: { text: 'Ann typed this\nBob typed that' } }] },
      { type: 'delete', opId: 'op-drop', ids: ['lbl-bob'] },
    ];
    for (const order of [[addAnn, addBob, ...merge], [addBob, addAnn, ...merge]]) {
      const els = board(order);
      expect(els.filter((el) => el.type === 'text').map((el) => el.id)).toEqual(['lbl-ann']);
      expect(extraLabels(els).size).toBe(0);
    }
  });
});
