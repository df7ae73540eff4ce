import { describe, expect, it } from 'vitest';
import type { Arrow, Element, Line } from '@inkboard/protocol';
import { bindEnd, buildLine, snapFrom } from './line.js';
import { handlePoints, movePoint, pointPatch, removePoint } from './pointEdit.js';

const common = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const box: Element = { ...common, id: 'box', type: 'rectangle', x: 100, y: 100, width: 100, height: 50, fillColor: 'transparent' };
const locked: Element = { ...common, id: 'locked', type: 'ellipse', x: 400, y: 0, width: 100, height: 100, fillColor: 'transparent', locked: true };
const elements = new Map<string, Element>([box, locked].map((el) => [el.id, el]));
const host = { sorted: [box, locked], elements, zoom: 1, style: { strokeColor: '#e03131', strokeWidth: 4, fillColor: 'transparent', fontSize: 20, textAlign: 'left' as const, fontFamily: 'sans' as const } };

describe('drawing lines and arrows', () => {
  it('builds a line from world points, relative to its first point, in the style', () => {
    const { element } = buildLine(host, 'line', 'l', 'a1', [[10, 20], [30.123, 40], [50, 0]]);
    expect(element).toEqual({ type: 'line', id: 'l', z: 'a1', strokeColor: '#e03131', strokeWidth: 4, opacity: 1, x: 10, y: 20, points: [[0, 0], [20.12, 20], [40, -20]] });
  });

  it('binds an arrow end dropped on a shape (the end put on its binding point) and leaves free ends free', () => {
    const { element, endTarget } = buildLine(host, 'arrow', 'a', 'a1', [[0, 0], [150, 125]]);
    const arrow = element as Arrow;
    expect(arrow.endBinding).toEqual({ elementId: 'box', fixedPoint: [0.5, 0.5] });
    expect(arrow.startBinding).toBeUndefined();
    expect(endTarget?.id).toBe('box');
    // Just outside the box, within the tolerance: bound, the end pulled onto the edge.
    const near = buildLine(host, 'arrow', 'a', 'a1', [[0, 0], [97, 125]]).element as Arrow;
    expect(near.endBinding).toEqual({ elementId: 'box', fixedPoint: [0, 0.5] });
    expect(near.points[1]).toEqual([100, 125]);
    // Locked shapes and lines do not bind.
    expect((buildLine(host, 'arrow', 'a', 'a1', [[0, 0], [450, 50]]).element as Arrow).endBinding).toBeUndefined();
    expect(buildLine(host, 'line', 'l', 'a1', [[0, 0], [150, 125]]).element).not.toHaveProperty('endBinding');
    expect(bindEnd(host, 'a', 300, 300)).toBeNull();
  });

  it('snaps a segment to 15 degree steps from the previous point', () => {
    const [x, y] = snapFrom([10, 10], 110, 14);
    expect(x).toBeCloseTo(10 + Math.hypot(100, 4), 6);
    expect(y).toBeCloseTo(10, 6);
    const [x2, y2] = snapFrom([0, 0], 100, 90);
    expect(x2).toBeCloseTo(y2, 6);
  });
});

describe('editing the points of a line or arrow', () => {
  const line: Line = { ...common, id: 'l', type: 'line', x: 10, y: 10, points: [[0, 0], [100, 0], [100, 100]] };

  it('moves one point, the others stay, and the patch holds the points only', () => {
    const { element, target } = movePoint(host, line, 1, 60, -40);
    expect(handlePoints(element, (id) => elements.get(id))).toEqual([[10, 10], [60, -40], [110, 110]]);
    expect(target).toBeNull();
    expect(pointPatch(line, element)).toEqual({ points: [[0, 0], [50, -50], [100, 100]] });
  });

  it('binds an arrow end dragged onto a shape and frees it when dragged off; a middle point never binds', () => {
    const arrow: Arrow = { ...common, id: 'a', type: 'arrow', x: 0, y: 0, points: [[0, 0], [50, 50], [300, 300]] };
    const bound = movePoint(host, arrow, 2, 150, 125);
    expect(bound.target?.id).toBe('box');
    expect(pointPatch(arrow, bound.element)).toEqual({ points: [[0, 0], [50, 50], [150, 125]], endBinding: { elementId: 'box', fixedPoint: [0.5, 0.5] } });
    const freed = movePoint(host, bound.element as Arrow, 2, 300, 300);
    expect(pointPatch(bound.element as Arrow, freed.element)).toEqual({ points: [[0, 0], [50, 50], [300, 300]], endBinding: null });
    expect(movePoint(host, arrow, 1, 150, 125).target).toBeNull();
  });

  it('shows a bound end on its shape as it is now, and bakes a turned line\'s angle into its points', () => {
    const arrow: Arrow = { ...common, id: 'a', type: 'arrow', x: 0, y: 0, points: [[0, 0], [10, 10]], endBinding: { elementId: 'box', fixedPoint: [1, 1] } };
    expect(handlePoints(arrow, (id) => elements.get(id))).toEqual([[0, 0], [200, 150]]);
    const turned: Line = { ...common, id: 't', type: 'line', x: 0, y: 0, points: [[0, 0], [100, 0]], angle: Math.PI / 2 };
    const points = handlePoints(turned, () => undefined);
    expect(points[0]![0]).toBeCloseTo(50);
    expect(points[0]![1]).toBeCloseTo(-50);
    const { element } = movePoint(host, turned, 1, 50, 80);
    expect(pointPatch(turned, element)).toMatchObject({ angle: 0 });
    expect(handlePoints(element, () => undefined)[1]).toEqual([50, 80]);
  });

  it('removes a point while at least two stay; a removed arrow end loses its binding', () => {
    expect(pointPatch(line, removePoint(line, 1, () => undefined)!)).toEqual({ points: [[0, 0], [100, 100]] });
    const two: Line = { ...line, points: [[0, 0], [5, 5]] };
    expect(removePoint(two, 0, () => undefined)).toBeNull();
    const arrow: Arrow = { ...common, id: 'a', type: 'arrow', x: 0, y: 0, points: [[0, 0], [50, 50], [150, 125]], endBinding: { elementId: 'box', fixedPoint: [0.5, 0.5] } };
    expect(pointPatch(arrow, removePoint(arrow, 2, (id) => elements.get(id))!)).toEqual({ points: [[0, 0], [50, 50]], endBinding: null });
    expect(pointPatch(arrow, removePoint(arrow, 1, (id) => elements.get(id))!)).toEqual({ points: [[0, 0], [150, 125]] });
  });
});
