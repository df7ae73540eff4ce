import { describe, expect, it } from 'vitest';
import { applyOp, applyOpInPlace, applyOps, type Elements } from './applyOp.js';
import type { Element, Rectangle, Stroke, Text } from './elements/index.js';
import type { Op } from './ops.js';
import { LIMITS } from './primitives.js';

const style = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const rect = (id: string, extra: Partial<Rectangle> = {}): Rectangle => ({
  type: 'rectangle', id, x: 0, y: 0, ...style, width: 10, height: 10, fillColor: 'transparent', ...extra,
});
const stroke = (id: string): Stroke => ({ type: 'stroke', id, x: 0, y: 0, ...style, points: [[0, 0], [1, 1]] });
const text = (id: string): Text => ({ type: 'text', id, x: 0, y: 0, ...style, text: 'hi', fontSize: 16 });
const board = (...els: Element[]): Map<string, Element> => new Map(els.map((e) => [e.id, e]));

const add = (opId: string, ...elements: Element[]): Op => ({ type: 'add', opId, elements });
const upd = (opId: string, ...updates: { id: string; patch: Record<string, unknown> }[]): Op =>
  ({ type: 'update', opId, updates }) as Op;
const del = (opId: string, ...ids: string[]): Op => ({ type: 'delete', opId, ids });
const clear = (opId: string): Op => ({ type: 'clear', opId });

function ok(elements: Elements, op: Op): Map<string, Element> {
  const result = applyOp(elements, op);
  if (!result.ok) throw new Error(`expected ${op.opId} to apply: ${result.error}`);
  return result.elements;
}
function err(elements: Elements, op: Op): string {
  const result = applyOp(elements, op);
  if (result.ok) throw new Error(`expected ${op.opId} to be refused`);
  return result.error;
}

describe('applyOp: add', () => {
  it('adds elements to an empty board', () => {
    const next = ok(new Map(), add('o1', rect('r1'), text('t1')));
    expect([...next.keys()]).toEqual(['r1', 't1']);
    expect(next.get('t1')).toEqual(text('t1'));
  });

  it('refuses an id already on the board and changes nothing', () => {
    const before = board(rect('r1', { x: 5 }));
    const error = err(before, add('o1', text('t0'), rect('r1', { x: 99 })));
    expect(error).toMatch(/r1.*already exists/);
    expect(before.get('r1')?.x).toBe(5);
    expect(before.has('t0')).toBe(false);
  });

  it('refuses a duplicate id within one op', () => {
    const before = board();
    expect(err(before, add('o1', rect('r1'), rect('r1', { x: 1 })))).toMatch(/already exists/);
    expect(before.size).toBe(0);
  });

  it('enforces the element limit per board', () => {
    const el = rect('proto');
    const full = new Map<string, Element>();
    for (let i = 0; i < LIMITS.elementsPerBoard - 1; i++) full.set(`e${i}`, el);
    expect(ok(full, add('o1', rect('last'))).size).toBe(LIMITS.elementsPerBoard);
    expect(err(full, add('o2', rect('x1'), rect('x2')))).toMatch(/full/);
    expect(full.size).toBe(LIMITS.elementsPerBoard - 1);
    const exact = ok(full, add('o3', rect('last')));
    expect(err(exact, add('o4', rect('more')))).toMatch(/full/);
  });
});

