import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyOp } from './applyOp.js';
import type { Element } from './elements/index.js';
import { elementCenter, elementFrame, rotatePoint } from './geometry.js';
import {
  HANDLES,
  handlePosition,
  normalizeAngle,
  resizeBox,
  resizeElements,
  rotateElements,
  selectionFrame,
  type ElementUpdate,
  type Handle,
} from './transform.js';

const SEED = 1414;
const style = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const rect = (id: string, x: number, y: number, width: number, height: number, angle = 0): Element => ({
  type: 'rectangle', id, x, y, ...style, width, height, fillColor: 'transparent', ...(angle ? { angle } : {}),
});
const opposite: Record<Handle, Handle> = { n: 's', s: 'n', e: 'w', w: 'e', ne: 'sw', sw: 'ne', nw: 'se', se: 'nw' };

/** The elements with the updates applied through applyOp (so every patch is also schema-checked). */
function applied(elements: Element[], updates: ElementUpdate[]): Element[] {
  const result = applyOp(new Map(elements.map((el) => [el.id, el])), { type: 'update', opId: 'o', updates });
  if (!result.ok) throw new Error(result.error);
  return elements.map((el) => result.elements.get(el.id)!);
}

const close = (a: number, b: number, eps = 0.05) => expect(Math.abs(a - b)).toBeLessThan(eps);

describe('resizeBox', () => {
  it('moves the dragged side and keeps the opposite one', () => {
    const box = { minX: 0, minY: 0, maxX: 100, maxY: 50 };
    expect(resizeBox(box, 'se', 150, 80)).toEqual({ minX: 0, minY: 0, maxX: 150, maxY: 80 });
    expect(resizeBox(box, 'w', -20, 999)).toEqual({ minX: -20, minY: 0, maxX: 100, maxY: 50 });
    expect(resizeBox(box, 'n', 999, 10)).toEqual({ minX: 0, minY: 10, maxX: 100, maxY: 50 });
  });

  it('keeps the aspect with Shift and grows about the centre with Alt', () => {
    const box = { minX: 0, minY: 0, maxX: 100, maxY: 50 };
    expect(resizeBox(box, 'se', 200, 60, { keepAspect: true })).toEqual({ minX: 0, minY: 0, maxX: 200, maxY: 100 });
    expect(resizeBox(box, 'e', 120, 0, { fromCentre: true })).toEqual({ minX: -20, minY: 0, maxX: 120, maxY: 50 });
    expect(resizeBox(box, 'e', 200, 0, { keepAspect: true })).toEqual({ minX: 0, minY: -25, maxX: 200, maxY: 75 });
  });

  it('never flips or goes below the minimum size', () => {
    const box = { minX: 0, minY: 0, maxX: 100, maxY: 50 };
    expect(resizeBox(box, 'se', -500, -500)).toEqual({ minX: 0, minY: 0, maxX: 1, maxY: 1 });
  });
});

