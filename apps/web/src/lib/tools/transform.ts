import {
  angleBetween,
  followUpdates,
  newId,
  resizeElements,
  rotateElements,
  selectionFrame,
  snapAngle,
  transformTargets,
  handlePosition,
  resizeBox,
  type Element,
  type ElementUpdate,
  type SelectionFrame,
} from '@inkboard/protocol';
import { handleAt, TOUCH_REACH, type HandleName } from '../canvas/handles.js';
import type { Tool, ToolHost, ToolPointer } from './types.js';

/** Resizes and turns of more elements than this are not previewed live to others (the op still syncs). */
const MAX_LIVE_PREVIEWS = 20;
/**
 * Up to this many elements, a resize is drawn exactly as it will be stored while dragged; a bigger
 * selection is drawn under one affine transform (its cached paths scaled, strokes' widths too, until
 * the release), which keeps the frame rate with hundreds of elements. A turn is exact either way.
 */
const MAX_EXACT_PREVIEW = 40;

type Matrix = [number, number, number, number, number, number];

/** What the transform gesture needs from the editor besides a tool's host. */
export interface TransformHost extends ToolHost {
  /** The selection's frame when it shows transform handles (null: no handles). */
  readonly handleFrame: SelectionFrame | null;
  /** The frame to draw while a transform is dragged (null: the selection's own). */
  setTransformFrame(frame: SelectionFrame | null): void;
}

interface Gesture {
  handle: HandleName;
  /** The selection (with labels) as it was when the drag began. */
  start: Element[];
  frame: SelectionFrame;
  ids: ReadonlySet<string>;
  /** The press's offset from the exact handle point (handles are drawn outside the frame). */
  offset: [number, number];
  down: ToolPointer;
  /** The last computed change (with followers), committed on release. */
  updates: ElementUpdate[];
  /** Ids previewed to others. */
  previewed: Set<string>;
}

/**
 * The Select tool with transform handles: a press on a handle of the selection resizes (Shift keeps
 * the aspect ratio, or frees it when an image is selected; Alt resizes from the centre) or turns it (Shift snaps to 15 degrees); anything
 * else goes to the Select tool. While dragged, the change is drawn and previewed to others; on
 * release it is one update op (with bound arrows and labels following, so one undo takes all back).
 */
