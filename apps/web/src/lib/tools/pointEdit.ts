import { resolvedArrowPoints, turnElement, type Arrow, type Binding, type Element, type ElementPatch, type Line } from '@inkboard/protocol';
import { bindEnd } from './line.js';
import { round2, type ToolHost } from './types.js';

/*
 * Editing the points of a selected line or arrow: each point has a handle (PointHandles.svelte);
 * dragging one moves that point (an arrow's end binds to the shape it is dropped on, or comes free),
 * and the drop is one update op of the line's points (and bindings).
 */

export type PolyLine = Line | Arrow;
type Point = [number, number];
type Lookup = (id: string) => Element | undefined;

/** The line with its own angle baked into its points (so its points are where they are drawn). */
export function plainLine(el: PolyLine): PolyLine {
  return (el.angle ?? 0) === 0 ? el : ({ ...el, ...turnElement(el, 0, 0, 0) } as PolyLine);
}

/** World positions of the points as drawn: turned with the line, an arrow's bound ends on their shapes. */
export function handlePoints(el: PolyLine, lookup: Lookup): Point[] {
  const base = plainLine(el);
  const points = base.type === 'arrow' ? resolvedArrowPoints(base, lookup) : base.points;
  return points.map((p) => [base.x + p[0], base.y + p[1]]);
}

/**
 * The line with point `index` at world (x, y); an arrow's first or last point binds to the shape
 * under it (its `target` is returned for the highlight), or loses its binding over empty board.
 */
export function movePoint(host: Pick<ToolHost, 'sorted' | 'elements' | 'zoom'>, el: PolyLine, index: number, x: number, y: number): { element: PolyLine; target: Element | null } {
  const base = plainLine(el);
  const world = handlePoints(base, (id) => host.elements.get(id));
  let at: Point = [x, y];
  let target: Element | null = null;
  const end = base.type === 'arrow' ? (index === 0 ? 'start' : index === world.length - 1 ? 'end' : null) : null;
  let binding: Binding | null = null;
  if (end) {
    const bound = bindEnd(host, el.id, x, y);
    if (bound) {
      binding = bound.binding;
      at = bound.at;
      target = bound.target;
    }
  }
  world[index] = at;
  const points = world.map((p): Point => [round2(p[0] - base.x), round2(p[1] - base.y)]) as PolyLine['points'];
  const element = { ...base, points } as PolyLine;
  if (element.type === 'arrow' && end) {
    if (end === 'start') element.startBinding = binding;
    else element.endBinding = binding;
  }
  return { element, target };
}

/** The patch that turns `original` into `edited` (points, and an angle or bindings that changed). */
export function pointPatch(original: PolyLine, edited: PolyLine): ElementPatch {
  const patch: ElementPatch = { points: edited.points };
  if ((original.angle ?? 0) !== (edited.angle ?? 0)) patch.angle = edited.angle ?? 0;
  if (original.type === 'arrow' && edited.type === 'arrow') {
    const same = (a: Binding | null | undefined, b: Binding | null | undefined) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
    if (!same(original.startBinding, edited.startBinding)) patch.startBinding = edited.startBinding ?? null;
    if (!same(original.endBinding, edited.endBinding)) patch.endBinding = edited.endBinding ?? null;
  }
  return patch;
}

/**
 * The line without point `index`, or null when it has only two; an arrow end taken away loses its
 * binding (the next point becomes the free end).
 */
export function removePoint(el: PolyLine, index: number, lookup: Lookup): PolyLine | null {
  const base = plainLine(el);
  if (base.points.length <= 2) return null;
  const resolved = base.type === 'arrow' ? resolvedArrowPoints(base, lookup) : base.points;
  const out = { ...base, points: resolved.filter((_, i) => i !== index) } as PolyLine;
  if (out.type === 'arrow' && index === 0) out.startBinding = null;
  if (out.type === 'arrow' && index === resolved.length - 1) out.endBinding = null;
  return out;
}
