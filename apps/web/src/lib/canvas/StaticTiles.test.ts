import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Element, Rectangle } from '@inkboard/protocol';
import type { Scene } from './renderScene.js';
import { StaticTiles, TILE } from './StaticTiles.js';

/*
 * The tile cache without a browser: canvases are stubs that count the elements drawn into them (each
 * rectangle here is one `stroke` call), so the tests see which tiles an edit redraws.
 */

let strokes = 0;
/** Milliseconds each element takes to draw (a slow machine). */
let slowMs = 0;

class StubContext {
  canvas: { width: number; height: number };
  globalAlpha = 1;
  fillStyle = '';
  strokeStyle = '';
  lineWidth = 1;
  lineCap = 'butt';
  lineJoin = 'miter';
  font = '';
  textAlign = 'left';
  textBaseline = 'alphabetic';
  imageSmoothingEnabled = true;
  constructor(canvas: { width: number; height: number }) {
    this.canvas = canvas;
  }
  stroke() {
    strokes++;
    const until = performance.now() + slowMs;
    while (performance.now() < until);
  }
  getImageData() {
    return { data: new Uint8ClampedArray(4) };
  }
  measureText(text: string) {
    return { width: text.length * 10 };
  }
}
for (const name of ['setTransform', 'fillRect', 'clearRect', 'drawImage', 'fill', 'fillText', 'save', 'restore', 'translate', 'rotate', 'transform', 'scale', 'strokeRect']) {
  Object.defineProperty(StubContext.prototype, name, { value: () => {} });
}

class StubCanvas {
  private readonly ctx: StubContext;
  constructor(
    public width: number,
    public height: number,
  ) {
    this.ctx = new StubContext(this);
  }
  getContext() {
    return this.ctx;
  }
}

class StubPath {}
for (const name of ['moveTo', 'lineTo', 'quadraticCurveTo', 'closePath', 'roundRect', 'ellipse', 'arc', 'addPath']) {
  Object.defineProperty(StubPath.prototype, name, { value: () => {} });
}

const globals = globalThis as Record<string, unknown>;
const saved = { OffscreenCanvas: globals.OffscreenCanvas, Path2D: globals.Path2D };
beforeAll(() => {
  globals.OffscreenCanvas = StubCanvas;
  globals.Path2D = StubPath;
});
afterAll(() => {
  globals.OffscreenCanvas = saved.OffscreenCanvas;
  globals.Path2D = saved.Path2D;
});

const rect = (id: string, z: string, x: number, y: number): Rectangle => ({
  type: 'rectangle', id, z, x, y, width: 50, height: 50, fillColor: 'transparent', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1,
});

function scene(elements: Element[], extra: Partial<Scene> = {}): Scene {
  return { elements, hidden: new Set(), overlays: [], faded: new Set(), moving: null, selection: [], frame: null, marquee: null, viewport: { x: 0, y: 0, zoom: 1 }, background: '#ffffff', ...extra };
}

/** The screen: two tiles wide, one high, at zoom 1 and a device pixel ratio of 1. */
const W = 2 * TILE;
const H = TILE;
const screen = new StubCanvas(W, H).getContext() as unknown as CanvasRenderingContext2D;
let clock = 1_000;

/** One frame: how many elements it drew into tiles. */
function frame(tiles: StaticTiles, s: Scene): number {
  const before = strokes;
  tiles.sync(s, 1);
  clock += 16;
  tiles.paint(screen, s.viewport, W, H, clock);
  return strokes - before;
}

