import { bindingPoint, findBindTarget, LIMITS, newId, type Arrow, type Binding, type Element, type Line } from '@inkboard/protocol';
import { SELECTION_COLOR } from '../canvas/renderScene.js';
import { round2, tolerance, type Tool, type ToolHost, type ToolPointer } from './types.js';

type LineKind = 'line' | 'arrow';
type Point = [number, number];

/** Snaps (x, y) so that the segment from `from` turns in 15 degree steps (Shift). */
export function snapFrom(from: Point, x: number, y: number): Point {
  const step = Math.PI / 12;
  const dx = x - from[0];
  const dy = y - from[1];
  const angle = Math.round(Math.atan2(dy, dx) / step) * step;
  const len = Math.hypot(dx, dy);
  return [from[0] + Math.cos(angle) * len, from[1] + Math.sin(angle) * len];
}

/**
 * Where an arrow end at (x, y) binds: the shape under it (within a few screen pixels; not `arrowId`
 * itself) and the end moved onto that shape's binding point; null over empty board.
 */
export function bindEnd(host: Pick<ToolHost, 'sorted' | 'elements' | 'zoom'>, arrowId: string, x: number, y: number): { binding: Binding; at: Point; target: Element } | null {
  const binding = findBindTarget(host.sorted, x, y, { exclude: new Set([arrowId]), tolerance: tolerance(host, 8) });
  const target = binding ? host.elements.get(binding.elementId) : undefined;
  if (!binding || !target) return null;
  return { binding, at: bindingPoint(target, binding.fixedPoint), target };
}

/** The outline drawn around a shape an arrow end would bind to (an overlay element, never stored). */
export function bindHighlight(target: Element, zoom: number): Element {
  const pad = 5 / zoom;
  const frame = 'width' in target ? { x: target.x - pad, y: target.y - pad, width: target.width + 2 * pad, height: target.height + 2 * pad } : { x: target.x, y: target.y, width: 1, height: 1 };
  const common = { id: `bind-highlight-${target.id}`, z: target.z, strokeColor: SELECTION_COLOR, strokeWidth: 3 / zoom, opacity: 0.6, fillColor: 'transparent', ...frame };
  const angle = target.angle ?? 0;
  const shape: Element = target.type === 'ellipse' ? { type: 'ellipse', ...common } : { type: 'rectangle', ...common };
  if (angle !== 0) shape.angle = angle;
  return shape;
}

/**
 * A line or arrow from world points (its `x`, `y` the first point); an arrow's ends bind to the shapes
 * they lie on. Returns the element and the shape its last point would bind to (for the highlight).
 */
export function buildLine(
  host: Pick<ToolHost, 'sorted' | 'elements' | 'zoom' | 'style'>,
  kind: LineKind,
  id: string,
  z: string,
  world: readonly Point[],
): { element: Line | Arrow; endTarget: Element | null } {
  const pts = world.map((p): Point => [p[0], p[1]]);
  let startBinding: Binding | null = null;
  let endBinding: Binding | null = null;
  let endTarget: Element | null = null;
  if (kind === 'arrow' && pts.length >= 2) {
    const start = bindEnd(host, id, ...pts[0]!);
    const end = bindEnd(host, id, ...pts.at(-1)!);
    if (start) {
      startBinding = start.binding;
      pts[0] = start.at;
    }
    if (end) {
      endBinding = end.binding;
      endTarget = end.target;
      pts[pts.length - 1] = end.at;
    }
  }
  const [ox, oy] = [round2(pts[0]![0]), round2(pts[0]![1])];
  const { strokeColor, strokeWidth } = host.style;
  const points = pts.map((p): Point => [round2(p[0] - ox), round2(p[1] - oy)]) as Line['points'];
  const common = { id, z, strokeColor, strokeWidth, opacity: 1, x: ox, y: oy, points };
  if (kind === 'line') return { element: { type: 'line', ...common }, endTarget };
  const arrow: Arrow = { type: 'arrow', ...common };
  if (startBinding) arrow.startBinding = startBinding;
  if (endBinding) arrow.endBinding = endBinding;
  return { element: arrow, endTarget };
}

/**
 * Lines and arrows: a drag draws a two-point one (as before); a click starts one point by point --
 * each click adds a point, a rubber-band segment follows the pointer, double-click, Enter or a click
 * on the last point ends it, Escape drops it. Shift turns the segment being drawn in 15 degree steps. An arrow's ends bind to the
 * rectangle, ellipse or note they are dropped on (the shape is outlined while the end is over it).
 */
export function lineTool(host: ToolHost, kind: LineKind): Tool {
  /** The points placed so far (world); empty: nothing in progress. */
  let placed: Point[] = [];
  let press: ToolPointer | null = null;
  let dragged = false;
  let id = '';
  let z = '';
  let shown: Element | null = null;

  const far = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]) * host.zoom >= 3;
  const at = (p: ToolPointer, from: Point | undefined): Point => (p.shift && from ? snapFrom(from, p.x, p.y) : [p.x, p.y]);

  function show(world: Point[]) {
    const { element, endTarget } = buildLine(host, kind, id, z, world);
    shown = element;
    host.setDraft(element);
    host.setHighlight(endTarget ? bindHighlight(endTarget, host.zoom) : null);
    host.preview.update(element);
  }

  function reset() {
    if (shown) host.preview.end(shown.id);
    host.setDraft(null);
    host.setHighlight(null);
    placed = [];
    press = null;
    dragged = false;
    shown = null;
  }

  function commit(world: Point[]) {
    const { element } = buildLine(host, kind, id, z, world);
    host.commit({ type: 'add', opId: newId(), elements: [element] });
    reset();
    if (host.toolLocked) return;
    host.select([element.id]);
    host.setTool('select');
  }

  function finish(): boolean {
    if (!placed.length) return false;
    // A double-click's second click lands on the last point: drop points that repeat.
    const points = placed.filter((p, i) => i === 0 || far(p, placed[i - 1]!));
    if (points.length >= 2) commit(points);
    else reset();
    return true;
  }

  return {
    down(p) {
      press = p;
      dragged = false;
      if (!placed.length) {
        id = newId();
        z = host.nextZ();
      }
    },
    move(points) {
      const p = points.at(-1);
      if (!press || !p) return;
      if (far([press.x, press.y], [p.x, p.y])) dragged = true;
      if (!placed.length) {
        if (dragged) show([[press.x, press.y], at(p, [press.x, press.y])]);
      } else show([...placed, at(p, placed.at(-1))]);
    },
    up(p) {
      if (!press) return;
      const start: Point = [press.x, press.y];
      press = null;
      if (!placed.length) {
        if (dragged) commit([start, at(p, start)]);
        else {
          placed = [start];
          show([start, start]);
        }
        return;
      }
      const next = at(p, placed.at(-1));
      // A click on the last point ends the line (how a touch screen, without double-click or Enter, ends it).
      if (!far(next, placed.at(-1)!)) {
        finish();
        return;
      }
      placed.push(next);
      if (placed.length >= LIMITS.pointsPerLine) finish();
      else show([...placed, next]);
    },
    hover(p) {
      if (placed.length && !press) show([...placed, at(p, placed.at(-1))]);
      // Before an arrow starts, the shape its start would bind to is outlined.
      else if (!placed.length && !press && kind === 'arrow') {
        const start = bindEnd(host, '', p.x, p.y);
        host.setHighlight(start ? bindHighlight(start.target, host.zoom) : null);
      }
    },
    finish,
    cancel: reset,
  };
}
