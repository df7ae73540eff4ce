import type { Elements } from './applyOp.js';
import type { Arrow, Binding, Element, ElementPatch, Text } from './elements/index.js';
import { elementCenter, elementFrame, rotatePoint } from './geometry.js';
import { MAX_COORD } from './primitives.js';
import { isContainer, layoutText } from './textLayout.js';
import { turnElement, type ElementUpdate } from './transform.js';

/*
 * Things that follow other things: an arrow's bound end follows its shape (`startBinding` /
 * `endBinding`: a normalized point of the shape's box), a label follows its container. Bound by id,
 * so whoever moves the shape -- this person or another -- the end point is recomputed from the shape
 * as it is now: `followUpdates` adds those changes to one's own op, and the renderers (canvas and
 * SVG) draw bound ends and labels from their shape as it is, so two people editing at once converge
 * on screen even before anyone sends the follow-up change.
 */

/** A shape an arrow end may bind to. */
export type Bindable = Extract<Element, { type: 'rectangle' | 'ellipse' | 'note' }>;
export const isBindable = isContainer;

const clampCoord = (v: number) => Math.max(-MAX_COORD, Math.min(MAX_COORD, v));
const round = (v: number) => Math.round(v * 100) / 100;
const clamp01 = (v: number) => Math.max(0, Math.min(1, v));

/** The world point a binding stands for on `target` (its normalized box point, turned with the shape). */
export function bindingPoint(target: Element, fixedPoint: readonly [number, number]): [number, number] {
  const f = elementFrame(target);
  const [cx, cy] = elementCenter(target);
  const x = f.minX + fixedPoint[0] * (f.maxX - f.minX);
  const y = f.minY + fixedPoint[1] * (f.maxY - f.minY);
  return rotatePoint(x, y, cx, cy, target.angle ?? 0);
}

/** The normalized point of `target`'s box under the world point (clamped into the box). */
export function fixedPointOf(target: Element, x: number, y: number): [number, number] {
  const f = elementFrame(target);
  const [cx, cy] = elementCenter(target);
  const [lx, ly] = rotatePoint(x, y, cx, cy, -(target.angle ?? 0));
  const w = f.maxX - f.minX;
  const h = f.maxY - f.minY;
  return [round4(w > 0 ? clamp01((lx - f.minX) / w) : 0.5), round4(h > 0 ? clamp01((ly - f.minY) / h) : 0.5)];
}
const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

export interface BindTargetOptions {
  /** Ids that may not be bound to (the arrow itself, the selection being dragged). */
  exclude?: ReadonlySet<string>;
  /** How far outside a shape's box the point may be, in world units (a few screen pixels). */
  tolerance?: number;
}

/**
 * The binding an arrow end dropped at (x, y) gets: the topmost rectangle, ellipse or note (not
 * locked, not excluded) whose turned box contains the point (within `tolerance`), and the point's
 * normalized place in that box; null over empty board. `elements` is in paint order.
 */
export function findBindTarget(elements: readonly Element[], x: number, y: number, options: BindTargetOptions = {}): Binding | null {
  const tolerance = options.tolerance ?? 0;
  for (let i = elements.length - 1; i >= 0; i--) {
    const el = elements[i]!;
    if (!isBindable(el) || el.locked || options.exclude?.has(el.id)) continue;
    const [cx, cy] = elementCenter(el);
    const [lx, ly] = rotatePoint(x, y, cx, cy, -(el.angle ?? 0));
    if (lx < el.x - tolerance || lx > el.x + el.width + tolerance || ly < el.y - tolerance || ly > el.y + el.height + tolerance) continue;
    return { elementId: el.id, fixedPoint: fixedPointOf(el, x, y) };
  }
  return null;
}

/**
 * The arrow's points with its bound ends placed on their shapes as found by `lookup` (an end whose
 * shape is gone stays where it is). Relative to the arrow's `x`, `y`; its own `angle` is taken into account.
 */
export function resolvedArrowPoints(arrow: Arrow, lookup: (id: string) => Element | undefined): Arrow['points'] {
  const start = arrow.startBinding ? lookup(arrow.startBinding.elementId) : undefined;
  const end = arrow.endBinding ? lookup(arrow.endBinding.elementId) : undefined;
  if (!start && !end) return arrow.points;
  const angle = arrow.angle ?? 0;
  const [cx, cy] = angle === 0 ? [0, 0] : elementCenter(arrow);
  const local = (p: [number, number]): [number, number] => {
    const [x, y] = rotatePoint(p[0], p[1], cx, cy, -angle);
    return [clampCoord(round(x - arrow.x)), clampCoord(round(y - arrow.y))];
  };
  const points = arrow.points.slice() as Arrow['points'];
  if (start && arrow.startBinding) points[0] = local(bindingPoint(start, arrow.startBinding.fixedPoint));
  if (end && arrow.endBinding) points[points.length - 1] = local(bindingPoint(end, arrow.endBinding.fixedPoint));
  return points;
}

