import { assertNever } from './applyOp.js';
import type { Element, ElementPatch } from './elements/index.js';
import { elementCenter, elementFrame, rotatedBoxBounds, rotatePoint, type Box } from './geometry.js';
import { MAX_COORD } from './primitives.js';

/*
 * Resize and rotate a selection (pure; the UI calls these on every pointer move with the elements as
 * they were when the gesture began, shows the result as a preview, and sends the last result as one
 * update op). Labels (texts whose container is in the selection) are left out: they follow their
 * container (`followUpdates` in bindings.ts), as do arrows bound to what moved.
 */

/** One element's change, as an update op carries it. */
export interface ElementUpdate {
  id: string;
  patch: ElementPatch;
}

/** The 8 resize handles: sides and corners, by compass direction (`n` is the top side). */
export type Handle = 'n' | 's' | 'e' | 'w' | 'ne' | 'nw' | 'se' | 'sw';
export const HANDLES: readonly Handle[] = ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w'];

export interface ResizeOptions {
  /** Keep the width:height ratio (Shift). Always on for a single text, which can only scale. */
  keepAspect?: boolean;
  /** Resize about the centre instead of the opposite handle (Alt). */
  fromCentre?: boolean;
}

/** The box handles are drawn on: unrotated `box`, turned by `angle` about its centre. */
export interface SelectionFrame {
  box: Box;
  angle: number;
}

const clampCoord = (v: number) => Math.max(-MAX_COORD, Math.min(MAX_COORD, v));
const clampSize = (v: number) => Math.max(0, Math.min(2 * MAX_COORD, v));
const round = (v: number) => Math.round(v * 100) / 100;

/** A label whose container is among `ids`: it follows the container instead of being transformed. */
function isCarriedLabel(el: Element, ids: ReadonlySet<string>): boolean {
  return el.type === 'text' && !!el.containerId && ids.has(el.containerId);
}

/** The elements a transform acts on: the selection without labels carried by a selected container. */
export function transformTargets(elements: readonly Element[]): Element[] {
  const ids = new Set(elements.map((el) => el.id));
  return elements.filter((el) => !isCarriedLabel(el, ids));
}

/**
 * The frame of a selection: for one element its own (unrotated) frame and its `angle`, for several
 * the box around their turned frames, unrotated. Null for an empty selection.
 */
export function selectionFrame(elements: readonly Element[]): SelectionFrame | null {
  const targets = transformTargets(elements);
  if (targets.length === 0) return null;
  if (targets.length === 1) return { box: elementFrame(targets[0]!), angle: targets[0]!.angle ?? 0 };
  let box: Box | null = null;
  for (const el of targets) {
    const f = elementFrame(el);
    const angle = el.angle ?? 0;
    const b = angle === 0 ? f : rotatedBoxBounds(f, (f.minX + f.maxX) / 2, (f.minY + f.maxY) / 2, angle);
    box = box ? { minX: Math.min(box.minX, b.minX), minY: Math.min(box.minY, b.minY), maxX: Math.max(box.maxX, b.maxX), maxY: Math.max(box.maxY, b.maxY) } : b;
  }
  return { box: box!, angle: 0 };
}

