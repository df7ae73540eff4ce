import type { Elements } from './applyOp.js';
import { assertNever } from './applyOp.js';
import { missingFieldValue, type Element, type ElementPatch } from './elements/index.js';
import type { Op } from './ops.js';

/**
 * Per-user undo/redo. Only a person's own ops enter their history, and an entry is re-checked
 * against the board when it is used, so undo never removes or overwrites a teammate's work and never
 * resurrects an element someone else deleted.
 */
export interface HistoryEntry {
  /** The op as it was applied (or the last redo of it). */
  forward: Op;
  /** Its inverse, computed against the board just before `forward`. */
  inverse: Op;
}

export interface History {
  undo: readonly HistoryEntry[];
  redo: readonly HistoryEntry[];
}

export const emptyHistory: History = { undo: [], redo: [] };

/** Most entries kept per stack. */
export const HISTORY_LIMIT = 200;

/** The op that undoes `op` on the board `before` it, or null when `op` changes nothing there. */
export function invertOp(before: Elements, op: Op, opId: string): Op | null {
  switch (op.type) {
    case 'add':
      return { type: 'delete', opId, ids: op.elements.map((e) => e.id) };
    case 'delete': {
      const elements = [...new Set(op.ids)].map((id) => before.get(id)).filter((e): e is Element => e !== undefined);
      return elements.length ? { type: 'add', opId, elements } : null;
    }
    case 'clear':
      return before.size ? { type: 'add', opId, elements: [...before.values()] } : null;
    case 'update': {
      const updates: { id: string; patch: ElementPatch }[] = [];
      for (const { id, patch } of op.updates) {
        const el = before.get(id) as Record<string, unknown> | undefined;
        if (el === undefined) continue;
        const back: Record<string, unknown> = {};
        for (const key of Object.keys(patch)) {
          // A field the element was stored without (angle, locked, ...) goes back to what its absence meant.
          const value = el[key] !== undefined ? el[key] : missingFieldValue(el as Element, key);
          if (value !== undefined) back[key] = value;
        }
        if (Object.keys(back).length) updates.push({ id, patch: back as ElementPatch });
      }
      return updates.length ? { type: 'update', opId, updates } : null;
    }
    default:
      return assertNever(op);
  }
}

/**
 * Narrows a stored undo or redo op to what still has an effect of the user's own on `current`:
 * `expected` is the op whose effect it reverts (the entry's other half). Returns null to skip.
 */
export function rebaseOp(current: Elements, op: Op, expected: Op): Op | null {
  switch (op.type) {
    case 'delete':
    case 'clear': {
      // Delete only what the user's own op brought in and that is still there.
      const ids = op.type === 'delete' ? op.ids : expected.type === 'add' ? expected.elements.map((e) => e.id) : [];
      const present = ids.filter((id) => current.has(id));
      return present.length ? { type: 'delete', opId: op.opId, ids: present } : null;
    }
    case 'add': {
      const missing = [...new Map(op.elements.map((e) => [e.id, e])).values()].filter((e) => !current.has(e.id));
      return missing.length ? { type: 'add', opId: op.opId, elements: missing } : null;
    }
    case 'update': {
      const expectedValues = new Map<string, Record<string, unknown>>();
      if (expected.type === 'update') for (const u of expected.updates) expectedValues.set(u.id, { ...expectedValues.get(u.id), ...u.patch });
      const updates: { id: string; patch: ElementPatch }[] = [];
      for (const { id, patch } of op.updates) {
        const el = current.get(id) as Record<string, unknown> | undefined;
        const mine = expectedValues.get(id);
        if (el === undefined || mine === undefined) continue; // deleted meanwhile: nothing to restore
        const kept: Record<string, unknown> = {};
        // Revert a property only while it still holds the value this user set.
        for (const [key, value] of Object.entries(patch)) if (deepEqual(el[key], mine[key])) kept[key] = value;
        if (Object.keys(kept).length) updates.push({ id, patch: kept as ElementPatch });
      }
      return updates.length ? { type: 'update', opId: op.opId, updates } : null;
    }
    default:
      return assertNever(op);
  }
}

/** Records an op the user just made on the board `before` it; clears the redo stack. */
export function record(history: History, before: Elements, op: Op, opId: string): History {
  const inverse = invertOp(before, op, opId);
  if (inverse === null) return history;
  return { undo: [...history.undo, { forward: op, inverse }].slice(-HISTORY_LIMIT), redo: [] };
}

export interface Step {
  history: History;
  /** The op to apply and send, or null when nothing is left to undo (redo). */
  op: Op | null;
}

/** Undoes the newest entry that still has an effect, skipping the ones that no longer do. */
export function undo(history: History, current: Elements, newOpId: () => string): Step {
  return step(history, current, newOpId, 'undo');
}

/** Redoes the newest undone entry that still has an effect. */
export function redo(history: History, current: Elements, newOpId: () => string): Step {
  return step(history, current, newOpId, 'redo');
}

function step(history: History, current: Elements, newOpId: () => string, direction: 'undo' | 'redo'): Step {
  const from = [...(direction === 'undo' ? history.undo : history.redo)];
  const to = direction === 'undo' ? history.redo : history.undo;
  while (from.length) {
    const entry = from.pop()!;
    const stored = direction === 'undo' ? entry.inverse : entry.forward;
    const expected = direction === 'undo' ? entry.forward : entry.inverse;
    const rebased = rebaseOp(current, stored, expected);
    if (rebased === null) continue;
    const op = { ...rebased, opId: newOpId() };
    const back = invertOp(current, op, newOpId());
    const moved = back === null ? to : [...to, direction === 'undo' ? { forward: back, inverse: op } : { forward: op, inverse: back }];
    return direction === 'undo' ? { history: { undo: from, redo: moved }, op } : { history: { undo: moved, redo: from }, op };
  }
  return { history: direction === 'undo' ? { undo: [], redo: to } : { undo: to, redo: [] }, op: null };
}

/** Structural equality for JSON values (element properties). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}