export function transformTool(host: TransformHost, select: Tool): Tool {
  let g: Gesture | null = null;

  function begin(p: ToolPointer): boolean {
    const frame = host.handleFrame;
    const handle = frame ? handleAt(frame, host.zoom, p.x, p.y, p.touch ? TOUCH_REACH : undefined) : null;
    if (!frame || !handle) return false;
    const start = host.sorted.filter((el) => host.selection.has(el.id));
    const exact = handle === 'rotate' ? [p.x, p.y] : handlePosition(frame, handle);
    g = { handle, start, frame, ids: new Set(transformTargets(start).map((el) => el.id)), offset: [exact[0]! - p.x, exact[1]! - p.y], down: p, updates: [], previewed: new Set() };
    return true;
  }

  /** The frame drawn while turning: the starting frame turned by the same angle as the elements. */
  function turnedFrame(gesture: Gesture, turn: number): SelectionFrame {
    return { box: gesture.frame.box, angle: gesture.frame.angle + turn };
  }

  function update(gesture: Gesture, p: ToolPointer): void {
    const { box } = gesture.frame;
    const cx = (box.minX + box.maxX) / 2;
    const cy = (box.minY + box.maxY) / 2;
    let own: ElementUpdate[];
    let matrix: Matrix | undefined;
    const big = gesture.ids.size > MAX_EXACT_PREVIEW;
    if (gesture.handle === 'rotate') {
      const delta = angleBetween(cx, cy, [gesture.down.x, gesture.down.y], [p.x, p.y]);
      own = rotateElements(gesture.start, delta, { snap: p.shift });
      const targets = transformTargets(gesture.start);
      const lone = targets.length === 1 ? (targets[0]!.angle ?? 0) : null;
      const turn = !p.shift ? delta : lone !== null ? snapAngle(lone + delta) - lone : snapAngle(delta);
      host.setTransformFrame(turnedFrame(gesture, turn));
      if (big) {
        const cos = Math.cos(turn);
        const sin = Math.sin(turn);
        matrix = [cos, sin, -sin, cos, cx - cx * cos + cy * sin, cy - cx * sin - cy * cos];
      }
    } else {
      const pointer: [number, number] = [p.x + gesture.offset[0], p.y + gesture.offset[1]];
      const options = { keepAspect: keepsAspect(gesture.start) ? !p.shift : p.shift, fromCentre: p.alt };
      own = resizeElements(gesture.start, gesture.handle, pointer, options);
      // Several elements: the frame is unturned, and each point maps as the box does.
      if (big && gesture.frame.angle === 0) {
        const next = resizeBox(box, gesture.handle, pointer[0], pointer[1], options);
        const sx = box.maxX > box.minX ? (next.maxX - next.minX) / (box.maxX - box.minX) : 1;
        const sy = box.maxY > box.minY ? (next.maxY - next.minY) / (box.maxY - box.minY) : 1;
        matrix = [sx, 0, 0, sy, next.minX - box.minX * sx, next.minY - box.minY * sy];
      }
    }
    const updates = followUpdates(host.elements, own);
    gesture.updates = updates;
    const replaced = new Map<string, Element>();
    for (const { id, patch } of updates) {
      const el = host.elements.get(id);
      if (el) replaced.set(id, { ...el, ...patch } as Element);
    }
    if (gesture.handle !== 'rotate') {
      const frame = selectionFrame(gesture.start.map((el) => replaced.get(el.id) ?? el));
      host.setTransformFrame(frame);
    }
    host.setMoving(matrix ? { ids: gesture.ids, dx: 0, dy: 0, replaced, matrix } : { ids: gesture.ids, dx: 0, dy: 0, replaced });
    for (const el of replaced.values()) {
      if (gesture.previewed.size >= MAX_LIVE_PREVIEWS && !gesture.previewed.has(el.id)) continue;
      gesture.previewed.add(el.id);
      host.preview.update(el);
    }
  }

  function reset(): void {
    if (g) for (const id of g.previewed) host.preview.end(id);
    g = null;
    host.setMoving(null);
    host.setTransformFrame(null);
  }

  return {
    // The Select tool's optional parts (hovering, finishing) pass through.
    ...select,
    down(p) {
      if (!begin(p)) select.down(p);
    },
    move(points) {
      const p = points.at(-1);
      if (!g) select.move(points);
      else if (p) update(g, p);
    },
    up(p) {
      if (!g) {
        select.up(p);
        return;
      }
      // A drag that ends where it began changes nothing: no op, no undo step.
      const changed = changedOnly(host, g.updates);
      if (changed.length) host.commit({ type: 'update', opId: newId(), updates: changed });
      reset();
    },
    cancel() {
      if (g) reset();
      else select.cancel();
    },
  };
}

/** A selection with an image keeps its aspect ratio unless Shift is held (the opposite of shapes, as in Excalidraw). */
function keepsAspect(elements: readonly Element[]): boolean {
  return elements.some((el) => el.type === 'image');
}

/** Arrow keys on a focused handle: its direction in screen terms. */
export const HANDLE_KEYS: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

/**
 * The keyboard's way to use a handle: a resize handle moves by (dx, dy) screen pixels, the rotation
 * handle turns by 15 degrees (right and down clockwise, to the next multiple of 15 for a lone
 * element). One update op (with bound arrows and labels); false when there was nothing to change.
 */
export function stepHandle(host: TransformHost, handle: HandleName, dx: number, dy: number): boolean {
  const frame = host.handleFrame;
  if (!frame) return false;
  const start = host.sorted.filter((el) => host.selection.has(el.id));
  let own: ElementUpdate[];
  if (handle === 'rotate') {
    own = rotateElements(start, (dx + dy > 0 ? 1 : -1) * (Math.PI / 12), { snap: true });
  } else {
    const [x, y] = handlePosition(frame, handle);
    own = resizeElements(start, handle, [x + dx / host.zoom, y + dy / host.zoom], { keepAspect: keepsAspect(start) });
  }
  const updates = changedOnly(host, followUpdates(host.elements, own));
  if (!updates.length) return false;
  host.commit({ type: 'update', opId: newId(), updates });
  return true;
}

/** The updates that change something of their element as the board has it now. */
function changedOnly(host: Pick<ToolHost, 'elements'>, updates: readonly ElementUpdate[]): ElementUpdate[] {
  return updates.filter((u) => {
    const el = host.elements.get(u.id) as Record<string, unknown> | undefined;
    return el !== undefined && Object.entries(u.patch).some(([k, v]) => JSON.stringify(el[k]) !== JSON.stringify(v));
  });
}
