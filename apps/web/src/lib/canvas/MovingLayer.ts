import type { Box, Element } from '@inkboard/protocol';
import { boundsOf } from './geometryCache.js';
import { drawMovingElements, type Scene } from './renderScene.js';

/** Selections of more elements than this are moved as one bitmap while dragged (fewer are drawn each frame, sharp). */
export const MIN_CACHED_MOVING = 40;
/** The bitmap's longest side in device pixels; a bigger selection is held at a lower resolution while it moves. */
const MAX_SIDE = 4096;

type Ctx = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
type LayerCanvas = HTMLCanvasElement | OffscreenCanvas;

interface Cached {
  ids: ReadonlySet<string>;
  elements: readonly Element[];
  hidden: ReadonlySet<string>;
  level: number;
  canvas: LayerCanvas;
  /** The world box the bitmap holds (on whole device pixels), its pixels per world unit, and whether the selection reaches past it. */
  region: Box;
  scale: number;
  clipped: boolean;
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
    const outside = c !== null && c.clipped && !moving.matrix && !(needed.minX >= c.region.minX && needed.minY >= c.region.minY && needed.maxX <= c.region.maxX && needed.maxY <= c.region.maxY);
    if (stale || outside) c = this.cached = this.render(scene, level, view, needed);
    if (!c) return false;
    ctx.save();
    // Moved by whole device pixels: the bitmap is copied without resampling.
    ctx.translate(Math.round(moving.dx * level) / level, Math.round(moving.dy * level) / level);
    if (moving.matrix) ctx.transform(...moving.matrix);
    ctx.globalAlpha = 1;
    ctx.imageSmoothingEnabled = !!moving.matrix || c.scale !== level;
    const r = c.region;
    ctx.drawImage(c.canvas, r.minX, r.minY, r.maxX - r.minX, r.maxY - r.minY);
    ctx.imageSmoothingEnabled = true;
    ctx.restore();
    return true;
  }

  private render(scene: Scene, level: number, view: Box, needed: Box): Cached | null {
    const ids = scene.moving!.ids;
    let all: Box | null = null;
    for (const el of scene.elements) {
      if (!ids.has(el.id) && !(el.type === 'text' && el.containerId && ids.has(el.containerId))) continue;
      const b = boundsOf(el);
      all = all ? { minX: Math.min(all.minX, b.minX), minY: Math.min(all.minY, b.minY), maxX: Math.max(all.maxX, b.maxX), maxY: Math.max(all.maxY, b.maxY) } : b;
    }
    if (!all) return null;
    // Everything selected, or (a selection far bigger than the screen) what is within a screen of the view.
    const w = view.maxX - view.minX;
    const h = view.maxY - view.minY;
    const around = { minX: Math.min(view.minX, needed.minX) - w, minY: Math.min(view.minY, needed.minY) - h, maxX: Math.max(view.maxX, needed.maxX) + w, maxY: Math.max(view.maxY, needed.maxY) + h };
    const region = { minX: Math.max(all.minX, around.minX), minY: Math.max(all.minY, around.minY), maxX: Math.min(all.maxX, around.maxX), maxY: Math.min(all.maxY, around.maxY) };
    if (region.maxX <= region.minX || region.maxY <= region.minY) return null;
    const clipped = region.minX > all.minX || region.minY > all.minY || region.maxX < all.maxX || region.maxY < all.maxY;
    const scale = Math.min(level, MAX_SIDE / (region.maxX - region.minX), MAX_SIDE / (region.maxY - region.minY));
    // On whole pixels of the bitmap (and of the screen when not scaled down), a pixel of margin for antialiasing.
    region.minX = Math.floor(region.minX * scale - 1) / scale;
    region.minY = Math.floor(region.minY * scale - 1) / scale;
    region.maxX = Math.ceil(region.maxX * scale + 1) / scale;
    region.maxY = Math.ceil(region.maxY * scale + 1) / scale;
    const pw = Math.round((region.maxX - region.minX) * scale);
    const ph = Math.round((region.maxY - region.minY) * scale);
    const reuse = this.cached?.canvas;
    const canvas = reuse && reuse.width === pw && reuse.height === ph ? reuse : createCanvas(pw, ph);
    const ctx = canvas.getContext('2d') as Ctx | null;
    if (!ctx) return null;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, pw, ph);
    ctx.setTransform(scale, 0, 0, scale, -region.minX * scale, -region.minY * scale);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    drawMovingElements(ctx, scene);
    return { ids, elements: scene.elements, hidden: scene.hidden, level, canvas, region, scale, clipped };
  }
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) => a === b || (a.size === b.size && [...a].every((id) => b.has(id)));

function createCanvas(width: number, height: number): LayerCanvas {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  return c;
}
