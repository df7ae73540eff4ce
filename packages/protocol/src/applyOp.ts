import { FROZEN_KEYS } from './elements/common.js';
import { storedElementSchema, type Element } from './elements/index.js';
import type { Op } from './ops.js';
import { LIMITS } from './primitives.js';

/** A board's live elements by id. */
export type Elements = ReadonlyMap<string, Element>;

export type ApplyResult = { ok: true; elements: Map<string, Element> } | { ok: false; error: string };

/**
 * Applies `op` to a copy of `elements`. Merge rules: properties are last-writer-wins in the order
 * ops are applied; updates and deletes of missing elements are dropped (delete wins over update);
 * an op that is invalid against the board (duplicate id, patch that does not fit the kind, board
 * full) changes nothing and returns an error.
 */
export function applyOp(elements: Elements, op: Op): ApplyResult {
  const next = new Map(elements);
  const error = applyOpInPlace(next, op);
  return error === null ? { ok: true, elements: next } : { ok: false, error };
}

/** Applies ops in order on one copy; stops at the first invalid op. */
export function applyOps(elements: Elements, ops: readonly Op[]): ApplyResult {
  const next = new Map(elements);
  for (const op of ops) {
    const error = applyOpInPlace(next, op);
    if (error !== null) return { ok: false, error: `op ${op.opId}: ${error}` };
  }
  return { ok: true, elements: next };
}

/** Mutating form of `applyOp` for hot paths that own their map; returns an error or null. Atomic per op. */
export function applyOpInPlace(elements: Map<string, Element>, op: Op): string | null {
  switch (op.type) {
    case 'add': {
      const seen = new Set<string>();
      for (const el of op.elements) {
        if (elements.has(el.id) || seen.has(el.id)) return `element "${el.id}" already exists`;
        seen.add(el.id);
      }
      if (elements.size + op.elements.length > LIMITS.elementsPerBoard) {
        return `the board is full (at most ${LIMITS.elementsPerBoard} elements)`;
      }
      for (const el of op.elements) elements.set(el.id, el);
      return null;
    }
    case 'update': {
      const merged = new Map<string, Element>();
      for (const { id, patch } of op.updates) {
        const current = merged.get(id) ?? elements.get(id);
        if (current === undefined) continue;
        for (const key of FROZEN_KEYS) if (key in patch) return `update of "${id}" may not change its ${key}`;
        // The patch's own values were checked with the input schemas; the stored element may predate
        // the character rules (a board with such a text must stay editable), so only its shape is checked.
        // The stored points are valid already: a patch that leaves them alone (a move, a colour) is
        // checked with the first two standing in for them, so its cost does not grow with the stroke.
        const keepPoints = 'points' in current && !('points' in patch) ? current.points : null;
        const candidate = keepPoints ? { ...current, ...patch, points: keepPoints.slice(0, 2) } : { ...current, ...patch };
        const parsed = storedElementSchema.safeParse(candidate);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
          return `update of "${id}" does not fit a ${current.type}: ${where}${issue?.message ?? 'invalid'}`;
        }
        merged.set(id, keepPoints ? ({ ...parsed.data, points: keepPoints } as Element) : parsed.data);
      }
      for (const [id, el] of merged) elements.set(id, el);
      return null;
    }
    case 'delete':
      for (const id of op.ids) elements.delete(id);
      return null;
    case 'clear':
      elements.clear();
      return null;
    default:
      return assertNever(op);
  }
}

/** Exhaustiveness check for discriminated unions. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
