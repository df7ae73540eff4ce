import { describe, expect, it } from 'vitest';
import type { Element, PreviewEvent } from '@inkboard/protocol';
import { applyPreview, dropClientPreviews, prunePreviews } from './remotePreviews.js';

const stroke: Element = { type: 'stroke', id: 's1', x: 0, y: 0, z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, points: [[0, 0]] };
const ev = (e: Partial<PreviewEvent>): PreviewEvent => ({ type: 'preview', clientId: 'c1', elementId: 's1', ...e });

describe('remote previews', () => {
  it('starts with the element, then appends points', () => {
    let p = applyPreview(new Map(), ev({ element: stroke }), new Map(), 0);
    p = applyPreview(p, ev({ append: [[5, 5], [10, 0]] }), new Map(), 1);
    const el = p.get('s1')?.element;
    expect(el?.type === 'stroke' && el.points).toEqual([[0, 0], [5, 5], [10, 0]]);
  });

  it('keeps a finished preview until the committed element arrives, so it never blinks', () => {
    let p = applyPreview(new Map(), ev({ element: stroke }), new Map(), 0);
    p = applyPreview(p, ev({ done: true }), new Map(), 10);
    expect(prunePreviews(p, new Map(), 20).has('s1')).toBe(true);
    expect(prunePreviews(p, new Map([['s1', stroke]]), 30).has('s1')).toBe(false);
    expect(prunePreviews(p, new Map(), 5_000).has('s1')).toBe(false);
  });

  it('drops at once when the op came before the end of the preview', () => {
    const p = applyPreview(new Map(), ev({ element: stroke, done: true }), new Map([['s1', stroke]]), 0);
    expect(p.size).toBe(0);
  });

  it('drops the previews of a client that left', () => {
    const p = applyPreview(new Map(), ev({ element: stroke }), new Map(), 0);
    expect(dropClientPreviews(p, 'c2')).toBe(p);
    expect(dropClientPreviews(p, 'c1').size).toBe(0);
  });
});

describe('remote previews of new elements', () => {
  it('go away as soon as the element is stored, even if `done` was lost', () => {
    const p = applyPreview(new Map(), ev({ element: stroke }), new Map(), 0);
    expect(prunePreviews(p, new Map([['s1', stroke]]), 1).size).toBe(0);
  });

  it('of a stored element (a move) stay until done', () => {
    const moved = { ...stroke, x: 50 };
    const p = applyPreview(new Map(), ev({ element: moved }), new Map([['s1', stroke]]), 0);
    expect(prunePreviews(p, new Map([['s1', stroke]]), 1).size).toBe(1);
  });
});