/**
 * Where a label goes: `x`, `y` at the top-left of its block centred in the container (what a new
 * label's `x`, `y` should be; `bindingPatches` keeps them there).
 */
export function labelPlace(label: Text, container: Element): { x: number; y: number } {
  const layout = layoutText(label, (id) => (id === container.id ? container : undefined));
  const top = (layout.lines[0]?.baseline ?? 0) - label.fontSize * 0.9;
  const [cx] = elementCenter(container);
  let left = cx;
  for (const line of layout.lines) {
    const width = line.text.length * label.fontSize * 0.6;
    const lineLeft = layout.align === 'left' ? line.x : layout.align === 'right' ? line.x - width : line.x - width / 2;
    left = Math.min(left, lineLeft);
  }
  return { x: clampCoord(round(left)), y: clampCoord(round(top)) };
}

/**
 * Patches that keep followers attached after the elements `changed` changed on `board` (the board
 * already holds the changes): bound arrow ends move onto their shapes, labels to the middle of their
 * containers (and take their angle). Arrows and labels that themselves changed are also re-placed.
 */
export function bindingPatches(board: Elements, changed: Iterable<string>): ElementUpdate[] {
  return followerPatches(board, new Map(), new Set(changed));
}

/** `bindingPatches` on `board` with the elements of `changes` standing in for theirs (no copy of the board). */
function followerPatches(board: Elements, changes: ReadonlyMap<string, Element>, ids: ReadonlySet<string>): ElementUpdate[] {
  if (ids.size === 0) return [];
  const lookup = (id: string) => changes.get(id) ?? board.get(id);
  const out: ElementUpdate[] = [];
  for (const stored of board.values()) {
    const el = changes.get(stored.id) ?? stored;
    if (el.type === 'arrow') {
      const s = el.startBinding?.elementId;
      const e = el.endBinding?.elementId;
      if (!((s && ids.has(s)) || (e && ids.has(e)) || ((s || e) && ids.has(el.id)))) continue;
      // An arrow with its own angle has it baked into its points first, so its ends are plain.
      const base: Arrow = (el.angle ?? 0) !== 0 ? ({ ...el, ...turnElement(el, 0, 0, 0) } as Arrow) : el;
      const points = resolvedArrowPoints(base, lookup);
      const patch: ElementPatch = {};
      if (points !== base.points && points.some((p, i) => p[0] !== el.points[i]![0] || p[1] !== el.points[i]![1])) patch.points = points;
      if ((el.angle ?? 0) !== 0) {
        patch.angle = 0;
        patch.points = points;
      }
      if (Object.keys(patch).length) out.push({ id: el.id, patch });
    } else if (el.type === 'text' && el.containerId && (ids.has(el.containerId) || ids.has(el.id))) {
      const container = lookup(el.containerId);
      if (!container || !isContainer(container)) continue;
      const { x, y } = labelPlace(el, container);
      const angle = container.angle ?? 0;
      const patch: ElementPatch = {};
      if (x !== el.x) patch.x = x;
      if (y !== el.y) patch.y = y;
      if (angle !== (el.angle ?? 0)) patch.angle = angle;
      if (Object.keys(patch).length) out.push({ id: el.id, patch });
    }
  }
  return out;
}

/**
 * `updates` (one's own change: a move, resize, rotate...) plus the changes that keep bound arrows
 * and labels attached (`bindingPatches` on the board with `updates` applied). Send them as one op,
 * so one undo takes back both. Patches of the same id are merged (the follower's last).
 */
export function followUpdates(board: Elements, updates: readonly ElementUpdate[]): ElementUpdate[] {
  const changes = new Map<string, Element>();
  for (const { id, patch } of updates) {
    const el = changes.get(id) ?? board.get(id);
    if (el) changes.set(id, { ...el, ...patch } as Element);
  }
  const merged = new Map<string, ElementPatch>();
  for (const { id, patch } of updates) merged.set(id, { ...merged.get(id), ...patch });
  for (const { id, patch } of followerPatches(board, changes, new Set(updates.map((u) => u.id)))) merged.set(id, { ...merged.get(id), ...patch });
  return [...merged].map(([id, patch]) => ({ id, patch }));
}

/** The patch that binds (or with null unbinds) an arrow's start or end. */
export function bindPatch(end: 'start' | 'end', binding: Binding | null): ElementPatch {
  return end === 'start' ? { startBinding: binding } : { endBinding: binding };
}
