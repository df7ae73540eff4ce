import { elementCenter, FONT_FAMILIES, layoutNote, layoutText, resolvedArrowPoints, type Arrow, type Box, type Element, type SelectionFrame, type TextLayout } from '@inkboard/protocol';
import { boundsOf, pathOf } from './geometryCache.js';
import { drawElementOutlines, drawFrame } from './handles.js';
import { drawImageElement } from './images.js';
import { boxesIntersect, visibleBox, type Viewport } from './viewport.js';

export const SELECTION_COLOR = '#6965db';

/** An element drawn over the board: one's own shape in progress or another person's preview. */
export interface Overlay {
  element: Element;
  /** Still growing: its end is drawn open (perfect-freehand's `last: false`). */
  live: boolean;
}

/** Everything one frame shows. */
export interface Scene {
  /** Stored elements in paint order. */
  elements: readonly Element[];
  /** Ids not to draw from `elements` (shown as an overlay or in the text editor instead). */
  hidden: ReadonlySet<string>;
  overlays: readonly Overlay[];
  /** Drawn faded: about to be erased. */
  faded: ReadonlySet<string>;
  /**
   * A selection being dragged: these ids are drawn moved by dx, dy; while resized or turned, drawn as
   * `replaced` has them (with their labels and bound arrows), or, for a big selection, as they are
   * under the affine `matrix` (cached paths: no geometry rebuilt per frame; followers still as `replaced`).
   */
  moving: { ids: ReadonlySet<string>; dx: number; dy: number; replaced?: ReadonlyMap<string, Element>; matrix?: readonly [number, number, number, number, number, number] } | null;
  /** Outlines of selected elements (each its own frame, turned with it; world units). */
  selection: readonly SelectionFrame[];
  /** The selection's frame (turned with a lone turned element) and whether it shows transform handles. */
  frame: { frame: SelectionFrame; handles: boolean } | null;
  marquee: Box | null;
  viewport: Viewport;
  background: string;
}

/** Sets a context to draw world coordinates for the camera at `dpr`. */
export function setCamera(ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D, v: Viewport, dpr: number): void {
  const k = v.zoom * dpr;
  ctx.setTransform(k, 0, 0, k, -v.x * k, -v.y * k);
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
}

/**
 * The stored elements that are not moving, hidden or previewed: what changes rarely, so the renderer
 * can keep it as a bitmap. Off-screen elements (outside `view`) and invisibly small ones are skipped.
 * Returns how many were drawn.
 */
export function drawStaticLayer(ctx: Ctx, scene: Scene, view: Box): number {
  const minSize = 0.5 / scene.viewport.zoom;
  const moving = scene.moving?.ids;
  const lookup = lookupIn(scene.elements);
  let drawn = 0;
  for (const el of scene.elements) {
    if (scene.hidden.has(el.id) || (moving && (isMoving(el, moving) || isFollower(el, moving)))) continue;
    const box = boundsOf(el);
    if (!boxesIntersect(box, view) || (box.maxX - box.minX < minSize && box.maxY - box.minY < minSize)) continue;
    drawElement(ctx, el, scene.faded.has(el.id) ? 0.25 : 1, false, lookup);
    drawn++;
  }
  ctx.globalAlpha = 1;
  return drawn;
}

/**
 * The moving selection as stored (with its labels), before its move or transform: what a cached
 * bitmap of it holds (a drag or a big resize moves that bitmap instead of drawing each element).
 */
export function drawMovingElements(ctx: Ctx, scene: Scene): void {
  const ids = scene.moving?.ids;
  if (!ids) return;
  const stored = lookupIn(scene.elements);
  for (const el of scene.elements) if (isMoving(el, ids) && !scene.hidden.has(el.id)) drawElement(ctx, el, 1, false, stored);
  ctx.globalAlpha = 1;
}

/**
 * What changes from frame to frame: a dragged selection, shapes in progress, selection outlines.
 * `drawCachedMoving` may draw the moving selection itself (from a bitmap, set to the camera), returning false when it cannot.
 */
