import { describe, expect, it } from 'vitest';
import { sortElements, type Element, type Text } from '@inkboard/protocol';
import { labelOf, labelsOf, shownElements } from './labels.js';

const style = { strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const box: Element = { type: 'rectangle', id: 'box', x: 0, y: 0, z: 'a0', ...style, width: 200, height: 100, fillColor: 'transparent' };
const label = (id: string, z: string, text: string): Text => ({ type: 'text', id, x: 20, y: 40, z, ...style, text, fontSize: 20, containerId: 'box' });

describe('a box labelled twice at once', () => {
  const first = label('lbl-a', 'a1', 'first');
  const second = label('lbl-b', 'a1', 'second'); // the same z (both typed at once): the id decides
  const sorted = sortElements([second, box, first]);

  it('edits and shows the first label by (z, id)', () => {
    expect(labelOf(sorted, 'box')?.id).toBe('lbl-a');
    expect(labelsOf(sorted, 'box').map((l) => l.id)).toEqual(['lbl-a', 'lbl-b']);
    expect(shownElements(sorted).map((el) => el.id)).toEqual(['box', 'lbl-a']);
  });

  it('gives the canvas the same list while the board is the same (its tiles key on it)', () => {
    expect(shownElements(sorted)).toBe(shownElements(sorted));
    const plain = sortElements([box, first]);
    expect(shownElements(plain)).toBe(plain);
  });
});
