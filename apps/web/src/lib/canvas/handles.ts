import { elementFrame, frameCorners, handlePosition, HANDLES, rotationHandlePosition, type Element, type Handle, type SelectionFrame } from '@inkboard/protocol';

/*
 * The selection's transform handles (pure geometry and drawing; no Svelte): 8 resize handles on the
 * selection's frame (turned with a lone turned element) and a rotation handle above its top side.
 * Sizes are in screen pixels, so the handles look the same at every zoom.
 */

export type HandleName = Handle | 'rotate';

/** Side of a resize handle's square, and how far around it a press still takes it (screen px). */
export const HANDLE_SIZE = 9;
const HANDLE_REACH = 4;
/** A finger's reach around a handle (screen px). */
export const TOUCH_REACH = 14;
/** The frame is drawn this far outside the selection (screen px). */
export const FRAME_PAD = 6;
/** The rotation handle sits this far above the frame's top side (screen px). */
export const ROTATE_DISTANCE = 22;
/** Side handles are left out when that side is shorter than this on screen (they would cover the corners). */
const MIN_SIDE_FOR_HANDLES = 3 * HANDLE_SIZE;

/** Accessible names of the handles (the DOM overlay's buttons). */
export const HANDLE_LABELS: Record<HandleName, string> = {
  nw: 'Resize north-west',
  n: 'Resize north',
  ne: 'Resize north-east',
  e: 'Resize east',
  se: 'Resize south-east',
  s: 'Resize south',
  sw: 'Resize south-west',
  w: 'Resize west',
  rotate: 'Rotate',
};

/** A handle and where it is drawn (world coordinates). */
export interface HandleSpot {
  name: HandleName;
  x: number;
  y: number;
}

/**
 * Whether a selection gets transform handles: not when any of it is locked, nor for a lone line or
 * arrow of two points (its point handles move its ends; as in Excalidraw).
 */
export function showsHandles(selected: readonly Element[]): boolean {
  if (selected.length === 0 || selected.some((el) => el.locked)) return false;
  const only = selected.length === 1 ? selected[0]! : null;
  return !(only && (only.type === 'line' || only.type === 'arrow') && only.points.length <= 2);
}

/** The frame grown by `pad` world units on every side (same centre and angle). */
export function paddedFrame(frame: SelectionFrame, pad: number): SelectionFrame {
  const { box } = frame;
  return { box: { minX: box.minX - pad, minY: box.minY - pad, maxX: box.maxX + pad, maxY: box.maxY + pad }, angle: frame.angle };
}

/** The handles of `frame` at `zoom`: where they are drawn (on the padded frame), rotation handle first. */
export function handleSpots(frame: SelectionFrame, zoom: number): HandleSpot[] {
  const padded = paddedFrame(frame, FRAME_PAD / zoom);
  const { box } = frame;
  const wide = (box.maxX - box.minX) * zoom >= MIN_SIDE_FOR_HANDLES;
  const tall = (box.maxY - box.minY) * zoom >= MIN_SIDE_FOR_HANDLES;
  const [rx, ry] = rotationHandlePosition(padded, ROTATE_DISTANCE / zoom);
  const spots: HandleSpot[] = [{ name: 'rotate', x: rx, y: ry }];
  for (const name of HANDLES) {
    if ((name === 'n' || name === 's') && !wide) continue;
    if ((name === 'e' || name === 'w') && !tall) continue;
    const [x, y] = handlePosition(padded, name);
    spots.push({ name, x, y });
  }
  return spots;
}

/**
 * The handle under the world point (x, y), or null: the nearest within `extra` screen pixels around
 * its square (a corner wins over a side at the same distance).
 */
export function handleAt(frame: SelectionFrame, zoom: number, x: number, y: number, extra = HANDLE_REACH): HandleName | null {
  const reach = (HANDLE_SIZE / 2 + extra) / zoom;
  let best: HandleName | null = null;
  let bestDistance = Infinity;
  for (const spot of handleSpots(frame, zoom)) {
    const d = Math.hypot(x - spot.x, y - spot.y);
    // A corner is preferred to a side at the same distance (a small frame's handles are close together).
    const rank = d + (spot.name.length === 1 ? 0.5 / zoom : 0);
    if (d <= reach && rank < bestDistance) {
      best = spot.name;
      bestDistance = rank;
    }
  }
  return best;
}

const SIDE_DEGREES: Record<Handle, number> = { e: 0, se: 45, s: 90, sw: 135, w: 180, nw: 225, n: 270, ne: 315 };
const RESIZE_CURSORS = ['ew-resize', 'nwse-resize', 'ns-resize', 'nesw-resize'] as const;

/** The CSS cursor over a handle: a resize arrow along the handle's direction (turned with the frame), or a grab hand to rotate. */
export function handleCursor(name: HandleName, angle: number): string {
  if (name === 'rotate') return 'grab';
  const degrees = SIDE_DEGREES[name] + (angle * 180) / Math.PI;
  const step = Math.round((((degrees % 180) + 180) % 180) / 45) % 4;
  return RESIZE_CURSORS[step]!;
}

type Ctx = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

function polygon(ctx: Ctx, corners: readonly [number, number][]): void {
  ctx.beginPath();
  corners.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
  ctx.closePath();
}

/** Dashed outlines of each selected element's own frame, turned with it (a selection of several). */
export function drawElementOutlines(ctx: Ctx, frames: readonly SelectionFrame[], zoom: number, color: string): void {
  const px = 1 / zoom;
  ctx.strokeStyle = color;
  ctx.lineWidth = px;
  ctx.setLineDash([4 * px, 4 * px]);
  for (const f of frames) {
    polygon(ctx, frameCorners(paddedFrame(f, 2 * px)));
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

/** The selection's frame, turned with it, and (when `withHandles`) its resize and rotation handles. */
export function drawFrame(ctx: Ctx, frame: SelectionFrame, zoom: number, color: string, withHandles: boolean): void {
  const px = 1 / zoom;
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5 * px;
  polygon(ctx, frameCorners(paddedFrame(frame, FRAME_PAD * px)));
  ctx.stroke();
  if (!withHandles) return;
  const half = (HANDLE_SIZE / 2) * px;
  ctx.fillStyle = '#ffffff';
  ctx.lineWidth = 1.2 * px;
  for (const spot of handleSpots(frame, zoom)) {
    ctx.save();
    ctx.translate(spot.x, spot.y);
    ctx.rotate(frame.angle);
    ctx.beginPath();
    if (spot.name === 'rotate') ctx.arc(0, 0, half, 0, 2 * Math.PI);
    else ctx.rect(-half, -half, 2 * half, 2 * half);
    ctx.fill();
    ctx.stroke();
    ctx.restore();
  }
}

/** One element's own frame and angle (its outline in a multi-selection). */
export function outlineOf(el: Element): SelectionFrame {
  return { box: elementFrame(el), angle: el.angle ?? 0 };
}