describe('applyOp: update', () => {
  it('merges a patch into the element', () => {
    const next = ok(board(rect('r1')), upd('o1', { id: 'r1', patch: { x: 5, fillColor: '#ff0000' } }));
    expect(next.get('r1')).toEqual(rect('r1', { x: 5, fillColor: '#ff0000' }));
  });

  it('drops updates of missing (deleted) elements: delete wins', () => {
    let b = ok(board(rect('r1'), rect('r2')), del('o1', 'r1'));
    b = ok(b, upd('o2', { id: 'r1', patch: { x: 50 } }, { id: 'r2', patch: { x: 7 } }));
    expect(b.has('r1')).toBe(false);
    expect(b.get('r2')?.x).toBe(7);
    expect(b.size).toBe(1);
  });

  it('succeeds and changes nothing when every target is gone', () => {
    const before = board(rect('r1'));
    const next = ok(before, upd('o1', { id: 'zz', patch: { x: 1 } }));
    expect(next).toEqual(before);
  });

  it.each([
    ['text on a rectangle', rect('r1'), { text: 'hello' }],
    ['width on a stroke', stroke('r1'), { width: 10 }],
    ['fillColor on a text', text('r1'), { fillColor: '#000000' }],
    ['fontSize on a rectangle', rect('r1'), { fontSize: 12 }],
    ['points on a rectangle', rect('r1'), { points: [[0, 0]] }],
    ['a single point on a line', { type: 'line', id: 'r1', x: 0, y: 0, ...style, points: [[0, 0], [5, 5]] } as Element, { points: [[0, 0]] }],
    ['pressure points on a line', { type: 'line', id: 'r1', x: 0, y: 0, ...style, points: [[0, 0], [5, 5]] } as Element, { points: [[0, 0, 0.5], [1, 1, 0.5]] }],
    ['an out-of-range value', rect('r1'), { x: 1e9 }],
  ])('refuses a patch that does not fit: %s', (_name, el, patch) => {
    const before = board(el);
    const error = err(before, upd('o1', { id: 'r1', patch }));
    expect(error).toContain(`does not fit a ${el.type}`);
    expect(before.get('r1')).toBe(el);
  });

  it('is atomic: one bad patch refuses the whole op', () => {
    const before = board(rect('r1'), stroke('s1'));
    err(before, upd('o1', { id: 'r1', patch: { x: 5 } }, { id: 's1', patch: { height: 3 } }));
    const inPlace = new Map(before);
    expect(applyOpInPlace(inPlace, upd('o1', { id: 'r1', patch: { x: 5 } }, { id: 's1', patch: { height: 3 } }))).not.toBeNull();
    expect(inPlace.get('r1')?.x).toBe(0);
  });

  it('applies several patches of one element in order within an op', () => {
    const next = ok(board(rect('r1')), upd('o1', { id: 'r1', patch: { x: 1, y: 1 } }, { id: 'r1', patch: { x: 2 } }));
    expect(next.get('r1')).toMatchObject({ x: 2, y: 1 });
  });

  it('is last-writer-wins per property in application order', () => {
    const a = upd('a', { id: 'r1', patch: { x: 10, strokeColor: '#aa0000' } });
    const b = upd('b', { id: 'r1', patch: { x: 20 } });
    const ab = ok(ok(board(rect('r1')), a), b).get('r1');
    const ba = ok(ok(board(rect('r1')), b), a).get('r1');
    expect(ab).toMatchObject({ x: 20, strokeColor: '#aa0000' });
    expect(ba).toMatchObject({ x: 10, strokeColor: '#aa0000' });
  });
});

describe('applyOp: delete and clear', () => {
  it('deletes listed elements and ignores missing ids', () => {
    const next = ok(board(rect('r1'), rect('r2'), rect('r3')), del('o1', 'r1', 'nope', 'r3'));
    expect([...next.keys()]).toEqual(['r2']);
  });

  it('clear removes everything', () => {
    expect(ok(board(rect('r1'), text('t1')), clear('o1')).size).toBe(0);
    expect(ok(new Map(), clear('o2')).size).toBe(0);
  });

  it('an id can be added again after it was deleted', () => {
    const b = ok(ok(board(rect('r1')), del('o1', 'r1')), add('o2', rect('r1', { x: 3 })));
    expect(b.get('r1')?.x).toBe(3);
  });
});

