import { describe, expect, it } from 'vitest';
import type { Element } from '@inkboard/protocol';
import { describeBoard } from './describe.js';

const common = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, x: 0, y: 0 };

describe('describeBoard', () => {
  it('says what the board holds', () => {
    const els: Element[] = [
      { ...common, id: 'a', type: 'stroke', points: [[0, 0]] },
      { ...common, id: 'b', type: 'stroke', points: [[0, 0]] },
      { ...common, id: 'c', type: 'rectangle', width: 1, height: 1, fillColor: 'transparent' },
      { ...common, id: 'd', type: 'text', text: 'Hi', fontSize: 20 },
    ];
    expect(describeBoard(els)).toBe('4 elements: 2 freehand strokes, 1 rectangle, 1 text. Texts: “Hi”.');
    expect(describeBoard([])).toBe('The board is empty.');
  });

  it('names images', () => {
    const image = { ...common, type: 'image' as const, width: 10, height: 10, fileId: 'a'.repeat(64), naturalWidth: 10, naturalHeight: 10 };
    expect(describeBoard([{ ...image, id: 'i1' }])).toBe('1 element: 1 image.');
    expect(describeBoard([{ ...image, id: 'i1' }, { ...image, id: 'i2' }])).toBe('2 elements: 2 images.');
  });

  it('counts sticky notes and reads their text (an empty one has none)', () => {
    const note = { ...common, type: 'note' as const, width: 100, height: 100, fillColor: '#fff3bf', fontSize: 20 };
    const els: Element[] = [{ ...note, id: 'n1', text: 'Buy milk' }, { ...note, id: 'n2', text: '' }];
    expect(describeBoard(els)).toBe('2 elements: 2 sticky notes. Texts: “Buy milk”.');
  });
});
