import { applyOp, redo, undo, type Elements, type History, type HistoryEntry, type Op } from '@inkboard/protocol';

/**
 * Undo steps made of several ops. The protocol's undo history (`history.ts`) keeps one entry per op;
 * a restore of a version is up to three (a delete, an update, an add, split when large), yet it is one
 * action for the person who made it, so Ctrl+Z must undo all of it at once. Entries made by one such
 * action share a token here (entries are immutable objects, so identity names them); the undo and redo
 * of a group are again one group.
 */
export type UndoGroups = WeakMap<HistoryEntry, object>;

/** Marks the entries `after` gained over `before` as one step (nothing to do for fewer than two). */
export function markGroup(before: History, after: History, groups: UndoGroups): void {
  const known = new Set(before.undo);
  const added = after.undo.filter((entry) => !known.has(entry));
  if (added.length < 2) return;
  const token = {};
  for (const entry of added) groups.set(entry, token);
}

export interface GroupedStep {
  history: History;
  /** The ops to apply and send, in order (empty when nothing is left to undo or redo). */
  ops: Op[];
}

/**
 * Undoes (or redoes) the newest step that still has an effect: one entry, or every entry of its group,
 * each re-checked against the board as the ones before it left it (`history.ts` rules: only the user's
 * own changes). Entries without an effect are skipped, as the protocol's `undo` skips them.
 */
export function groupedStep(history: History, current: Elements, newOpId: () => string, direction: 'undo' | 'redo', groups: UndoGroups): GroupedStep {
  const fn = direction === 'undo' ? undo : redo;
  let from = [...(direction === 'undo' ? history.undo : history.redo)];
  const to = direction === 'undo' ? history.redo : history.undo;
  while (from.length) {
    const token = groups.get(from.at(-1)!);
    let n = 1;
    if (token) while (n < from.length && groups.get(from[from.length - 1 - n]!) === token) n++;
    const chunk = from.slice(-n);
    from = from.slice(0, -n);
    // The protocol's step on a history holding only this chunk, so it cannot run on into older entries.
    let h: History = direction === 'undo' ? { undo: chunk, redo: to } : { undo: to, redo: chunk };
    let elements = current;
    const ops: Op[] = [];
    for (;;) {
      const step = fn(h, elements, newOpId);
      h = step.history;
      if (!step.op) break;
      ops.push(step.op);
      const applied = applyOp(elements, step.op);
      if (applied.ok) elements = applied.elements;
    }
    if (!ops.length) continue;
    const moved = direction === 'undo' ? h.redo : h.undo;
    markGroup({ undo: to, redo: [] }, { undo: moved, redo: [] }, groups);
    return { history: direction === 'undo' ? { undo: from, redo: moved } : { undo: moved, redo: from }, ops };
  }
  return { history: direction === 'undo' ? { undo: [], redo: to } : { undo: to, redo: [] }, ops: [] };
}
