import {
  alignPatches,
  distributePatches,
  expandToGroups,
  followUpdates,
  groupPatches,
  newId,
  selectionForClick,
  ungroupPatches,
  withLabels,
  type AlignMode,
  type DistributeAxis,
  type Element,
  type ElementUpdate,
} from '@inkboard/protocol';
import { elementAt } from '../canvas/hitTest.js';
import type { Editor } from './Editor.svelte.js';

/*
 * Group, ungroup, lock, unlock, align and distribute the selection. Each is one update op of the
 * editor (live for others, one step of the user's own undo); moves carry their bound arrows and labels.
 */

function commitUpdates(editor: Editor, updates: readonly ElementUpdate[]): void {
  if (updates.length) editor.commit({ type: 'update', opId: newId(), updates: [...updates] });
}

/** Ctrl+G: the selection (with the groups it touches) becomes one new group, which stays selected. */
export function groupSelection(editor: Editor): void {
  if (!editor.canEdit) return;
  const patches = groupPatches(editor.elements, editor.selection, newId());
  if (!patches) return;
  commitUpdates(editor, patches);
  editor.select(patches.map((p) => p.id));
}

/** Ctrl+Shift+G: the selection's outermost groups are dissolved; their members stay selected. */
export function ungroupSelection(editor: Editor): void {
  if (!editor.canEdit) return;
  commitUpdates(editor, ungroupPatches(editor.elements, editor.selection));
}

/** How many units the selection has: outermost groups and lone elements (a label rides with its box). */
export function unitCount(editor: Editor): number {
  const carried = (el: Element) => el.type === 'text' && !!el.containerId && editor.selection.has(el.containerId);
  return new Set(editor.selected.filter((el) => !carried(el)).map((el) => el.groupIds?.at(-1) ?? `#${el.id}`)).size;
}

/**
 * Double-click on a grouped element (Select tool) enters its group, as in Excalidraw: one level per
 * double-click, and clicks then select inside it (the element alone at the innermost level). False
 * when there is no level left to enter (the double-click then edits text or a label).
 */
export function enterGroupAt(editor: Editor, x: number, y: number): boolean {
  if (editor.tool !== 'select') return false;
  const hit = elementAt(editor.sorted, x, y, 4 / editor.zoom, { skipLocked: true, labelsAsContainer: true });
  const groups = hit?.groupIds ?? [];
  if (!hit || groups.length === 0) return false;
  const inside = editor.editingGroup === null ? -1 : groups.indexOf(editor.editingGroup);
  const next = inside === -1 ? groups.length - 1 : inside - 1;
  if (next < 0) return false;
  editor.setEditingGroup(groups[next]!);
  editor.select(selectionForClick(editor.elements, hit.id, groups[next]!));
  return true;
}

/** Whether the selection is (or has) a group to dissolve. */
export function hasGroup(editor: Editor): boolean {
  return editor.selected.some((el) => (el.groupIds?.length ?? 0) > 0);
}

/** Locks (or unlocks) the selection with its groups and labels; it stays selected (without handles when locked). */
export function setSelectionLocked(editor: Editor, locked: boolean): void {
  if (!editor.canEdit) return;
  const ids = expandToGroups(editor.elements, editor.selection);
  commitUpdates(
    editor,
    ids.flatMap((id) => ((editor.elements.get(id)?.locked ?? false) === locked ? [] : [{ id, patch: { locked } }])),
  );
  editor.select(ids);
}

/** Ctrl+Shift+L: unlocks the selection when any of it is locked, otherwise locks it. */
export function toggleSelectionLock(editor: Editor): void {
  if (!editor.selection.size) return;
  setSelectionLocked(editor, !editor.selected.some((el) => el.locked));
}

/** "Unlock all": every locked element of the board is unlocked and selected (the way back to a locked element). */
export function unlockAll(editor: Editor): void {
  if (!editor.canEdit) return;
  const locked = editor.sorted.filter((el) => el.locked).map((el) => el.id);
  if (!locked.length) return;
  commitUpdates(editor, locked.map((id) => ({ id, patch: { locked: false } })));
  editor.setTool('select');
  editor.select(locked);
}

/** The selection with its groups' members and labels, as elements. */
function selectionUnits(editor: Editor) {
  const ids = new Set(withLabels(editor.elements, expandToGroups(editor.elements, editor.selection)));
  return editor.sorted.filter((el) => ids.has(el.id));
}

/** Aligns the selection's elements (groups as one) to an edge or the middle of the box around them. */
export function alignSelection(editor: Editor, mode: AlignMode): void {
  if (!editor.canEdit) return;
  const patches = alignPatches(selectionUnits(editor), mode);
  if (patches.length) commitUpdates(editor, followUpdates(editor.elements, patches));
}

/** Spaces the selection's elements (groups as one) evenly across or down. */
export function distributeSelection(editor: Editor, axis: DistributeAxis): void {
  if (!editor.canEdit) return;
  const patches = distributePatches(selectionUnits(editor), axis);
  if (patches.length) commitUpdates(editor, followUpdates(editor.elements, patches));
}
