import type { Box, Element } from '@inkboard/protocol';
import { boundsOf } from './geometryCache.js';
import { drawMovingElements, type Scene } from './renderScene.js';

/** Selections of more elements than this are moved as one bitmap while dragged (fewer are drawn each frame, sharp). */
export const MIN_CACHED_MOVING = 40;
/** The bitmap's longest side in device pixels; a bigger selection is held at a lower resolution while it moves. */
const MAX_SIDE = 4096;

type Ctx = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
type LayerCanvas = HTMLCanvasElement | OffscreenCanvas;

interface Cached extends Bitmap {
  ids: ReadonlySet<string>;
  elements: readonly Element[];
  hidden: ReadonlySet<string>;
  level: number;
}

/**
 * A dragged, resized or turned selection of many elements drawn once into a bitmap when the gesture
 * starts, then moved (or scaled and turned, as the selection's affine `matrix` says) every frame: one
 * copy in place of hundreds of paths rasterized per frame. The drop draws them sharp again (tiles).
 */
export class MovingLayer {
  private cached: Cached | null = null;

  clear(): void {
    this.cached = null;
  }

  /**
   * Draws the scene's moving selection from the bitmap on `ctx` (set to the camera `v` at `dpr`, showing
   * `view`); false when it is not cached (a small selection, or a resize drawn exactly).
   */
  draw(ctx: Ctx, scene: Scene, v: { zoom: number }, dpr: number, view: Box): boolean {
    const moving = scene.moving;
    if (!moving || (moving.replaced && !moving.matrix) || moving.ids.size <= MIN_CACHED_MOVING) {
      this.cached = null;
      return false;
    }
    const level = v.zoom * dpr;
    // The part of the board the bitmap must hold: what is on screen, before the move.
    const needed = { minX: view.minX - moving.dx, minY: view.minY - moving.dy, maxX: view.maxX - moving.dx, maxY: view.maxY - moving.dy };
    let c = this.cached;
    const stale = !c || c.ids !== moving.ids || c.elements !== scene.elements || c.level !== level || !sameSet(c.hidden, scene.hidden);
    const outside = c !== null && c.clipped && !moving.matrix && !inside(needed, c.region);
    if (stale || outside) c = this.cached = this.render(scene, level, view, needed);
    if (!c) return false;
    ctx.save();
    // Moved by whole device pixels: the bitmap is copied without resampling.
    ctx.translate(Math.round(moving.dx * level) / level, Math.round(moving.dy * level) / level);
    if (moving.matrix) ctx.transform(...moving.matrix);
    blitBitmap(ctx, c, !!moving.matrix || c.scale !== level);
    ctx.restore();
    return true;
  }

  private render(scene: Scene, level: number, view: Box, needed: Box): Cached | null {
    const ids = scene.moving!.ids;
    let all: Box | null = null;
    for (const el of scene.elements) {
      if (!ids.has(el.id) && !(el.type === 'text' && el.containerId && ids.has(el.containerId))) continue;
      all = all ? union(all, boundsOf(el)) : boundsOf(el);
    }
    if (!all) return null;
    // Everything selected, or (a selection far bigger than the screen) what is within a screen of the view.
    const bitmap = renderBitmap(all, level, around(view, needed), (ctx) => drawMovingElements(ctx, scene), this.cached?.canvas);
    return bitmap && { ...bitmap, ids, elements: scene.elements, hidden: scene.hidden, level };
  }
}

/** Elements drawn once into a bitmap: the world box it holds, at `scale` pixels per world unit. */
export interface Bitmap {
  canvas: LayerCanvas;
  region: Box;
  scale: number;
  /** The elements reach past `region` (only what is near the screen was drawn). */
  clipped: boolean;
}

export const union = (a: Box, b: Box): Box => ({ minX: Math.min(a.minX, b.minX), minY: Math.min(a.minY, b.minY), maxX: Math.max(a.maxX, b.maxX), maxY: Math.max(a.maxY, b.maxY) });

/** The screen `view` and the box `needed`, with a screen's width and height more on every side. */
export function around(view: Box, needed: Box = view): Box {
  const w = view.maxX - view.minX;
  const h = view.maxY - view.minY;
  return { minX: Math.min(view.minX, needed.minX) - w, minY: Math.min(view.minY, needed.minY) - h, maxX: Math.max(view.maxX, needed.maxX) + w, maxY: Math.max(view.maxY, needed.maxY) + h };
}

/**
 * Draws with `paint` (world coordinates) into a transparent bitmap of what lies in `bounds` and in
 * `within`, at `level` device pixels per world unit (less for a bitmap over `MAX_SIDE`); reuses
 * `reuse` when it has the size. Null when nothing is there.
 */
export function renderBitmap(bounds: Box, level: number, within: Box, paint: (ctx: Ctx) => void, reuse?: LayerCanvas): Bitmap | null {
  const region = { minX: Math.max(bounds.minX, within.minX), minY: Math.max(bounds.minY, within.minY), maxX: Math.min(bounds.maxX, within.maxX), maxY: Math.min(bounds.maxY, within.maxY) };
  if (region.maxX <= region.minX || region.maxY <= region.minY) return null;
  const clipped = region.minX > bounds.minX || region.minY > bounds.minY || region.maxX < bounds.maxX || region.maxY < bounds.maxY;
  const scale = Math.min(level, MAX_SIDE / (region.maxX - region.minX), MAX_SIDE / (region.maxY - region.minY));
  // On whole pixels of the bitmap (and of the screen when not scaled down), a pixel of margin for antialiasing.
  region.minX = Math.floor(region.minX * scale - 1) / scale;
  region.minY = Math.floor(region.minY * scale - 1) / scale;
  region.maxX = Math.ceil(region.maxX * scale + 1) / scale;
  region.maxY = Math.ceil(region.maxY * scale + 1) / scale;
  const pw = Math.round((region.maxX - region.minX) * scale);
  const ph = Math.round((region.maxY - region.minY) * scale);
  const canvas = reuse && reuse.width === pw && reuse.height === ph ? reuse : createCanvas(pw, ph);
  const ctx = canvas.getContext('2d') as Ctx | null;
  if (!ctx) return null;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, pw, ph);
  ctx.setTransform(scale, 0, 0, scale, -region.minX * scale, -region.minY * scale);
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  paint(ctx);
  ctx.globalAlpha = 1;
  return { canvas, region, scale, clipped };
}

/** Copies a bitmap onto `ctx` (set to world coordinates), resampled only when `smooth`. */
export function blitBitmap(ctx: Ctx, bitmap: Bitmap, smooth: boolean): void {
  const r = bitmap.region;
  ctx.globalAlpha = 1;
  ctx.imageSmoothingEnabled = smooth;
  ctx.drawImage(bitmap.canvas, r.minX, r.minY, r.maxX - r.minX, r.maxY - r.minY);
  ctx.imageSmoothingEnabled = true;
}

/** Whether `inner` lies within `outer`. */
export const inside = (inner: Box, outer: Box) => inner.minX >= outer.minX && inner.minY >= outer.minY && inner.maxX <= outer.maxX && inner.maxY <= outer.maxY;

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) => a === b || (a.size === b.size && [...a].every((id) => b.has(id)));

function createCanvas(width: number, height: number): LayerCanvas {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  return c;
}
