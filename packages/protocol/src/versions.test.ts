import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyOps, type Elements } from './applyOp.js';
import type { Element, Rectangle, Stroke, Text } from './elements/index.js';
import { invertOp } from './history.js';
import { opSchema, type Op } from './ops.js';
import { LIMITS } from './primitives.js';
import { changedIds, groupVersions, historyNameInput, historyRestoreInput, restoreOps, summarizeOps, type OpMeta } from './versions.js';

const style = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const rect = (id: string, extra: Partial<Rectangle> = {}): Rectangle => ({ type: 'rectangle', id, x: 0, y: 0, ...style, width: 10, height: 10, fillColor: 'transparent', ...extra });
const text = (id: string, extra: Partial<Text> = {}): Text => ({ type: 'text', id, x: 0, y: 0, ...style, text: 'hi', fontSize: 16, ...extra });
const stroke = (id: string, n = 2): Stroke => ({ type: 'stroke', id, x: 0, y: 0, ...style, points: Array.from({ length: n }, (_, i) => [i, i]) as Stroke['points'] });
const board = (...els: Element[]): Map<string, Element> => new Map(els.map((e) => [e.id, e]));
const plain = (els: Elements) => Object.fromEntries([...els].sort(([a], [b]) => (a < b ? -1 : 1)));
const ids = () => {
  let n = 0;
  return () => `r${++n}`;
};

function apply(els: Elements, ops: readonly Op[]): Map<string, Element> {
  const result = applyOps(els, ops);
  if (!result.ok) throw new Error(result.error);
  return result.elements;
}

describe('restoreOps', () => {
  it('turns the current board into the target: deleted back with old ids, changed ones get old properties, new ones go', () => {
    const target = board(rect('a', { x: 5, z: 'a1' }), text('b'), stroke('c'));
    const current = board(rect('a', { x: 50, z: 'a9', angle: 1, fillColor: '#ff0000' }), stroke('c'), rect('d'));
    const ops = restoreOps(current, target, { newOpId: ids() });
    expect(ops.map((o) => o.type)).toEqual(['delete', 'update', 'add']);
    for (const op of ops) expect(opSchema.safeParse(op).success).toBe(true);
    expect(plain(apply(current, ops))).toEqual(plain(new Map([...target].map(([id, e]) => [id, id === 'a' ? { ...e, angle: 0 } : e]))));
    // z-order is a property: restored with the rest.
    expect(apply(current, ops).get('a')!.z).toBe('a1');
  });

  it('with ids, touches only those elements', () => {
    const target = board(rect('a'), text('b'));
    const current = board(rect('a', { x: 9 }), rect('new'));
    const ops = restoreOps(current, target, { ids: ['b'], newOpId: ids() });
    expect(ops).toEqual([{ type: 'add', opId: 'r1', elements: [text('b')] }]);
    expect(restoreOps(current, target, { ids: ['a', 'zzz'], newOpId: ids() })).toEqual([{ type: 'update', opId: 'r1', updates: [{ id: 'a', patch: { x: 0 } }] }]);
  });

  it('nothing to do gives no ops', () => {
    const b = board(rect('a'), text('b'));
    expect(restoreOps(b, new Map(b), { newOpId: ids() })).toEqual([]);
  });

  it('splits within LIMITS', () => {
    const n = LIMITS.elementsPerOp + 5;
    const target = board(...Array.from({ length: n }, (_, i) => rect(`e${i}`)));
    const ops = restoreOps(new Map(), target, { newOpId: ids() });
    expect(ops.map((o) => (o.type === 'add' ? o.elements.length : 0))).toEqual([LIMITS.elementsPerOp, 5]);
    // Points per op too: 20 strokes of 5,000 points make 2 pushes' worth per op at most.
    const big = board(...Array.from({ length: 20 }, (_, i) => stroke(`s${i}`, 5_000)));
    const split = restoreOps(new Map(), big, { newOpId: ids() });
    for (const op of split) expect(op.type === 'add' && op.elements.reduce((s, e) => s + ('points' in e ? e.points.length : 0), 0)).toBeLessThanOrEqual(LIMITS.pointsPerPush);
    expect(plain(apply(new Map(), split))).toEqual(plain(big));
  });

  it('is undone by the inverses of its ops (one undo step)', () => {
    const target = board(rect('a'), text('b'));
    const current = board(rect('a', { x: 9 }), rect('c'));
    const ops = restoreOps(current, target, { newOpId: ids() });
    let state: Map<string, Element> = new Map(current);
    const inverses: Op[] = [];
    for (const op of ops) {
      const inv = invertOp(state, op, `u${inverses.length}`);
      if (inv) inverses.push(inv);
      state = apply(state, [op]);
    }
    expect(plain(apply(state, inverses.reverse()))).toEqual(plain(current));
  });

  it('property: restoring any state onto any other gives exactly it', () => {
    const arbEl = fc.record({ id: fc.constantFrom('a', 'b', 'c', 'd', 'e'), kind: fc.constantFrom('rect', 'text', 'stroke'), x: fc.integer({ min: -100, max: 100 }), z: fc.constantFrom('a0', 'a1', 'a2'), angle: fc.option(fc.constantFrom(0.5, 1), { nil: undefined }) });
    const arbBoard = fc.array(arbEl, { maxLength: 5 }).map((list) => {
      const m = new Map<string, Element>();
      for (const { id, kind, x, z, angle } of list) {
        const base = kind === 'rect' ? rect(id, { x, z }) : kind === 'text' ? text(id, { x, z }) : { ...stroke(id), x, z };
        m.set(id, angle === undefined ? base : { ...base, angle });
      }
      return m;
    });
    fc.assert(
      fc.property(arbBoard, arbBoard, (current, target) => {
        const ops = restoreOps(current, target, { newOpId: ids() });
        const result = apply(current, ops);
        // A field the target lacks comes back as what its absence means (angle 0).
        const expected = new Map([...target].map(([id, e]) => [id, current.get(id)?.angle !== undefined && e.angle === undefined && current.get(id)!.type === e.type ? { ...e, angle: 0 } : e]));
        expect(plain(result)).toEqual(plain(expected));
      }),
    );
  });
});