describe('resizeElements', () => {
  it('resizes one rectangle from each handle', () => {
    const r = rect('r', 0, 0, 100, 50);
    const [after] = applied([r], resizeElements([r], 'se', [130, 70]));
    expect(after).toMatchObject({ x: 0, y: 0, width: 130, height: 70 });
    const [fromNw] = applied([r], resizeElements([r], 'nw', [-10, -20]));
    expect(fromNw).toMatchObject({ x: -10, y: -20, width: 110, height: 70 });
  });

  it('scales the points of strokes, lines and arrows, and a text by its font size', () => {
    const line: Element = { type: 'line', id: 'l', x: 10, y: 10, ...style, points: [[0, 0], [100, 50]] };
    const [l] = applied([line], resizeElements([line], 'se', [210, 110]));
    expect(l).toMatchObject({ x: 10, y: 10, points: [[0, 0], [200, 100]] });
    const stroke: Element = { type: 'stroke', id: 's', x: 0, y: 0, ...style, points: [[0, 0, 0.5], [10, 20, 0.7]] };
    const [s] = applied([stroke], resizeElements([stroke], 'e', [20, 0]));
    expect(s).toMatchObject({ points: [[0, 0, 0.5], [20, 20, 0.7]] });
    const text: Element = { type: 'text', id: 't', x: 0, y: 0, ...style, text: 'abcd', fontSize: 20 };
    const f = elementFrame(text);
    const [t] = applied([text], resizeElements([text], 'se', [f.maxX * 2, f.maxY * 2]));
    expect(t).toMatchObject({ x: 0, y: 0, fontSize: 40 });
  });

  it('resizes a rotated box in its own frame: the opposite handle stays put and the angle is kept', () => {
    const r = rect('r', 0, 0, 100, 50, Math.PI / 6);
    const frame = selectionFrame([r])!;
    const anchor = handlePosition(frame, 'nw');
    const [se] = [handlePosition(frame, 'se')];
    const [after] = applied([r], resizeElements([r], 'se', [se[0] + 30, se[1] + 40]));
    expect(after!.angle).toBeCloseTo(Math.PI / 6);
    const moved = handlePosition(selectionFrame([after!])!, 'nw');
    close(moved[0], anchor[0]);
    close(moved[1], anchor[1]);
  });

  it('scales a multi-selection: positions and sizes follow the box; a label is left to its container', () => {
    const a = rect('a', 0, 0, 50, 50);
    const b = rect('b', 150, 50, 50, 50);
    const label: Element = { type: 'text', id: 'lab', x: 160, y: 60, ...style, text: 'hi', fontSize: 20, containerId: 'b' };
    const updates = resizeElements([a, b, label], 'se', [400, 200]);
    expect(updates.map((u) => u.id)).toEqual(['a', 'b']);
    const [na, nb] = applied([a, b], updates);
    expect(na).toMatchObject({ x: 0, y: 0, width: 100, height: 100 });
    expect(nb).toMatchObject({ x: 300, y: 100, width: 100, height: 100 });
  });

  it('property: for one box of any angle, the opposite handle stays (or the centre with Alt); Shift keeps the ratio; patches are valid', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 400 }), fc.double({ min: -3, max: 3, noNaN: true }),
        fc.constantFrom(...HANDLES), fc.integer({ min: -300, max: 300 }), fc.integer({ min: -300, max: 300 }),
        fc.boolean(), fc.boolean(), fc.constantFrom('rectangle', 'ellipse', 'note'),
        (w, h, angle, handle, dx, dy, keepAspect, fromCentre, type) => {
          const base = rect('r', 100, 100, w, h, angle);
          const el = (type === 'note' ? { ...base, type, text: '', fontSize: 20 } : { ...base, type }) as Element;
          const frame = selectionFrame([el])!;
          const start = handlePosition(frame, handle);
          const [after] = applied([el], resizeElements([el], handle, [start[0] + dx, start[1] + dy], { keepAspect, fromCentre }));
          const next = selectionFrame([after!])!;
          expect(next.angle).toBeCloseTo(frame.angle);
          if (fromCentre) {
            const [c0, c1] = [elementCenter(el), elementCenter(after!)];
            close(c0[0], c1[0], 0.1);
            close(c0[1], c1[1], 0.1);
          } else {
            const a0 = handlePosition(frame, opposite[handle]);
            const a1 = handlePosition(next, opposite[handle]);
            close(a0[0], a1[0], 0.1);
            close(a0[1], a1[1], 0.1);
          }
          if (keepAspect && handle.length === 2) {
            const nw = next.box.maxX - next.box.minX;
            const nh = next.box.maxY - next.box.minY;
            if (nw > 2 && nh > 2) expect(Math.abs(nw / nh - w / h)).toBeLessThan(0.05 * Math.max(1, w / h));
          }
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('property: a multi-selection lands in the resized box', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -500, max: 500 }), fc.integer({ min: -500, max: 500 }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200 })), { minLength: 2, maxLength: 6 }),
        fc.constantFrom(...HANDLES), fc.integer({ min: -200, max: 200 }), fc.integer({ min: -200, max: 200 }),
        (boxes, handle, dx, dy) => {
          const els = boxes.map(([x, y, w, h], i) => (i % 2 ? rect(`e${i}`, x, y, w, h) : ({ type: 'line', id: `e${i}`, x, y, ...style, points: [[0, 0], [w, h]] } as Element)));
          const frame = selectionFrame(els)!;
          const start = handlePosition(frame, handle);
          const expected = resizeBox(frame.box, handle, start[0] + dx, start[1] + dy);
          const after = applied(els, resizeElements(els, handle, [start[0] + dx, start[1] + dy]));
          const got = selectionFrame(after)!.box;
          for (const k of ['minX', 'minY', 'maxX', 'maxY'] as const) close(got[k], expected[k], 0.2);
        },
      ),
      { seed: SEED + 1, numRuns: 300 },
    );
  });
});

