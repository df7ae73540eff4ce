import { describe, expect, it } from 'vitest';
import { measureElement, pointsInOp, pointsOf, utf8Length } from './budget.js';
import type { Element } from './elements/index.js';

const stroke: Element = { type: 'stroke', id: 's', x: 0, y: 0, z: 'a0', points: [[0, 0], [1, 2, 0.5]], strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const text: Element = { type: 'text', id: 't', x: 0, y: 0, z: 'a1', text: 'héllo 👋 世界', fontSize: 20, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 } as Element;

describe('budget', () => {
  it('utf8Length counts UTF-8 bytes like an encoder, surrogate pairs and lone surrogates included', () => {
    for (const s of ['', 'abc', 'é', '€', '👋', 'a👋b世界', '\ud800', '\udc00x', 'x\ud83d']) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });

  it('measureElement gives the points and the bytes of the element as stored (its JSON)', () => {
    expect(measureElement(stroke)).toEqual({ points: 2, bytes: new TextEncoder().encode(JSON.stringify(stroke)).length });
    expect(measureElement(text)).toEqual({ points: 0, bytes: new TextEncoder().encode(JSON.stringify(text)).length });
    expect(pointsOf(text)).toBe(0);
  });

  it('pointsInOp counts added points and patched point lists', () => {
    expect(pointsInOp({ type: 'add', opId: 'o', elements: [stroke, text, stroke] })).toBe(4);
    expect(pointsInOp({ type: 'update', opId: 'o', updates: [{ id: 's', patch: { points: [[0, 0], [1, 1], [2, 2]] } }, { id: 't', patch: { x: 1 } }] })).toBe(3);
    expect(pointsInOp({ type: 'delete', opId: 'o', ids: ['s'] })).toBe(0);
    expect(pointsInOp({ type: 'clear', opId: 'o' })).toBe(0);
  });
});