describe('purity', () => {
  it('applyOp never mutates its input map or elements', () => {
    const r = rect('r1');
    const before = board(r, text('t1'));
    const snapshot = structuredClone([...before]);
    const ops = [add('o1', rect('r2')), upd('o2', { id: 'r1', patch: { x: 9 } }), del('o3', 't1'), clear('o4')];
    for (const op of ops) {
      const result = applyOp(before, op);
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.elements).not.toBe(before);
    }
    expect([...before]).toEqual(snapshot);
    expect(before.get('r1')).toBe(r);
    expect(r.x).toBe(0);
  });

  it('applyOps does not mutate its input either', () => {
    const before = board(rect('r1'));
    applyOps(before, [upd('o1', { id: 'r1', patch: { x: 9 } }), clear('o2')]);
    expect(before.get('r1')?.x).toBe(0);
  });

  it('applyOpInPlace mutates the map it owns', () => {
    const map = board(rect('r1'));
    expect(applyOpInPlace(map, upd('o1', { id: 'r1', patch: { y: 4 } }))).toBeNull();
    expect(map.get('r1')?.y).toBe(4);
  });
});

describe('applyOps', () => {
  it('applies ops in order', () => {
    const result = applyOps(new Map(), [add('o1', rect('r1')), upd('o2', { id: 'r1', patch: { x: 4 } }), add('o3', text('t1')), del('o4', 'r1')]);
    expect(result.ok).toBe(true);
    if (result.ok) expect([...result.elements.values()]).toEqual([text('t1')]);
  });

  it('stops at the first error, names the op, and returns no partial board', () => {
    const before = board(rect('r1'));
    const result = applyOps(before, [
      upd('o1', { id: 'r1', patch: { x: 4 } }),
      add('o2', rect('r1')),
      add('o3', text('t1')),
    ]);
    expect(result).toEqual({ ok: false, error: expect.stringMatching(/^op o2: .*already exists/) });
    expect(before.get('r1')?.x).toBe(0);
    expect(before.has('t1')).toBe(false);
  });

  it('succeeds on an empty list with an equal copy', () => {
    const before = board(rect('r1'));
    const result = applyOps(before, []);
    expect(result.ok && result.elements).toEqual(before);
    expect(result.ok && result.elements).not.toBe(before);
  });
});

describe('applyOp: updates of long strokes (issue 13: their cost must not grow with the points they leave alone)', () => {
  const long = (id: string, n: number): Stroke => ({
    type: 'stroke', id, x: 0, y: 0, ...style, points: Array.from({ length: n }, (_, i) => [i, i % 7, 0.5] as [number, number, number]),
  });

  it('a move keeps the very same points, reads none past the first two, and still checks the moved fields', () => {
    const plain = long('s1', 5_000);
    // Records the furthest point the update reads: the stored points are valid already.
    let furthest = -1;
    const points = new Proxy(plain.points, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) furthest = Math.max(furthest, Number(key));
        return Reflect.get(target, key, receiver);
      },
    });
    const s: Stroke = { ...plain, points };
    const next = ok(board(s), upd('o1', { id: 's1', patch: { x: 40, strokeColor: '#e03131' } }));
    const moved = next.get('s1') as Stroke;
    expect(moved).toMatchObject({ x: 40, strokeColor: '#e03131', y: 0 });
    expect(moved.points).toBe(s.points);
    expect(furthest).toBeLessThan(2);
    expect(err(board(s), upd('o2', { id: 's1', patch: { strokeWidth: -1 } }))).toMatch(/does not fit a stroke: strokeWidth/);
  });

  it('a patch that carries points is checked in full', () => {
    const s = long('s1', 10);
    const bad = Array.from({ length: 10 }, (_, i) => [i, i === 7 ? Number.NaN : i]);
    expect(err(board(s), upd('o1', { id: 's1', patch: { points: bad } }))).toMatch(/does not fit a stroke: points/);
    const next = ok(board(s), upd('o2', { id: 's1', patch: { points: [[1, 2]] } }));
    expect((next.get('s1') as Stroke).points).toEqual([[1, 2]]);
  });

  it('a line keeps its points through a move (two stand in for them while the rest is checked)', () => {
    const line: Element = { type: 'line', id: 'l1', x: 0, y: 0, ...style, points: [[0, 0], [5, 5], [9, 1]] };
    const next = ok(board(line), upd('o1', { id: 'l1', patch: { y: 3 } }));
    expect(next.get('l1')).toEqual({ ...line, y: 3 });
  });
});