describe('summarizeOps', () => {
  it('counts by verb and kind', () => {
    const ops: Op[] = [
      { type: 'add', opId: '1', elements: [stroke('s1'), stroke('s2'), stroke('s3')] },
      { type: 'update', opId: '2', updates: [{ id: 'r1', patch: { x: 1, y: 2 } }, { id: 'r2', patch: { x: 3 } }, { id: 's1', patch: { x: 3 } }] },
      { type: 'update', opId: '3', updates: [{ id: 't', patch: { strokeColor: '#ff0000' } }] },
      { type: 'delete', opId: '4', ids: ['gone'] },
    ];
    const kinds: Record<string, Element['type']> = { r1: 'rectangle', r2: 'ellipse', t: 'text' };
    const summary = summarizeOps(ops, (id) => kinds[id]);
    expect(summary.text).toBe('added 3 strokes, deleted 1 element, moved 2 shapes, restyled 1 text');
    expect(summary.counts).toContainEqual({ verb: 'moved', kind: 'shape', n: 2 });
    expect(summarizeOps([{ type: 'clear', opId: 'c' }]).text).toBe('cleared the board');
    expect(summarizeOps([{ type: 'add', opId: '1', elements: [rect('x')] }, { type: 'delete', opId: '2', ids: ['x'] }]).text).toBe('no visible change');
    expect(summarizeOps([{ type: 'update', opId: '1', updates: [{ id: 'x', patch: { text: 'yo' } }] }], () => 'text').text).toBe('edited 1 text');
  });

  it('lists changed ids, bounded', () => {
    const ops: Op[] = [{ type: 'add', opId: '1', elements: [rect('a'), rect('b')] }, { type: 'delete', opId: '2', ids: ['a', 'c'] }];
    expect(changedIds(ops)).toEqual(['a', 'b', 'c']);
    expect(changedIds(ops, 2)).toEqual(['a', 'b']);
  });
});

describe('groupVersions', () => {
  const m = (seq: number, authorId: string, at: number): OpMeta => ({ seq, authorId, at });
  it('runs of one author less than gapMs apart, in the order given', () => {
    const ops = [m(1, 'a', 0), m(2, 'a', 1000), m(3, 'b', 2000), m(4, 'b', 3000), m(5, 'b', 400_000), m(6, 'a', 400_001)];
    const runs = groupVersions(ops, 300_000);
    expect(runs.map((r) => [r.fromSeq, r.toSeq, r.authorId, r.opCount])).toEqual([
      [1, 2, 'a', 2],
      [3, 4, 'b', 2],
      [5, 5, 'b', 1],
      [6, 6, 'a', 1],
    ]);
    expect(groupVersions([...ops].reverse(), 300_000).map((r) => [r.fromSeq, r.toSeq])).toEqual([[6, 6], [5, 5], [3, 4], [1, 2]]);
  });

  it('splits long runs from the first op given and at missing seqs', () => {
    const ops = Array.from({ length: 7 }, (_, i) => m(i + 1, 'a', i));
    expect(groupVersions([...ops].reverse(), 1000, 3).map((r) => [r.fromSeq, r.toSeq])).toEqual([[5, 7], [2, 4], [1, 1]]);
    expect(groupVersions([m(1, 'a', 0), m(3, 'a', 1)]).length).toBe(2);
  });

  it('property: runs partition the ops', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ author: fc.constantFrom('a', 'b'), dt: fc.integer({ min: 0, max: 10_000 }) }), { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), (list, maxOps) => {
        let at = 0;
        const ops = list.map((o, i) => m(i + 1, o.author, (at += o.dt)));
        const runs = groupVersions(ops, 5_000, maxOps);
        expect(runs.reduce((s, r) => s + r.opCount, 0)).toBe(ops.length);
        let next = 1;
        for (const r of runs) {
          expect(r.fromSeq).toBe(next);
          expect(r.toSeq - r.fromSeq + 1).toBe(r.opCount);
          expect(r.opCount).toBeLessThanOrEqual(maxOps);
          next = r.toSeq + 1;
        }
      }),
    );
  });
});

describe('inputs', () => {
  it('validates names and restores', () => {
    expect(historyNameInput.safeParse({ boardId: 'b', name: '  Before the review ' }).data?.name).toBe('Before the review');
    expect(historyNameInput.safeParse({ boardId: 'b', name: '' }).success).toBe(false);
    expect(historyNameInput.safeParse({ boardId: 'b', name: 'x'.repeat(101) }).success).toBe(false);
    expect(historyNameInput.safeParse({ boardId: 'b', name: 'a\nb' }).success).toBe(false);
    expect(historyRestoreInput.safeParse({ boardId: 'b', seq: 3, opId: 'o1' }).success).toBe(true);
    expect(historyRestoreInput.safeParse({ boardId: 'b', seq: -1, opId: 'o1' }).success).toBe(false);
    expect(historyRestoreInput.safeParse({ boardId: 'b', seq: 1, ids: [], opId: 'o1' }).success).toBe(false);
  });
});
