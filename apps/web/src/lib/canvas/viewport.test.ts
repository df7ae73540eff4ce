import { describe, expect, it } from 'vitest';
import { fitBox, panBy, steppedZoom, toScreen, toWorld, visibleBox, zoomAt, MAX_ZOOM, MIN_ZOOM } from './viewport.js';

describe('viewport', () => {
  it('maps screen and world coordinates both ways', () => {
    const v = { x: 100, y: -50, zoom: 2 };
    expect(toWorld(v, 40, 60)).toEqual([120, -20]);
    expect(toScreen(v, 120, -20)).toEqual([40, 60]);
  });

  it('zooms around the pointer: the world point under it stays put', () => {
    const v = { x: 10, y: 20, zoom: 1 };
    const before = toWorld(v, 300, 200);
    const next = zoomAt(v, 3, 300, 200);
    expect(next.zoom).toBe(3);
    const after = toWorld(next, 300, 200);
    expect(after[0]).toBeCloseTo(before[0]);
    expect(after[1]).toBeCloseTo(before[1]);
    expect(zoomAt(v, 1e9, 0, 0).zoom).toBe(MAX_ZOOM);
    expect(zoomAt(v, 0, 0, 0).zoom).toBe(MIN_ZOOM);
  });

  it('pans so that content follows the pointer', () => {
    const v = panBy({ x: 0, y: 0, zoom: 2 }, 20, -10);
    expect(toScreen(v, 0, 0)).toEqual([20, -10]);
  });

  it('steps through zoom levels', () => {
    expect(steppedZoom(1, 1)).toBe(1.25);
    expect(steppedZoom(1, -1)).toBe(0.75);
    expect(steppedZoom(1.1, -1)).toBe(1);
  });

  it('fits a box in the screen, centred, never above 100 %', () => {
    const v = fitBox({ minX: 0, minY: 0, maxX: 2000, maxY: 1000 }, 1000, 600, 0);
    expect(v.zoom).toBeCloseTo(0.5);
    const view = visibleBox(v, 1000, 600);
    expect((view.minX + view.maxX) / 2).toBeCloseTo(1000);
    expect((view.minY + view.maxY) / 2).toBeCloseTo(500);
    expect(fitBox({ minX: 0, minY: 0, maxX: 10, maxY: 10 }, 1000, 600).zoom).toBe(1);
  });
});
