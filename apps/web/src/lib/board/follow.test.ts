import { describe, expect, it } from 'vitest';
import { MAX_ZOOM } from '../canvas/viewport.js';
import { rectOf, viewportShowing } from './follow.js';

describe('viewportShowing', () => {
  it('shows the same rectangle on a screen of the same size', () => {
    const leader = { x: -120, y: 40, zoom: 1.5 };
    const v = viewportShowing(rectOf(leader, 1280, 800), 1280, 800);
    expect(v.zoom).toBeCloseTo(1.5);
    expect(v.x).toBeCloseTo(-120);
    expect(v.y).toBeCloseTo(40);
  });

  it('fits the whole rectangle, centred, on a smaller or differently shaped screen', () => {
    const view = { x: 0, y: 0, w: 1000, h: 500 };
    const v = viewportShowing(view, 500, 500);
    expect(v.zoom).toBeCloseTo(0.5);
    // Centre (500, 250) stays at the screen's centre; the full width fits.
    expect(v.x + 250 / v.zoom).toBeCloseTo(500);
    expect(v.y + 250 / v.zoom).toBeCloseTo(250);
    const shown = rectOf(v, 500, 500);
    expect(shown.x).toBeLessThanOrEqual(0);
    expect(shown.x + shown.w).toBeGreaterThanOrEqual(1000);
  });

  it('keeps the zoom within the editor’s limits', () => {
    expect(viewportShowing({ x: 0, y: 0, w: 0.1, h: 0.1 }, 1000, 1000).zoom).toBe(MAX_ZOOM);
  });
});