export function drawDynamicLayer(ctx: Ctx, scene: Scene, view: Box, drawCachedMoving?: (ctx: Ctx) => boolean): void {
  const moving = scene.moving;
  if (moving) {
    const { replaced, matrix } = moving;
    const stored = lookupIn(scene.elements);
    const lookup: Lookup = replaced ? (id) => replaced.get(id) ?? stored(id) : stored;
    if (!drawCachedMoving?.(ctx)) {
      ctx.save();
      ctx.translate(moving.dx, moving.dy);
      if (matrix) ctx.transform(...matrix);
      const own = matrix ? undefined : replaced;
      for (const el of scene.elements) if (isMoving(el, moving.ids) && !scene.hidden.has(el.id)) drawElement(ctx, own?.get(el.id) ?? el, 1, false, matrix ? stored : lookup);
      ctx.restore();
    }
    // Arrows bound to what is dragged: their bound ends follow the dragged shapes.
    const shifted: Lookup = (id) => {
      const target = lookup(id);
      return target && moving.ids.has(id) ? { ...target, x: target.x + moving.dx, y: target.y + moving.dy } : target;
    };
    for (const el of scene.elements) if (isFollower(el, moving.ids) && !scene.hidden.has(el.id)) drawElement(ctx, replaced?.get(el.id) ?? el, 1, false, shifted);
  }
  // An overlay's bound ends and label follow the overlays of their shapes (a shape someone drags).
  const stored = lookupIn(scene.elements);
  const overlaid = scene.overlays.length > 1 ? new Map(scene.overlays.map((o) => [o.element.id, o.element])) : null;
  const overlayLookup: Lookup = overlaid ? (id) => overlaid.get(id) ?? stored(id) : stored;
  for (const overlay of scene.overlays) {
    if (boxesIntersect(boundsOf(overlay.element), view)) drawElement(ctx, overlay.element, 1, overlay.live, overlayLookup);
  }
  ctx.globalAlpha = 1;
  drawSelection(ctx, scene, scene.viewport.zoom);
}

type Ctx = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

/** Draws a whole scene without any cache (a canvas of `width` x `height` CSS pixels at `dpr`). */
export function renderScene(ctx: Ctx, scene: Scene, width: number, height: number, dpr: number): void {
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.globalAlpha = 1;
  ctx.fillStyle = scene.background;
  ctx.fillRect(0, 0, width, height);
  setCamera(ctx, scene.viewport, dpr);
  const view = visibleBox(scene.viewport, width, height);
  drawStaticLayer(ctx, scene, view);
  drawDynamicLayer(ctx, scene, view);
}

/**
 * Ids of stored elements the static layer leaves out: hidden ones, the moving selection with its
 * labels, and arrows bound to it (drawn each frame by the dynamic layer).
 */
export function staticExclusions(scene: Scene): Set<string> {
  const out = new Set(scene.hidden);
  const moving = scene.moving?.ids;
  if (moving) for (const el of scene.elements) if (isMoving(el, moving) || isFollower(el, moving)) out.add(el.id);
  return out;
}

/** A label moves with its container: it is drawn with the moving selection when its container is in it. */
function isMoving(el: Element, ids: ReadonlySet<string>): boolean {
  return ids.has(el.id) || (el.type === 'text' && !!el.containerId && ids.has(el.containerId));
}

/** An arrow not dragged itself but bound to something dragged: drawn each frame with its ends following. */
function isFollower(el: Element, ids: ReadonlySet<string>): boolean {
  if (el.type !== 'arrow' || ids.has(el.id)) return false;
  return (!!el.startBinding && ids.has(el.startBinding.elementId)) || (!!el.endBinding && ids.has(el.endBinding.elementId));
}

export type Lookup = (id: string) => Element | undefined;
/** Elements by id per list version (the list is replaced, never changed), built only when a label asks. */
const indexes = new WeakMap<readonly Element[], Map<string, Element>>();
function lookupIn(elements: readonly Element[]): Lookup {
  return (id) => {
    let index = indexes.get(elements);
    if (!index) {
      index = new Map(elements.map((el) => [el.id, el]));
      indexes.set(elements, index);
    }
    return index.get(id);
  };
}

/**
 * Draws one element in world coordinates on a context already set to the camera, turned by its
 * `angle` about its centre (as svg.ts does). `lookup` finds a label's container.
 */
