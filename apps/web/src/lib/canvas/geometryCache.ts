import { TEXT_LINE_HEIGHT, arrowHead, elementBounds, elementCenter, fontStack, rotatedBoxBounds, strokeOutline, assertNever, type Box, type Element, type Text } from '@inkboard/protocol';

/**
 * Elements are immutable: an update makes a new object. So the object itself is the
 * "element + version" key, and a WeakMap drops entries of replaced elements by itself.
 */
const bounds = new WeakMap<Element, Box>();
const paths = new WeakMap<Element, Path2D>();
/** Paths of strokes still being drawn: their end is left open (perfect-freehand's `last: false`). */
const livePaths = new WeakMap<Element, Path2D>();

/** The element's world bounding box (cached; around its turned outline when it has an `angle`). */
export function boundsOf(el: Element): Box {
  let box = bounds.get(el);
  if (!box) {
    box = el.type === 'text' ? (measuredTextBounds(el) ?? elementBounds(el)) : elementBounds(el);
    bounds.set(el, box);
  }
  return box;
}

let measurer: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null | undefined;

/**
 * A text's box from the font's real widths (the protocol estimates 0.6 em per character, which is
 * fine for an export's frame but makes selection boxes and hit areas too wide). Null without a DOM.
 */
function measuredTextBounds(el: Text): Box | null {
  if (measurer === undefined) measurer = typeof OffscreenCanvas === 'undefined' ? null : new OffscreenCanvas(1, 1).getContext('2d');
  if (!measurer) return null;
  measurer.font = `${el.fontSize}px ${fontStack(el.fontFamily)}`;
  const lines = el.text.split('\n');
  const width = Math.max(...lines.map((line) => measurer!.measureText(line).width));
  const box = { minX: el.x, minY: el.y, maxX: el.x + width, maxY: el.y + lines.length * el.fontSize * TEXT_LINE_HEIGHT };
  const angle = el.angle ?? 0;
  if (angle === 0) return box;
  const [cx, cy] = elementCenter(el);
  return rotatedBoxBounds(box, cx, cy, angle);
}

/**
 * The element's outline in world coordinates, unrotated (the renderer turns the context by the
 * element's `angle`), built with the protocol's geometry (the same as the SVG export): a filled
 * outline for strokes, a stroked path for the other kinds, a note's box. Text has none.
 */
export function pathOf(el: Element, live = false): Path2D | null {
  if (el.type === 'text') return null;
  const cache = live ? livePaths : paths;
  let path = cache.get(el);
  if (!path) {
    path = (!live && el.type === 'stroke' && movedStroke(el)) || buildPath(el, !live);
    if (!live && el.type === 'stroke') strokeOutlines.set(el.points, { x: el.x, y: el.y, strokeWidth: el.strokeWidth, path });
    cache.set(el, path);
  }
  return path;
}

/**
 * Finished strokes' outlines by their points array. A move changes only `x` and `y` and keeps the
 * array (applyOp), so a moved stroke's outline is the old one shifted: dropping 500 dragged strokes
 * does not run perfect-freehand 500 times.
 */
const strokeOutlines = new WeakMap<object, { x: number; y: number; strokeWidth: number; path: Path2D }>();

function movedStroke(el: Extract<Element, { type: 'stroke' }>): Path2D | null {
  const base = strokeOutlines.get(el.points);
  if (!base || base.strokeWidth !== el.strokeWidth) return null;
  const path = new Path2D();
  path.addPath(base.path, new DOMMatrix([1, 0, 0, 1, el.x - base.x, el.y - base.y]));
  return path;
}

function buildPath(el: Exclude<Element, { type: 'text' }>, last: boolean): Path2D {
  const path = new Path2D();
  switch (el.type) {
    case 'stroke': {
      if (!outlinePath(path, strokeOutline(el, last), el.x, el.y)) {
        // Too short for an outline: a dot, as the SVG export draws it.
        const [px, py] = el.points[0] ?? [0, 0];
        path.arc(el.x + px, el.y + py, el.strokeWidth, 0, Math.PI * 2);
      }
      return path;
    }
    case 'line':
    case 'arrow': {
      polyline(path, el.points, el.x, el.y);
      if (el.type === 'arrow') polyline(path, arrowHead(el.points, el.strokeWidth), el.x, el.y);
      return path;
    }
    case 'rectangle':
      path.roundRect(el.x, el.y, el.width, el.height, Math.min(8, el.width / 4, el.height / 4));
      return path;
    case 'image':
      path.rect(el.x, el.y, el.width, el.height);
      return path;
    case 'note':
      path.roundRect(el.x, el.y, el.width, el.height, Math.min(4, el.width / 4, el.height / 4));
      return path;
    case 'ellipse':
      path.ellipse(el.x + el.width / 2, el.y + el.height / 2, el.width / 2, el.height / 2, 0, 0, Math.PI * 2);
      return path;
    default:
      return assertNever(el);
  }
}

/** Rounded as the SVG path data is (outlineToPath), so the canvas and the export draw the same outline. */
const round = (v: number) => Math.round(v * 100) / 100;

/**
 * The protocol's `outlineToPath` (M, Q, then T through the midpoints, Z) built into `path` directly,
 * offset by (x, y): the same curve without writing and parsing path data (a third of the cost of
 * drawing a big board the first time). False when the outline is too short for a path.
 */
function outlinePath(path: Path2D, points: number[][], x: number, y: number): boolean {
  const n = points.length;
  if (n < 4) return false;
  const mid = (i: number, k: 0 | 1) => round((points[i]![k]! + points[i + 1]![k]!) / 2);
  path.moveTo(x + round(points[0]![0]!), y + round(points[0]![1]!));
  let cx = round(points[1]![0]!);
  let cy = round(points[1]![1]!);
  let ex = mid(1, 0);
  let ey = mid(1, 1);
  path.quadraticCurveTo(x + cx, y + cy, x + ex, y + ey);
  for (let i = 2; i < n - 1; i++) {
    // T: the control point is the last one reflected about the current point.
    cx = 2 * ex - cx;
    cy = 2 * ey - cy;
    ex = mid(i, 0);
    ey = mid(i, 1);
    path.quadraticCurveTo(x + cx, y + cy, x + ex, y + ey);
  }
  path.closePath();
  return true;
}

function polyline(path: Path2D, points: readonly (readonly number[])[], x: number, y: number): void {
  points.forEach((p, i) => (i === 0 ? path.moveTo(x + p[0]!, y + p[1]!) : path.lineTo(x + p[0]!, y + p[1]!)));
}
