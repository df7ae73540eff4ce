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

/** The element's bounding box in world coordinates, including half its stroke. */
export function elementBounds(el: Element): Box {
  const pad = el.strokeWidth / 2;
  switch (el.type) {
    case 'rectangle':
    case 'ellipse':
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

/** The two barbs of an arrowhead at the last point of `points`, as `[[x1,y1],[tip],[x2,y2]]`. */
export function arrowHead(points: readonly (readonly number[])[], strokeWidth: number): [number, number][] {
  const tip = points[points.length - 1]!;
  const from = points[points.length - 2] ?? tip;
  const angle = Math.atan2(tip[1]! - from[1]!, tip[0]! - from[0]!);
  const len = Math.max(10, strokeWidth * 4);
  const barb = (a: number): [number, number] => [tip[0]! - len * Math.cos(a), tip[1]! - len * Math.sin(a)];
  return [barb(angle - Math.PI / 6), [tip[0]!, tip[1]!], barb(angle + Math.PI / 6)];
}
