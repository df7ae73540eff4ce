import { assertNever, elementCenter, rotatePoint, type Box, type Element } from '@inkboard/protocol';
import { boundsOf } from './geometryCache.js';
import { boxContains, boxesIntersect } from './viewport.js';

/** Distance from (px, py) to the segment a-b. */
export function distToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

function nearPolyline(points: readonly (readonly number[])[], ox: number, oy: number, px: number, py: number, reach: number): boolean {
  if (points.length === 1) return Math.hypot(px - ox - points[0]![0]!, py - oy - points[0]![1]!) <= reach;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (distToSegment(px, py, ox + a[0]!, oy + a[1]!, ox + b[0]!, oy + b[1]!) <= reach) return true;
  }
  return false;
}

/**
 * Whether the world point touches the element. `tolerance` is in world units (a few screen pixels).
 * Like Excalidraw, an unfilled shape is hit on its outline only, a filled one (and a note or an image) anywhere
 * inside. A rotated element is tested in its own frame (the point turned back by its `angle`).
 */
export function hitElement(el: Element, wx: number, wy: number, tolerance: number): boolean {
  const box = boundsOf(el);
  if (wx < box.minX - tolerance || wx > box.maxX + tolerance || wy < box.minY - tolerance || wy > box.maxY + tolerance) return false;
  const angle = el.angle ?? 0;
  let px = wx;
  let py = wy;
  if (angle !== 0) {
    const [cx, cy] = elementCenter(el);
    [px, py] = rotatePoint(wx, wy, cx, cy, -angle);
  }
  switch (el.type) {
    case 'stroke':
      return nearPolyline(el.points, el.x, el.y, px, py, el.strokeWidth * 1.25 + tolerance);
    case 'line':
    case 'arrow':
      return nearPolyline(el.points, el.x, el.y, px, py, el.strokeWidth / 2 + tolerance);
    case 'rectangle': {
      const inside = px >= el.x && px <= el.x + el.width && py >= el.y && py <= el.y + el.height;
      if (inside && el.fillColor !== 'transparent') return true;
      const edge = Math.min(Math.abs(px - el.x), Math.abs(px - el.x - el.width), Math.abs(py - el.y), Math.abs(py - el.y - el.height));
      return edge <= el.strokeWidth / 2 + tolerance;
    }
    case 'ellipse': {
      const rx = Math.max(el.width / 2, 1e-6);
      const ry = Math.max(el.height / 2, 1e-6);
      const dx = px - el.x - rx;
      const dy = py - el.y - ry;
      const r = Math.hypot(dx / rx, dy / ry);
      if (r <= 1 && el.fillColor !== 'transparent') return true;
      // Distance to the outline along the ray from the centre (exact on circles, close on ellipses).
      const distance = r < 1e-9 ? Math.min(rx, ry) : Math.abs(1 - 1 / r) * Math.hypot(dx, dy);
      return distance <= el.strokeWidth / 2 + tolerance;
    }
    case 'note':
    case 'image':
      return px >= el.x - tolerance && px <= el.x + el.width + tolerance && py >= el.y - tolerance && py <= el.y + el.height + tolerance;
    case 'text': {
      if (angle === 0) return true; // inside its (padded) box
      const own = unrotatedTextBox(el);
      return px >= own.minX - tolerance && px <= own.maxX + tolerance && py >= own.minY - tolerance && py <= own.maxY + tolerance;
    }
    default:
      return assertNever(el);
  }
}

/** A text's box before its turn: its cached bounds are around the turned box, so it is rebuilt here. */
function unrotatedTextBox(el: Extract<Element, { type: 'text' }>): Box {
  return boundsOf({ ...el, angle: 0 });
}

export interface HitOptions {
  /** Skip locked elements (a click does not select them until they are unlocked). */
  skipLocked?: boolean;
  /** A label hit counts as a hit of its container (as in Excalidraw, a click on a label selects its box). */
  labelsAsContainer?: boolean;
}

/** The topmost element under the point, or null. `elements` is in paint order. */
export function elementAt(elements: readonly Element[], px: number, py: number, tolerance: number, options: HitOptions = {}): Element | null {
  for (let i = elements.length - 1; i >= 0; i--) {
    const el = elements[i]!;
    if (options.skipLocked && el.locked) continue;
    if (!hitElement(el, px, py, tolerance)) continue;
    if (options.labelsAsContainer && el.type === 'text' && el.containerId) {
      const container = elements.find((c) => c.id === el.containerId);
      if (container) {
        if (options.skipLocked && container.locked) continue;
        return container;
      }
    }
    return el;
  }
  return null;
}

/** Ids of the elements lying entirely inside the box (marquee selection). */
export function elementsInBox(elements: readonly Element[], box: Box): string[] {
  return elements.filter((el) => boxContains(box, boundsOf(el))).map((el) => el.id);
}

/** Ids of elements the eraser's path from a to b touches (sampled every `tolerance` world units). */
export function elementsTouchedBy(elements: readonly Element[], ax: number, ay: number, bx: number, by: number, tolerance: number): string[] {
  const sweep = { minX: Math.min(ax, bx) - tolerance, minY: Math.min(ay, by) - tolerance, maxX: Math.max(ax, bx) + tolerance, maxY: Math.max(ay, by) + tolerance };
  const steps = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / Math.max(tolerance, 1e-6)));
  const hits: string[] = [];
  for (const el of elements) {
    if (!boxesIntersect(boundsOf(el), sweep)) continue;
    for (let s = 0; s <= steps; s++) {
      const t = s / steps;
      if (hitElement(el, ax + (bx - ax) * t, ay + (by - ay) * t, tolerance)) {
        hits.push(el.id);
        break;
      }
    }
  }
  return hits;
}

/** The box around the boxes, or null for none. */
export function unionBoxes(boxes: Iterable<Box>): Box | null {
  let out: Box | null = null;
  for (const b of boxes) {
    out = out ? { minX: Math.min(out.minX, b.minX), minY: Math.min(out.minY, b.minY), maxX: Math.max(out.maxX, b.maxX), maxY: Math.max(out.maxY, b.maxY) } : { ...b };
  }
  return out;
}
