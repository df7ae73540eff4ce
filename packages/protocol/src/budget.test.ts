import { describe, expect, it } from 'vitest';
import { measureElement, pointsInOp, pointsOf, pushableRun, utf8Length } from './budget.js';
import type { Op } from './ops.js';
import { LIMITS } from './primitives.js';
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

describe('pushableRun (what one push may carry)', () => {
  const move = (n: number): Op => ({ type: 'update', opId: `m${n}`, updates: Array.from({ length: 2_000 }, (_, i) => ({ id: `e${i}`, patch: { x: n } })) }) as Op;
  const del = (n: number): Op => ({ type: 'delete', opId: `d${n}`, ids: ['a'] });

  it('stops before the ops, points or element changes of one push would pass their limits, and always takes one op', () => {
    expect(pushableRun([])).toBe(0);
    expect(pushableRun(Array.from({ length: 150 }, (_, i) => del(i)))).toBe(LIMITS.opsPerPush);
    // 2,000 changes each: two fit in 5,000, a third does not.
    expect(pushableRun([move(1), move(2), move(3), move(4)])).toBe(2);
    const big: Op = { type: 'add', opId: 'big', elements: Array.from({ length: 6_000 }, (_, i) => ({ type: 'rectangle', id: `r${i}` })) } as unknown as Op;
    expect(pushableRun([big, del(1)])).toBe(1);
  });
});