export function drawElement(ctx: Ctx, el: Element, alpha = 1, live = false, lookup?: Lookup): void {
  ctx.globalAlpha = el.opacity * alpha;
  if (el.type === 'text') {
    drawLayout(ctx, layoutText(el, lookup)); // turns inside its layout (a label with its container)
    return;
  }
  const angle = el.angle ?? 0;
  if (angle !== 0) {
    const [cx, cy] = elementCenter(el);
    ctx.save();
    ctx.translate(cx, cy);
    ctx.rotate(angle);
    ctx.translate(-cx, -cy);
  }
  drawShape(ctx, el.type === 'arrow' && lookup ? boundArrow(el, lookup) : el, live);
  if (angle !== 0) ctx.restore();
}

/**
 * The arrow with its bound ends on their shapes as they are now (as svg.ts draws it). Usually the
 * stored points already are (the mover's op moves them too), and then the arrow itself is returned,
 * so its cached path is used.
 */
function boundArrow(el: Arrow, lookup: Lookup): Arrow {
  if (!el.startBinding && !el.endBinding) return el;
  const points = resolvedArrowPoints(el, lookup);
  const n = points.length - 1;
  const same = (i: number) => points[i]![0] === el.points[i]![0] && points[i]![1] === el.points[i]![1];
  return same(0) && same(n) ? el : { ...el, points };
}

function drawShape(ctx: Ctx, el: Exclude<Element, { type: 'text' }>, live: boolean): void {
  if (el.type === 'image') {
    drawImageElement(ctx, el);
    return;
  }
  const path = pathOf(el, live);
  if (!path) return;
  if (el.type === 'stroke') {
    ctx.fillStyle = el.strokeColor;
    ctx.fill(path);
    return;
  }
  if ((el.type === 'rectangle' || el.type === 'ellipse' || el.type === 'note') && el.fillColor !== 'transparent') {
    ctx.fillStyle = el.fillColor;
    ctx.fill(path);
  }
  if (el.type === 'note') {
    if (el.fillColor === 'transparent') {
      ctx.strokeStyle = el.strokeColor;
      ctx.lineWidth = el.strokeWidth;
      ctx.stroke(path);
    }
    if (el.text !== '') drawLayout(ctx, layoutNote({ ...el, angle: 0 }));
    return;
  }
  ctx.strokeStyle = el.strokeColor;
  ctx.lineWidth = el.strokeWidth;
  ctx.stroke(path);
}

const ALIGN = { left: 'left', center: 'center', right: 'right' } as const;

/** Draws laid-out lines (textLayout.ts, the same layout as the SVG export). */
function drawLayout(ctx: Ctx, layout: TextLayout): void {
  if (layout.angle !== 0) {
    ctx.save();
    ctx.translate(layout.cx, layout.cy);
    ctx.rotate(layout.angle);
    ctx.translate(-layout.cx, -layout.cy);
  }
  ctx.fillStyle = layout.color;
  ctx.font = `${layout.fontSize}px ${FONT_FAMILIES[layout.fontFamily]}`;
  ctx.textBaseline = 'alphabetic';
  ctx.textAlign = ALIGN[layout.align];
  for (const line of layout.lines) ctx.fillText(line.text, line.x, line.baseline);
  ctx.textAlign = 'left';
  if (layout.angle !== 0) ctx.restore();
}

function drawSelection(ctx: Ctx, scene: Scene, zoom: number): void {
  const dx = scene.moving?.dx ?? 0;
  const dy = scene.moving?.dy ?? 0;
  ctx.save();
  ctx.translate(dx, dy);
  if (scene.selection.length > 1) drawElementOutlines(ctx, scene.selection, zoom, SELECTION_COLOR);
  if (scene.frame) drawFrame(ctx, scene.frame.frame, zoom, SELECTION_COLOR, scene.frame.handles);
  ctx.restore();
  ctx.strokeStyle = SELECTION_COLOR;
  ctx.lineWidth = 1.5 / zoom;
  const m = scene.marquee;
  if (m) {
    ctx.fillStyle = 'rgba(105, 101, 219, 0.08)';
    ctx.fillRect(m.minX, m.minY, m.maxX - m.minX, m.maxY - m.minY);
    ctx.strokeRect(m.minX, m.minY, m.maxX - m.minX, m.maxY - m.minY);
  }
}
