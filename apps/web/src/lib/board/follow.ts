import { clampZoom, type Viewport } from '../canvas/viewport.js';

/** A world rectangle someone's screen shows (as announced in `view` events). */
export interface ViewRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The camera that shows all of `view` centred on a `width` x `height` screen (as large as it fits). */
export function viewportShowing(view: ViewRect, width: number, height: number): Viewport {
  const zoom = clampZoom(Math.min(width / view.w, height / view.h));
  const cx = view.x + view.w / 2;
  const cy = view.y + view.h / 2;
  return { x: cx - width / 2 / zoom, y: cy - height / 2 / zoom, zoom };
}

/** The world rectangle a camera shows on a `width` x `height` screen. */
export function rectOf(viewport: Viewport, width: number, height: number): ViewRect {
  return { x: viewport.x, y: viewport.y, w: width / viewport.zoom, h: height / viewport.zoom };
}
