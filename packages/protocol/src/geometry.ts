import { assertNever } from './applyOp.js';
import type { Element } from './elements/index.js';

export interface Box {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** Approximate width of a text line in units of font size (for layout without a DOM). */
export const TEXT_CHAR_WIDTH = 0.6;
export const TEXT_LINE_HEIGHT = 1.25;

/**
 * The element's bounding box in world coordinates, including half its stroke. A rotated element's
 * box is the box around its turned outline box (`angle` about `elementCenter`).
 */
export function elementBounds(el: Element): Box {
  const box = unrotatedBounds(el);
  const angle = el.angle ?? 0;
  if (angle === 0) return box;
  const [cx, cy] = elementCenter(el);
  return rotatedBoxBounds(box, cx, cy, angle);
}

/** The box around `box` turned by `angle` about (cx, cy). */
export function rotatedBoxBounds(box: Box, cx: number, cy: number, angle: number): Box {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [px, py] of [[box.minX, box.minY], [box.maxX, box.minY], [box.maxX, box.maxY], [box.minX, box.maxY]] as const) {
    const dx = px - cx;
    const dy = py - cy;
    const x = cx + dx * cos - dy * sin;
    const y = cy + dx * sin + dy * cos;
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  return { minX, minY, maxX, maxY };
}

/** (x, y) turned by `angle` about (cx, cy). */
export function rotatePoint(x: number, y: number, cx: number, cy: number, angle: number): [number, number] {
  if (angle === 0) return [x, y];
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const dx = x - cx;
  const dy = y - cy;
  return [cx + dx * cos - dy * sin, cy + dx * sin + dy * cos];
}

/** Width and height of a text's block (approximate: `TEXT_CHAR_WIDTH` em a character). */
export function textBlockSize(text: string, fontSize: number): { width: number; height: number } {
  const lines = text.split('\n');
  let longest = 0;
  for (const l of lines) longest = Math.max(longest, l.length);
  return { width: longest * fontSize * TEXT_CHAR_WIDTH, height: lines.length * fontSize * TEXT_LINE_HEIGHT };
}

/**
 * The box of the element's own geometry, unrotated, without stroke: a shape's or note's box, a
 * text's block, the box around a stroke's, line's or arrow's points (not the arrowhead).
 */
export function elementFrame(el: Element): Box {
  switch (el.type) {
    case 'rectangle':
    case 'ellipse':
    case 'note':
    case 'image':
      return { minX: el.x, minY: el.y, maxX: el.x + el.width, maxY: el.y + el.height };
    case 'text': {
      const { width, height } = textBlockSize(el.text, el.fontSize);
      return { minX: el.x, minY: el.y, maxX: el.x + width, maxY: el.y + height };
    }
    case 'stroke':
    case 'line':
    case 'arrow': {
      let minX = Infinity;
      let minY = Infinity;
      let maxX = -Infinity;
      let maxY = -Infinity;
      for (const [px, py] of el.points) {
        if (px < minX) minX = px;
        if (py < minY) minY = py;
        if (px > maxX) maxX = px;
        if (py > maxY) maxY = py;
      }
      return { minX: el.x + minX, minY: el.y + minY, maxX: el.x + maxX, maxY: el.y + maxY };
    }
    default:
      return assertNever(el);
  }
}

/** The point an element turns about: the centre of its `elementFrame`. */
export function elementCenter(el: Element): [number, number] {
  const f = elementFrame(el);
  return [(f.minX + f.maxX) / 2, (f.minY + f.maxY) / 2];
}

/** The element's bounding box ignoring its `angle`, including half its stroke. */
export function unrotatedBounds(el: Element): Box {
  const pad = el.strokeWidth / 2;
  switch (el.type) {
    case 'rectangle':
    case 'ellipse':
    case 'note':
    case 'image':
      return { minX: el.x - pad, minY: el.y - pad, maxX: el.x + el.width + pad, maxY: el.y + el.height + pad };
    case 'text': {
      const lines = el.text.split('\n');
      const longest = Math.max(...lines.map((l) => l.length));
      return {
        minX: el.x,
        minY: el.y,
        maxX: el.x + longest * el.fontSize * TEXT_CHAR_WIDTH,
        maxY: el.y + lines.length * el.fontSize * TEXT_LINE_HEIGHT,
      };
    }
    case 'stroke':
    case 'line':
    case 'arrow': {
      let minX = Infinity;
      let minY = Infinity;
      let maxX = -Infinity;
      let maxY = -Infinity;
      for (const [px, py] of el.points) {
        minX = Math.min(minX, px);
        minY = Math.min(minY, py);
        maxX = Math.max(maxX, px);
        maxY = Math.max(maxY, py);
      }
      if (el.type === 'arrow') {
        for (const [px, py] of arrowHead(el.points, el.strokeWidth)) {
          minX = Math.min(minX, px);
          minY = Math.min(minY, py);
          maxX = Math.max(maxX, px);
          maxY = Math.max(maxY, py);
        }
      }
      const extra = el.type === 'stroke' ? el.strokeWidth * 2 : pad;
      return { minX: el.x + minX - extra, minY: el.y + minY - extra, maxX: el.x + maxX + extra, maxY: el.y + maxY + extra };
    }
    default:
      return assertNever(el);
  }
}

/** The box around all elements, or null when there are none. */
export function unionBounds(elements: Iterable<Element>): Box | null {
  let box: Box | null = null;
  for (const el of elements) {
    const b = elementBounds(el);
    box = box
      ? { minX: Math.min(box.minX, b.minX), minY: Math.min(box.minY, b.minY), maxX: Math.max(box.maxX, b.maxX), maxY: Math.max(box.maxY, b.maxY) }
      : b;
  }
  return box;
}

/** The two barbs of an arrowhead at the last point of `points` (along the last segment that has a length), as `[[x1,y1],[tip],[x2,y2]]`. */
export function arrowHead(points: readonly (readonly number[])[], strokeWidth: number): [number, number][] {
  const tip = points[points.length - 1]!;
  // Along the last segment of some length (a polyline may end on repeated points).
  let k = points.length - 2;
  while (k > 0 && points[k]![0] === tip[0] && points[k]![1] === tip[1]) k--;
  const from = points[k] ?? tip;
  const angle = Math.atan2(tip[1]! - from[1]!, tip[0]! - from[0]!);
  const len = Math.max(10, strokeWidth * 4);
  const barb = (a: number): [number, number] => [tip[0]! - len * Math.cos(a), tip[1]! - len * Math.sin(a)];
  return [barb(angle - Math.PI / 6), [tip[0]!, tip[1]!], barb(angle + Math.PI / 6)];
}
