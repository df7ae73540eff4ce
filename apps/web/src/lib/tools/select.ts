import { duplicateElements, followUpdates, newId, selectionForClick, type Element } from '@inkboard/protocol';
import { withLabels } from '../board/arrange.js';
import { elementAt, elementsInBox, unionBoxes } from '../canvas/hitTest.js';
import { boundsOf } from '../canvas/geometryCache.js';
import { boxFrom } from '../canvas/viewport.js';
import { FollowerPreviews, movePatches } from './followers.js';
import { tolerance, type Tool, type ToolHost, type ToolPointer } from './types.js';

/** Moves of more elements than this are not previewed live to others (the op still syncs). */
const MAX_LIVE_MOVE_PREVIEWS = 20;

/** Click to select (Shift adds), drag a selection to move it, drag on empty space for a marquee. */
export function selectTool(host: ToolHost): Tool {
  let mode: 'idle' | 'move' | 'marquee' = 'idle';
  let origin: ToolPointer | null = null;
  let delta: [number, number] = [0, 0];
  let moving: Element[] = [];
  // One set per drag: the renderer keys its cached layer on it.
  let movingIds: ReadonlySet<string> = new Set();
  let base = new Set<string>();
  // Alt held when the drag began: the drag leaves the selection in place and drops a copy (Excalidraw).
  let copying = false;
  const followers = new FollowerPreviews(host);

  function insideSelection(p: ToolPointer): boolean {
    const box = unionBoxes([...host.selection].map((id) => host.elements.get(id)).filter((e) => e !== undefined).map(boundsOf));
    const pad = tolerance(host, 8);
    return box !== null && p.x >= box.minX - pad && p.x <= box.maxX + pad && p.y >= box.minY - pad && p.y <= box.maxY + pad;
  }

  function endPreviews() {
    for (const el of moving.slice(0, MAX_LIVE_MOVE_PREVIEWS)) host.preview.end(el.id);
    followers.end();
  }

  function reset() {
    endPreviews();
    host.setMoving(null);
    host.setMarquee(null);
    mode = 'idle';
    origin = null;
    moving = [];
    delta = [0, 0];
    copying = false;
  }

  return {
    down(p) {
      origin = p;
      delta = [0, 0];
      // Locked elements are not hit; a click on a grouped element takes its whole group.
      const hit = elementAt(host.sorted, p.x, p.y, tolerance(host), { skipLocked: true, labelsAsContainer: true });
      // Inside an entered group (double-click) a click selects within it; a click elsewhere leaves it.
      const inside = hit && host.editingGroup !== null && hit.groupIds?.includes(host.editingGroup) ? host.editingGroup : null;
      if (host.editingGroup !== null && !inside && !(hit === null && insideSelection(p))) host.setEditingGroup(null);
      const group = hit ? selectionForClick(host.elements, hit.id, inside) : [];
      if (hit && p.shift) {
        const next = new Set(host.selection);
        const removing = next.has(hit.id);
        for (const id of group) {
          if (removing) next.delete(id);
          else next.add(id);
        }
        host.select(next);
        mode = next.has(hit.id) ? 'move' : 'idle';
      } else if (hit) {
        if (!host.selection.has(hit.id)) host.select(group);
        mode = 'move';
      } else if (!p.shift && insideSelection(p)) {
        mode = 'move';
      } else {
        if (!p.shift) host.select([]);
        base = new Set(host.selection);
        mode = 'marquee';
      }
      copying = mode === 'move' && p.alt;
      moving = mode === 'move' ? [...host.selection].map((id) => host.elements.get(id)).filter((e) => e !== undefined) : [];
      movingIds = new Set(moving.map((e) => e.id));
    },
    move(points) {
      const p = points.at(-1);
      if (!origin || !p) return;
      if (mode === 'move') {
        let dx = p.x - origin.x;
        let dy = p.y - origin.y;
        if (p.shift) {
          if (Math.abs(dx) > Math.abs(dy)) dy = 0;
          else dx = 0;
        }
        delta = [dx, dy];
        host.setMoving({ ids: movingIds, dx, dy });
        if (!copying) {
          const live = moving.length <= MAX_LIVE_MOVE_PREVIEWS;
          const updates = movePatches(host.elements, live ? moving : moving.slice(0, MAX_LIVE_MOVE_PREVIEWS), dx, dy);
          for (const [i, { patch }] of updates.entries()) host.preview.update({ ...moving[i]!, ...patch } as Element);
          // Bound arrows and labels follow for others too (small moves only, as above).
          if (live) followers.update(updates);
        }
      } else if (mode === 'marquee') {
        const box = boxFrom(origin.x, origin.y, p.x, p.y);
        host.setMarquee(box);
        host.select([...base, ...elementsInBox(host.sorted, box).filter((id) => !host.elements.get(id)?.locked)]);
      }
    },
    up() {
      const [dx, dy] = delta;
      if (copying && Math.hypot(dx, dy) * host.zoom >= 1 && moving.length) {
        const copies = duplicateElements(withLabels(host.sorted, movingIds), host.elements, { offset: [dx, dy] });
        host.commit({ type: 'add', opId: newId(), elements: copies });
        host.select(copies.filter((c) => !(c.type === 'text' && c.containerId)).map((c) => c.id));
      } else if (mode === 'move' && Math.hypot(dx, dy) * host.zoom >= 1 && moving.length) {
        // Bound arrow ends and labels follow the moved shapes in the same op (one undo step).
        host.commit({ type: 'update', opId: newId(), updates: followUpdates(host.elements, movePatches(host.elements, moving, dx, dy)) });
      }
      reset();
    },
    cancel: reset,
  };
}
