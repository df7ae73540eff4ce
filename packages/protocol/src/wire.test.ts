import { describe, expect, it } from 'vitest';
import type { Element, StrokePoint } from './elements/index.js';
import type { Frame } from './events.js';
import { fromWireFrame, packPoints, toWireFrame, unpackPoints } from './wire.js';

function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A hand-like stroke: small steps at 2 decimals, pressure at 2 decimals. */
function stroke(seed: number, n: number, pressure: boolean): StrokePoint[] {
  const r = rng(seed);
  let x = 0;
  let y = 0;
  return Array.from({ length: n }, () => {
    // `+ 0` turns -0 into 0, as JSON does.
    x = Math.round((x + (r() - 0.3) * 8) * 100) / 100 + 0;
    y = Math.round((y + (r() - 0.5) * 8) * 100) / 100 + 0;
    return pressure ? [x, y, Math.round(r() * 100) / 100] : [x, y];
  });
}

describe('packed stroke points', () => {
  it('round-trips exactly, with and without pressure, for many seeds', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const points = stroke(seed, 1 + (seed % 300), seed % 2 === 0);
      const packed = packPoints(points);
      expect(packed, `seed ${seed}`).not.toBeNull();
      expect(unpackPoints(packed!), `seed ${seed}`).toEqual(points);
    }
  });

  it('handles extremes: negative, large and single points', () => {
    const points: StrokePoint[] = [[-1_000_000, 1_000_000, 0], [0.01, -0.01, 1], [999_999.99, -999_999.99, 0.5]];
    expect(unpackPoints(packPoints(points)!)).toEqual(points);
    expect(unpackPoints(packPoints([[3, 4]])!)).toEqual([[3, 4]]);
  });

  it('refuses what it cannot carry exactly: more decimals, mixed pressure', () => {
    expect(packPoints([[0.123, 1]])).toBeNull();
    expect(packPoints([[1, 1], [2, 2, 0.5]])).toBeNull();
  });

  it('costs at most 8 bytes a point for hand-drawn strokes', () => {
    const withP = stroke(7, 120, true);
    const without = stroke(8, 120, false);
    const perPoint = (pts: StrokePoint[]) => packPoints(pts)!.length / pts.length;
    expect(perPoint(withP)).toBeLessThanOrEqual(8);
    expect(perPoint(without)).toBeLessThanOrEqual(8);
    expect(JSON.stringify(withP).length / withP.length).toBeGreaterThan(12); // what JSON would cost
  });

  it('a frame survives toWireFrame/fromWireFrame unchanged; unpackable strokes stay plain', () => {
    const el = (id: string, points: StrokePoint[]): Element => ({ type: 'stroke', id, x: 1, y: 2, z: 'a0', points, strokeColor: '#000000', strokeWidth: 2, opacity: 1 });
    const frame: Frame = {
      seq: 3,
      events: [
        { type: 'snapshot', seq: 2, elements: [el('a', stroke(1, 50, true)), el('b', [[0.001, 2]])] },
        { type: 'op', seq: 3, author: { id: 'u', name: 'U' }, op: { type: 'add', opId: 'o1', elements: [el('c', stroke(2, 10, false))] } },
        { type: 'cursor', clientId: 'c1', x: 1, y: 2 },
      ],
    };
    const wire = toWireFrame(frame);
    const json = JSON.stringify(wire);
    expect(json).toContain('"packed"');
    expect(json).toContain('[0.001,2]');
    expect(fromWireFrame(JSON.parse(json))).toEqual(frame);
  });

  it('carries a frame’s cursors as one flat event, in their order, and gives them back one by one', () => {
    const cursors = Array.from({ length: 50 }, (_, i) => ({ type: 'cursor' as const, clientId: `client${String(i).padStart(4, '0')}`, x: i * 10.5 - 300, y: 2 * i }));
    const frame: Frame = { seq: 9, events: [{ type: 'typing', clientId: 'c9', user: { id: 'u', name: 'U', color: '#000000' } }, ...cursors] };
    const wire = toWireFrame(frame);
    expect(wire.events.map((e) => e.type)).toEqual(['typing', 'cursors']);
    const json = JSON.stringify(wire);
    expect(fromWireFrame(JSON.parse(json))).toEqual(frame);
    // Each cursor costs well under half its plain JSON.
    const plain = JSON.stringify(frame).length;
    expect(json.length).toBeLessThan(plain * 0.5);
  });

  it('carries a laser pointer’s position whole, flag included, beside the packed cursors; a view as it is', () => {
    const frame: Frame = {
      seq: 4,
      events: [
        { type: 'cursor', clientId: 'c1', x: 1, y: 2 },
        { type: 'cursor', clientId: 'c2', x: 3.5, y: -4, laser: true },
        { type: 'view', clientId: 'c2', x: -10, y: 20, w: 1280, h: 800 },
      ],
    };
    const wire = toWireFrame(frame);
    expect(wire.events.map((e) => e.type)).toEqual(['cursors', 'cursor', 'view']);
    expect(fromWireFrame(JSON.parse(JSON.stringify(wire))).events).toEqual(expect.arrayContaining(frame.events));
    expect(fromWireFrame(JSON.parse(JSON.stringify(wire))).events).toHaveLength(3);
  });
});
