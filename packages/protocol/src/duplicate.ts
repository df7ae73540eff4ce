import type { Elements } from './applyOp.js';
import { newId as randomId } from './builders.js';
import type { Element } from './elements/index.js';
import { MAX_COORD } from './primitives.js';
import { sortElements, topZ, zRangeAbove } from './zorder.js';

export interface DuplicateOptions {
  /** Added to every copy's position (world units); default 10, 10. */
  offset?: [number, number];
  /** Makes the copies' ids and new group ids (default: random ids). */
  newId?: () => string;
}

const clampCoord = (v: number) => Math.max(-MAX_COORD, Math.min(MAX_COORD, v));

/**
 * Copies of `source` (a selection, or elements from the clipboard, maybe of another board) to add to
 * `board`: new ids, moved by `offset`, stacked above everything on `board` in their paint order. Groups
 * are remapped to new group ids (copies are grouped like the originals, apart from them); a label
 * keeps its container when the container is copied too (and then points at the copy), otherwise it
 * becomes a free text; an arrow stays bound to a copied shape (the copy), or to a shape of `board`
 * it was bound to, and is unbound otherwise.
 */
export function duplicateElements(source: Iterable<Element>, board: Elements, options: DuplicateOptions = {}): Element[] {
  const [dx, dy] = options.offset ?? [10, 10];
  const makeId = options.newId ?? (() => randomId());
  const sorted = sortElements(source);
  const ids = new Map<string, string>();
  const fresh = () => {
    let id = makeId();
    while (board.has(id) || [...ids.values()].includes(id)) id = makeId();
    return id;
  };
  for (const el of sorted) ids.set(el.id, fresh());
  const groups = new Map<string, string>();
  const group = (g: string) => {
    let n = groups.get(g);
    if (n === undefined) {
      n = makeId();
      groups.set(g, n);
    }
    return n;
  };
  const zs = zRangeAbove(topZ(board.values()), sorted.length);
  return sorted.map((el, i) => {
    const copy: Record<string, unknown> = { ...el, id: ids.get(el.id)!, z: zs[i]!, x: clampCoord(el.x + dx), y: clampCoord(el.y + dy) };
    if (el.groupIds?.length) copy.groupIds = el.groupIds.map(group);
    if (el.type === 'text' && el.containerId) copy.containerId = ids.get(el.containerId) ?? null;
    if (el.type === 'arrow') {
      for (const key of ['startBinding', 'endBinding'] as const) {
        const b = el[key];
        if (!b) continue;
        const target = ids.get(b.elementId);
        copy[key] = target ? { ...b, elementId: target } : board.has(b.elementId) ? b : null;
      }
    }
    return copy as Element;
  });
}