describe('StaticTiles', () => {
  const a = rect('a', 'a2', 10, 10); // tile (0, 0)
  const b = rect('b', 'a3', 600, 10); // tile (1, 0)
  const c = rect('c', 'a4', 1100, 10); // tile (2, 0): off screen, in the ring drawn ahead
  let tiles: StaticTiles;

  beforeEach(() => {
    slowMs = 0;
    tiles = new StaticTiles(10_000);
  });

  it('draws each element once, then nothing while nothing changes', () => {
    const s = scene([a, b, c]);
    expect(frame(tiles, s)).toBe(3);
    expect(frame(tiles, s)).toBe(0);
    expect(frame(tiles, scene([a, b, c]))).toBe(0); // a new scene with the same elements
  });

  it('redraws only the tiles over the old and new place of a changed element', () => {
    frame(tiles, scene([a, b, c]));
    const moved = { ...b, x: 700 };
    expect(frame(tiles, scene([a, moved, c]))).toBe(1); // tile (1, 0) alone: b
    // The server's echo of one's own edit (an equal copy) redraws nothing.
    expect(frame(tiles, scene([a, { ...moved }, c]))).toBe(0);
    // Moved across a tile edge: both tiles are redrawn.
    expect(frame(tiles, scene([a, { ...moved, x: 200 }, c]))).toBe(2 + 0); // tile (0, 0): a and b; tile (1, 0): now empty
    expect(tiles.stats().drawing).toBe(0);
  });

  it('draws an element added on top onto the tile as it is, and redraws the tile for one added underneath', () => {
    frame(tiles, scene([a, b, c]));
    const top = rect('d', 'a9', 100, 100);
    expect(frame(tiles, scene([a, b, c, top]))).toBe(1);
    const under = rect('e', 'a1', 200, 200);
    expect(frame(tiles, scene([under, a, b, c, top]))).toBe(3); // tile (0, 0) again: e, a, d
  });

  it('redraws on invalidate(box) and invalidateAll() without any element changing', () => {
    const s = scene([a, b, c]);
    frame(tiles, s);
    tiles.invalidate({ minX: 650, minY: 0, maxX: 660, maxY: 10 });
    expect(frame(tiles, s)).toBe(1);
    tiles.invalidateAll();
    expect(frame(tiles, s)).toBe(3);
  });

  it('reuses tiles when panning', () => {
    frame(tiles, scene([a, b, c]));
    expect(frame(tiles, scene([a, b, c], { viewport: { x: TILE, y: 0, zoom: 1 } }))).toBe(0);
  });

  it('leaves a moving selection (and hidden elements) out of the tiles', () => {
    frame(tiles, scene([a, b, c]));
    const d = rect('d', 'a5', 300, 300);
    frame(tiles, scene([a, b, c, d]));
    expect(frame(tiles, scene([a, b, c, d], { moving: { ids: new Set(['a']), dx: 5, dy: 5 } }))).toBe(1); // tile (0, 0) with d only
    expect(frame(tiles, scene([a, b, c, d], { moving: null, hidden: new Set(['b']) }))).toBe(2 + 0); // a back in (a, d); b out (tile 1 empty)
  });

  it('never spends much more than its budget in a frame, and finishes over several frames', () => {
    const many = Array.from({ length: 40 }, (_, i) => rect(`m${String(i).padStart(2, '0')}`, `a${String(i).padStart(2, '0')}`, 10 + (i % 8) * 60, 10 + Math.floor(i / 8) * 60));
    slowMs = 2;
    tiles = new StaticTiles(6);
    const s = scene(many);
    let frames = 0;
    let total = 0;
    do {
      const n = frame(tiles, s);
      expect(n).toBeLessThanOrEqual(5); // 6 ms of 2 ms elements, rounded up by one
      total += n;
      frames++;
    } while (tiles.stats().drawing > 0 && frames < 100);
    expect(total).toBe(40);
    expect(frames).toBeGreaterThan(5);
  });

  it('adds an element drawn on top to a tile being drawn without starting it over', () => {
    const many = Array.from({ length: 20 }, (_, i) => rect(`m${String(i).padStart(2, '0')}`, `a${String(i).padStart(2, '0')}`, 10 + (i % 8) * 60, 10 + Math.floor(i / 8) * 60));
    slowMs = 2;
    tiles = new StaticTiles(6);
    let total = frame(tiles, scene(many));
    expect(tiles.stats().drawing).toBeGreaterThan(0);
    const top = rect('top', 'b0', 100, 100);
    const withTop = scene([...many, top]);
    for (let i = 0; i < 100 && (i === 0 || tiles.stats().drawing > 0); i++) total += frame(tiles, withTop);
    expect(total).toBe(21); // every element once: nothing drawn twice
  });

  it('keeps the number of tiles bounded', () => {
    const s = scene([a, b, c]);
    for (let i = 0; i < 200; i++) frame(tiles, { ...s, viewport: { x: i * TILE, y: 0, zoom: 1 } });
    expect(tiles.stats().tiles).toBeLessThanOrEqual(48);
  });
});
