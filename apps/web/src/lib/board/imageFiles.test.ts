import { describe, expect, it } from 'vitest';
import { layoutImages, looksLikeImage, UploadError, uploadErrorMessage, withAspect } from './imageFiles.js';

const view = { width: 1000, height: 800 };

describe('layoutImages', () => {
  it('keeps a small picture at its pixel size, centred on the point', () => {
    expect(layoutImages([{ width: 200, height: 100 }], { x: 500, y: 500 }, view)).toEqual([{ x: 400, y: 450, width: 200, height: 100 }]);
  });

  it('shrinks a big picture to 60% of the view, keeping its aspect', () => {
    const [p] = layoutImages([{ width: 4000, height: 1000 }], { x: 0, y: 0 }, view);
    expect(p!.width).toBe(600);
    expect(p!.height).toBe(150);
    const [q] = layoutImages([{ width: 1000, height: 4000 }], { x: 0, y: 0 }, view);
    expect(q!.height).toBe(480);
    expect(q!.width).toBe(120);
  });

  it('lays several side by side without overlapping, the row centred and within the view', () => {
    const placed = layoutImages(
      [
        { width: 300, height: 200 },
        { width: 300, height: 300 },
        { width: 300, height: 100 },
      ],
      { x: 500, y: 400 },
      view,
    );
    expect(placed).toHaveLength(3);
    for (let i = 1; i < placed.length; i++) expect(placed[i]!.x).toBeGreaterThan(placed[i - 1]!.x + placed[i - 1]!.width);
    const left = placed[0]!.x;
    const right = placed[2]!.x + placed[2]!.width;
    expect(right - left).toBeLessThanOrEqual(900 + 0.05);
    expect((left + right) / 2).toBeCloseTo(500, 1);
    // Each keeps its aspect ratio and is centred vertically on the point.
    for (const [i, p] of placed.entries()) {
      const ratio = [1.5, 1, 3][i]!;
      expect(p.width / p.height).toBeCloseTo(ratio, 1);
      expect(p.y + p.height / 2).toBeCloseTo(400, 1);
    }
  });

  it('does not fit into a view of no size (the canvas not laid out yet)', () => {
    expect(layoutImages([{ width: 300, height: 200 }], { x: 0, y: 0 }, { width: 0, height: 0 })).toEqual([{ x: -150, y: -100, width: 300, height: 200 }]);
  });

  it('places nothing for no files', () => {
    expect(layoutImages([], { x: 0, y: 0 }, view)).toEqual([]);
  });
});

describe('withAspect', () => {
  it('turns the placeholder box to the stored aspect about its middle', () => {
    expect(withAspect({ x: 0, y: 0, width: 200, height: 100 }, 400, 400)).toEqual({ x: 0, y: -50, width: 200, height: 200 });
  });
});

describe('upload helpers', () => {
  it('takes image types and picture names without a type', () => {
    expect(looksLikeImage({ type: 'image/png', name: 'a' })).toBe(true);
    expect(looksLikeImage({ type: 'text/plain', name: 'a.png' })).toBe(false);
    expect(looksLikeImage({ type: '', name: 'photo.JPG' })).toBe(true);
    expect(looksLikeImage({ type: '', name: 'notes.txt' })).toBe(false);
  });

  it("says the server's message, else what the status means", () => {
    expect(uploadErrorMessage(413, JSON.stringify({ error: 'PAYLOAD_TOO_LARGE', message: 'An image may be at most 10 MiB.' }))).toBe('An image may be at most 10 MiB.');
    expect(uploadErrorMessage(413, '<html>nginx</html>')).toBe('The file is too large.');
    expect(uploadErrorMessage(500, '')).toContain('HTTP 500');
  });

  it('tells transient refusals (no answer, busy) from final ones', () => {
    expect(new UploadError('x', 0).transient).toBe(true);
    expect(new UploadError('x', 429, 3).transient).toBe(true);
    expect(new UploadError('x', 503).transient).toBe(true);
    expect(new UploadError('x', 415).transient).toBe(false);
    expect(new UploadError('x', 403).transient).toBe(false);
  });
});