/** Where a handle of the frame is, in world coordinates (turned with the frame). */
export function handlePosition(frame: SelectionFrame, handle: Handle): [number, number] {
  const { box } = frame;
  const x = handle.includes('w') ? box.minX : handle.includes('e') ? box.maxX : (box.minX + box.maxX) / 2;
  const y = handle.includes('n') ? box.minY : handle.includes('s') ? box.maxY : (box.minY + box.maxY) / 2;
  return rotatePoint(x, y, (box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2, frame.angle);
}

/** Where the rotation handle is: `distance` world units above the top side's middle, turned with the frame. */
export function rotationHandlePosition(frame: SelectionFrame, distance: number): [number, number] {
  const { box } = frame;
  return rotatePoint((box.minX + box.maxX) / 2, box.minY - distance, (box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2, frame.angle);
}

/** The four corners of the frame in world coordinates (nw, ne, se, sw), for drawing a turned outline. */
export function frameCorners(frame: SelectionFrame): [number, number][] {
  return (['nw', 'ne', 'se', 'sw'] as const).map((h) => handlePosition(frame, h));
}

/**
 * The new box when `handle` of `box` is dragged to the (frame-local) point (px, py). Sizes never go
 * below `minSize` (no flipping).
 */
export function resizeBox(box: Box, handle: Handle, px: number, py: number, options: ResizeOptions = {}, minSize = 1): Box {
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const cx = (box.minX + box.maxX) / 2;
  const cy = (box.minY + box.maxY) / 2;
  const horizontal = handle.includes('e') || handle.includes('w');
  const vertical = handle.includes('n') || handle.includes('s');
  const k = options.fromCentre ? 2 : 1;
  let nw = w;
  let nh = h;
  if (handle.includes('e')) nw = w + k * (px - box.maxX);
  if (handle.includes('w')) nw = w + k * (box.minX - px);
  if (handle.includes('s')) nh = h + k * (py - box.maxY);
  if (handle.includes('n')) nh = h + k * (box.minY - py);
  nw = Math.max(minSize, nw);
  nh = Math.max(minSize, nh);
  if (options.keepAspect && w > 0 && h > 0) {
    const sx = nw / w;
    const sy = nh / h;
    const s = horizontal && vertical ? Math.max(sx, sy) : horizontal ? sx : sy;
    nw = Math.max(minSize, w * s);
    nh = Math.max(minSize, h * s);
  }
  if (options.fromCentre) return { minX: cx - nw / 2, minY: cy - nh / 2, maxX: cx + nw / 2, maxY: cy + nh / 2 };
  // Anchored on the opposite side; a side handle with keepAspect grows the other axis about its middle.
  const minX = handle.includes('w') ? box.maxX - nw : handle.includes('e') ? box.minX : cx - nw / 2;
  const minY = handle.includes('n') ? box.maxY - nh : handle.includes('s') ? box.minY : cy - nh / 2;
  return { minX, minY, maxX: minX + nw, maxY: minY + nh };
}

/**
 * Patches that resize the selection `elements` (as they were when the drag began) so that `handle`
 * follows the world point `pointer`. One element is resized in its own frame (a rotated one keeps
 * its angle, its opposite handle stays put); several are scaled together in the box around them
 * (positions and sizes). Boxes and notes scale width/height, strokes/lines/arrows their points, texts
 * their font size (a lone text keeps its aspect).
 */
export function resizeElements(elements: readonly Element[], handle: Handle, pointer: [number, number], options: ResizeOptions = {}): ElementUpdate[] {
  const targets = transformTargets(elements);
  const frame = selectionFrame(targets);
  if (!frame) return [];
  const { box, angle } = frame;
  const cx = (box.minX + box.maxX) / 2;
  const cy = (box.minY + box.maxY) / 2;
  const [lx, ly] = rotatePoint(pointer[0], pointer[1], cx, cy, -angle);
  const lone = targets.length === 1 ? targets[0]! : null;
  const keepAspect = options.keepAspect || (lone?.type === 'text' && !lone.containerId);
  const next = resizeBox(box, handle, lx, ly, { ...options, keepAspect }, lone?.type === 'text' ? 4 : 1);
  const w = box.maxX - box.minX;
  const h = box.maxY - box.minY;
  const sx = w > 0 ? (next.maxX - next.minX) / w : 1;
  const sy = h > 0 ? (next.maxY - next.minY) / h : 1;
  // The box is resized unrotated; turning it back about the old centre moves its centre in the world.
  const ncx = (next.minX + next.maxX) / 2;
  const ncy = (next.minY + next.maxY) / 2;
  const [wcx, wcy] = rotatePoint(ncx, ncy, cx, cy, angle);
  const shiftX = wcx - ncx;
  const shiftY = wcy - ncy;
  const mapX = (x: number) => next.minX + (x - box.minX) * sx + shiftX;
  const mapY = (y: number) => next.minY + (y - box.minY) * sy + shiftY;
  const fontScale = handle.length === 2 ? Math.sqrt(sx * sy) : handle === 'e' || handle === 'w' ? sx : sy;
  return targets.map((el) => ({ id: el.id, patch: scaleElement(el, lone !== null, mapX, mapY, sx, sy, fontScale) }));
}

/** The patch that scales one element by (sx, sy) with its frame mapped by mapX/mapY. */
function scaleElement(el: Element, lone: boolean, mapX: (x: number) => number, mapY: (y: number) => number, sx: number, sy: number, fontScale: number): ElementPatch {
  const angle = el.angle ?? 0;
  // In a multi-selection a turned element keeps its angle: its centre follows the box, and its own
  // axes take the scale of the nearer world axes.
  const turned = !lone && angle !== 0;
  const [ex, ey] = turned && Math.abs(Math.sin(angle)) > Math.abs(Math.cos(angle)) ? [sy, sx] : [sx, sy];
  const f = elementFrame(el);
  const [ocx, ocy] = elementCenter(el);
  /** New top-left of a frame of the new size: mapped directly, or placed around the mapped centre. */
  const place = (nw: number, nh: number): [number, number] =>
    turned ? [mapX(ocx) - nw / 2, mapY(ocy) - nh / 2] : [mapX(f.minX), mapY(f.minY)];
  switch (el.type) {
    case 'rectangle':
    case 'ellipse':
    case 'note': {
      const width = clampSize(el.width * ex);
      const height = clampSize(el.height * ey);
      const [x, y] = place(width, height);
      return { x: clampCoord(round(x)), y: clampCoord(round(y)), width: round(width), height: round(height) };
    }
    case 'image': {
      // An image never collapses to nothing (its size must stay positive).
      const width = Math.max(1, round(clampSize(el.width * ex)));
      const height = Math.max(1, round(clampSize(el.height * ey)));
      const [x, y] = place(width, height);
      return { x: clampCoord(round(x)), y: clampCoord(round(y)), width, height };
    }
    case 'text': {
      const fontSize = Math.max(4, Math.min(400, round(el.fontSize * fontScale)));
      const s = fontSize / el.fontSize;
      const [x, y] = place((f.maxX - f.minX) * s, (f.maxY - f.minY) * s);
      return { x: clampCoord(round(x)), y: clampCoord(round(y)), fontSize };
    }
    case 'stroke':
    case 'line':
    case 'arrow': {
      const pw = (f.maxX - f.minX) * ex;
      const ph = (f.maxY - f.minY) * ey;
      const [nx, ny] = place(pw, ph);
      // Points relative to the frame's top-left, scaled; the element's x, y moves to keep offsets.
      const ox = f.minX - el.x;
      const oy = f.minY - el.y;
      const x = clampCoord(round(nx - ox * ex));
      const y = clampCoord(round(ny - oy * ey));
      const points = el.points.map((p) => {
        const q = [clampCoord(round(p[0] * ex)), clampCoord(round(p[1] * ey))];
        if (p.length === 3) q.push(p[2]);
        return q;
      });
      return { x, y, points: points as typeof el.points };
    }
    default:
      return assertNever(el);
  }
}

/** An angle brought into [0, 2π). */
export function normalizeAngle(angle: number): number {
  const full = 2 * Math.PI;
  const a = angle % full;
  const r = a < 0 ? a + full : a;
  return r >= full - 1e-12 ? 0 : r;
}

/** The nearest multiple of 15 degrees. */
export function snapAngle(angle: number, step = Math.PI / 12): number {
  return Math.round(angle / step) * step;
}

/** The angle from `from` to `to` as seen from the centre (cx, cy): what a rotation handle drag turns by. */
export function angleBetween(cx: number, cy: number, from: [number, number], to: [number, number]): number {
  return Math.atan2(to[1] - cy, to[0] - cx) - Math.atan2(from[1] - cy, from[0] - cx);
}

export interface RotateOptions {
  /** Snap to 15 degrees (Shift): a lone element's resulting angle, a selection's turn. */
  snap?: boolean;
}

/**
 * Patches that turn the selection `elements` (as they were when the drag began) by `delta` radians
 * about the centre of its frame. Boxes, notes and texts turn by `angle` (their centre moves about the
 * selection's centre); strokes, lines and arrows have their points turned (their `angle` goes to 0,
 * which keeps bound arrow ends simple).
 */
export function rotateElements(elements: readonly Element[], delta: number, options: RotateOptions = {}): ElementUpdate[] {
  const targets = transformTargets(elements);
  const frame = selectionFrame(targets);
  if (!frame) return [];
  const { box } = frame;
  const cx = (box.minX + box.maxX) / 2;
  const cy = (box.minY + box.maxY) / 2;
  let turn = delta;
  if (options.snap) {
    turn = targets.length === 1 ? snapAngle((targets[0]!.angle ?? 0) + delta) - (targets[0]!.angle ?? 0) : snapAngle(delta);
  }
  return targets.map((el) => ({ id: el.id, patch: turnElement(el, turn, cx, cy) }));
}

/** The patch that turns one element by `turn` about (cx, cy). */
export function turnElement(el: Element, turn: number, cx: number, cy: number): ElementPatch {
  switch (el.type) {
    case 'stroke':
    case 'line':
    case 'arrow': {
      // Bake the element's own angle and the turn into its points.
      const [ecx, ecy] = elementCenter(el);
      const own = el.angle ?? 0;
      const points = el.points.map((p) => {
        const [ox, oy] = rotatePoint(el.x + p[0], el.y + p[1], ecx, ecy, own);
        const [wx, wy] = rotatePoint(ox, oy, cx, cy, turn);
        const q = [clampCoord(round(wx)) - el.x, clampCoord(round(wy)) - el.y];
        if (p.length === 3) q.push(p[2]);
        return q;
      });
      const patch: ElementPatch = { points: points as typeof el.points };
      if (own !== 0) patch.angle = 0;
      return patch;
    }
    case 'rectangle':
    case 'ellipse':
    case 'note':
    case 'image':
    case 'text': {
      const [ecx, ecy] = elementCenter(el);
      const [ncx, ncy] = rotatePoint(ecx, ecy, cx, cy, turn);
      // Only what changes: a lone box turning about its own centre keeps x, y out of the patch, so a
      // concurrent move or resize by someone else is not undone by the turn.
      const patch: ElementPatch = { angle: normalizeAngle((el.angle ?? 0) + turn) };
      const x = clampCoord(round(el.x + ncx - ecx));
      const y = clampCoord(round(el.y + ncy - ecy));
      if (x !== el.x) patch.x = x;
      if (y !== el.y) patch.y = y;
      return patch;
    }
    default:
      return assertNever(el);
  }
}

/** Patches that move the elements by (dx, dy) (labels carried by a moved container included). */
export function moveElements(elements: readonly Element[], dx: number, dy: number): ElementUpdate[] {
  return elements.map((el) => ({ id: el.id, patch: { x: clampCoord(round(el.x + dx)), y: clampCoord(round(el.y + dy)) } }));
}
