import type { Elements } from './applyOp.js';
import type { Element } from './elements/index.js';
import { LIMITS } from './primitives.js';
import type { ElementUpdate } from './transform.js';

/*
 * Groups as in Excalidraw: an element's `groupIds` lists the groups it is in, innermost first, so its
 * outermost group is the last. Clicking an element selects its outermost group (or, while editing
 * inside a group, the next group inside it); grouping appends a new outermost group; ungrouping
 * removes the outermost one.
 */

/** The element's outermost group, or null. */
export function outermostGroup(el: Element): string | null {
  const ids = el.groupIds;
  return ids && ids.length ? ids[ids.length - 1]! : null;
}

/** Ids of the elements in group `groupId`. */
export function groupMembers(board: Elements, groupId: string): string[] {
  const out: string[] = [];
  for (const el of board.values()) if (el.groupIds?.includes(groupId)) out.push(el.id);
  return out;
}

/**
 * What a click on element `id` selects: its outermost group's members; while editing inside group
 * `editingGroupId` (one of the element's groups), the members of the group just inside it, or the
 * element alone when it is directly in it. Labels of selected containers are included.
 */
export function selectionForClick(board: Elements, id: string, editingGroupId: string | null = null): string[] {
  const el = board.get(id);
  if (!el) return [];
  const groups = el.groupIds ?? [];
  const at = editingGroupId === null ? -1 : groups.indexOf(editingGroupId);
  const group = at === -1 ? (groups.length ? groups[groups.length - 1]! : null) : at > 0 ? groups[at - 1]! : null;
  return withLabels(board, group === null ? [id] : groupMembers(board, group));
}

/** `ids` plus every member of their outermost groups, plus the labels of containers among them. */
export function expandToGroups(board: Elements, ids: Iterable<string>): string[] {
  const out = new Set<string>();
  const seenGroups = new Set<string>();
  for (const id of ids) {
    const el = board.get(id);
    if (!el) continue;
    out.add(id);
    const group = outermostGroup(el);
    if (group !== null && !seenGroups.has(group)) {
      seenGroups.add(group);
      for (const m of groupMembers(board, group)) out.add(m);
    }
  }
  return withLabels(board, out);
}

/** `ids` plus the labels (texts with `containerId`) of the containers among them. */
export function withLabels(board: Elements, ids: Iterable<string>): string[] {
  const out = new Set(ids);
  for (const el of board.values()) if (el.type === 'text' && el.containerId && out.has(el.containerId)) out.add(el.id);
  return [...out];
}

/**
 * Patches that put the elements `ids` (with their groups and labels) in a new outermost group
 * `groupId`. Null when fewer than two elements would be grouped, or one of them is already in
 * `LIMITS.groupDepth` groups.
 */
export function groupPatches(board: Elements, ids: Iterable<string>, groupId: string): ElementUpdate[] | null {
  const members = expandToGroups(board, ids).map((id) => board.get(id)!);
  if (members.length < 2) return null;
  if (members.some((el) => (el.groupIds?.length ?? 0) >= LIMITS.groupDepth)) return null;
  return members.map((el) => ({ id: el.id, patch: { groupIds: [...(el.groupIds ?? []), groupId] } }));
}

/** Patches that dissolve the outermost groups of the elements `ids` (each member loses that group). */
export function ungroupPatches(board: Elements, ids: Iterable<string>): ElementUpdate[] {
  const groups = new Set<string>();
  for (const id of ids) {
    const el = board.get(id);
    const g = el ? outermostGroup(el) : null;
    if (g !== null) groups.add(g);
  }
  const out: ElementUpdate[] = [];
  for (const el of board.values()) {
    const own = el.groupIds ?? [];
    if (!own.some((g) => groups.has(g))) continue;
    out.push({ id: el.id, patch: { groupIds: own.filter((g) => !groups.has(g)) } });
  }
  return out;
}
