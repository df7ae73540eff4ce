import type { Box } from '@inkboard/protocol';

/** The camera: the world point at the screen's top-left corner and the scale (screen px per world unit). */
export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 20;
export const ZOOM_STEPS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4, 6, 8, 12, 20];

export const initialViewport: Viewport = { x: 0, y: 0, zoom: 1 };

export const clampZoom = (zoom: number) => Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));

export function toWorld(v: Viewport, sx: number, sy: number): [number, number] {
  return [sx / v.zoom + v.x, sy / v.zoom + v.y];
}

export function toScreen(v: Viewport, wx: number, wy: number): [number, number] {
  return [(wx - v.x) * v.zoom, (wy - v.y) * v.zoom];
}

/** Moves the camera by a screen-space delta (content follows the pointer). */
export function panBy(v: Viewport, dx: number, dy: number): Viewport {
  return { x: v.x - dx / v.zoom, y: v.y - dy / v.zoom, zoom: v.zoom };
}

/** Zooms to `zoom` keeping the world point under the screen point (sx, sy) in place. */
export function zoomAt(v: Viewport, zoom: number, sx: number, sy: number): Viewport {
  const next = clampZoom(zoom);
  const [wx, wy] = toWorld(v, sx, sy);
  return { x: wx - sx / next, y: wy - sy / next, zoom: next };
}

/** The next zoom step in `direction` (+1 in, -1 out) from `zoom`. */
export function steppedZoom(zoom: number, direction: 1 | -1): number {
  if (direction > 0) return ZOOM_STEPS.find((z) => z > zoom + 1e-6) ?? MAX_ZOOM;
  return [...ZOOM_STEPS].reverse().find((z) => z < zoom - 1e-6) ?? MIN_ZOOM;
}

/** The world box the screen shows. */
export function visibleBox(v: Viewport, width: number, height: number): Box {
  return { minX: v.x, minY: v.y, maxX: v.x + width / v.zoom, maxY: v.y + height / v.zoom };
}

/** A camera that shows `box` centred in a `width` x `height` screen, never zooming in past 100 %. */
export function fitBox(box: Box, width: number, height: number, padding = 48): Viewport {
  const w = Math.max(1, box.maxX - box.minX);
  const h = Math.max(1, box.maxY - box.minY);
  const zoom = clampZoom(Math.min(1, (width - 2 * padding) / w, (height - 2 * padding) / h));
  const cx = (box.minX + box.maxX) / 2;
  const cy = (box.minY + box.maxY) / 2;
  return { x: cx - width / 2 / zoom, y: cy - height / 2 / zoom, zoom };
}

export function boxesIntersect(a: Box, b: Box): boolean {
  return a.minX <= b.maxX && a.maxX >= b.minX && a.minY <= b.maxY && a.maxY >= b.minY;
}

export function boxContains(outer: Box, inner: Box): boolean {
  return inner.minX >= outer.minX && inner.maxX <= outer.maxX && inner.minY >= outer.minY && inner.maxY <= outer.maxY;
}

/** The normalized box between two corners. */
export function boxFrom(ax: number, ay: number, bx: number, by: number): Box {
  return { minX: Math.min(ax, bx), minY: Math.min(ay, by), maxX: Math.max(ax, bx), maxY: Math.max(ay, by) };
}