describe('rotateElements', () => {
  it('turns a lone box by its angle, snapping to 15 degrees with Shift', () => {
    const r = rect('r', 0, 0, 100, 50);
    const [after] = applied([r], rotateElements([r], 0.3));
    expect(after).toMatchObject({ x: 0, y: 0 });
    expect(after!.angle).toBeCloseTo(0.3);
    const [snapped] = applied([r], rotateElements([r], 0.3, { snap: true }));
    expect(snapped!.angle).toBeCloseTo(Math.PI / 12);
    const [back] = applied([r], rotateElements([r], -0.1));
    expect(back!.angle).toBeCloseTo(2 * Math.PI - 0.1);
  });

  it('turns the points of a line about the selection centre', () => {
    const line: Element = { type: 'line', id: 'l', x: 0, y: 0, ...style, points: [[0, 0], [100, 0]] };
    const [after] = applied([line], rotateElements([line], Math.PI / 2));
    const pts = (after as Extract<Element, { type: 'line' }>).points;
    close(pts[0]![0] + after!.x, 50);
    close(pts[0]![1] + after!.y, -50);
    close(pts[1]![0] + after!.x, 50);
    close(pts[1]![1] + after!.y, 50);
    expect(after!.angle ?? 0).toBe(0);
  });

  it('property: a turn moves every point (or box centre) about the selection centre and adds to box angles', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -500, max: 500 }), fc.integer({ min: -500, max: 500 }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200 }), fc.constantFrom('rectangle', 'text', 'arrow', 'stroke')), { minLength: 1, maxLength: 5 }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        (specs, turn) => {
          const els = specs.map(([x, y, w, h, type], i): Element => {
            const id = `e${i}`;
            if (type === 'rectangle') return rect(id, x, y, w, h);
            if (type === 'text') return { type, id, x, y, ...style, text: 'x'.repeat(1 + (w % 9)), fontSize: 8 + (h % 40) };
            if (type === 'arrow') return { type, id, x, y, ...style, points: [[0, 0], [w, h]] };
            return { type: 'stroke', id, x, y, ...style, points: [[0, 0], [w, 0], [w, h]] };
          });
          const { box } = selectionFrame(els)!;
          const cx = (box.minX + box.maxX) / 2;
          const cy = (box.minY + box.maxY) / 2;
          const turned = applied(els, rotateElements(els, turn));
          turned.forEach((el, i) => {
            const old = els[i]!;
            if ('points' in el && 'points' in old) {
              el.points.forEach((p, j) => {
                const [ex, ey] = rotatePoint(old.x + old.points[j]![0], old.y + old.points[j]![1], cx, cy, turn);
                close(el.x + p[0], ex, 0.02);
                close(el.y + p[1], ey, 0.02);
              });
              expect(el.angle ?? 0).toBe(0);
            } else {
              const [ox, oy] = elementCenter(old);
              const [ex, ey] = rotatePoint(ox, oy, cx, cy, turn);
              const [nx, ny] = elementCenter(el);
              close(nx, ex, 0.02);
              close(ny, ey, 0.02);
              const d = normalizeAngle((el.angle ?? 0) - turn);
              expect(Math.min(d, 2 * Math.PI - d)).toBeLessThan(1e-9);
            }
          });
        },
      ),
      { seed: SEED + 2, numRuns: 300 },
    );
  });
});

describe('two people transforming the same element', () => {
  it('converge: server order decides, last writer wins per property', () => {
    const r = rect('r', 0, 0, 100, 100);
    const board = new Map([[r.id, r]]);
    const alice = { type: 'update' as const, opId: 'alice', updates: resizeElements([r], 'se', [200, 150]) };
    const bob = { type: 'update' as const, opId: 'bob', updates: rotateElements([r], 0.5) };
    const carol = { type: 'update' as const, opId: 'carol', updates: resizeElements([r], 'e', [50, 0]) };
    // Every client applies the ops in the server's order and ends with the same element: a resize
    // patch carries x, y, width and height, so the later resize wins whole; the turn is kept.
    const order = [alice, bob, carol];
    let a = board as Map<string, Element>;
    for (const op of order) {
      const res = applyOp(a, op);
      if (!res.ok) throw new Error(res.error);
      a = res.elements;
    }
    expect(a.get('r')).toMatchObject({ x: 0, y: 0, width: 50, height: 100, angle: 0.5 });
    // A turn of a lone box carries only its angle, so it never undoes a concurrent move or resize.
    expect(bob.updates).toEqual([{ id: 'r', patch: { angle: 0.5 } }]);
    const moved = applyOp(board, { type: 'update', opId: 'm', updates: resizeElements([r], 'nw', [-50, -50]) });
    if (!moved.ok) throw new Error(moved.error);
    const both = applyOp(moved.elements, bob);
    expect(both.ok && both.elements.get('r')).toMatchObject({ x: -50, y: -50, width: 150, height: 150, angle: 0.5 });
  });
});
