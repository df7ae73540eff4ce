import { TRPCError } from '@trpc/server';
import { applyOps, LIMITS, measureElement, type Element, type ElementCost, type Op } from '@inkboard/protocol';

/**
 * Budgets by size (docs/limits.md, "Budgets by size"): what a board, an owner and the op log may
 * hold in total. Counts alone (points per stroke, elements per board) let 800 long strokes make a
 * board that no export could render; these bound the sum.
 */
export interface BoardBudgets {
  /** Points (strokes, lines, arrows) one board may hold. */
  maxPoints: number;
  /** UTF-8 bytes of element JSON one board may hold. */
  maxBytes: number;
  /** Boards one person may own. */
  maxOwnedBoards: number;
  /** UTF-8 bytes of element JSON across the boards one person owns. */
  ownerQuotaBytes: number;
  /** UTF-8 bytes of op JSON kept in one board's log (besides the op count retention). */
  opLogMaxBytes: number;
}

export const DEFAULT_BUDGETS: BoardBudgets = {
  maxPoints: LIMITS.pointsPerBoard,
  maxBytes: LIMITS.bytesPerBoard,
  maxOwnedBoards: 200,
  ownerQuotaBytes: 100 * 1024 * 1024,
  opLogMaxBytes: 8 * 1024 * 1024,
};

/** Points and bytes of a board's elements. */
export interface Totals {
  points: number;
  bytes: number;
}

/** Memoized `measureElement`: elements are immutable, so each is measured once while it lives. */
export class ElementCosts {
  private readonly memo = new WeakMap<Element, ElementCost>();

  of(element: Element): ElementCost {
    let cost = this.memo.get(element);
    if (!cost) {
      cost = measureElement(element);
      this.memo.set(element, cost);
    }
    return cost;
  }

  /** Totals of a whole board (once, when it loads). */
  total(elements: Iterable<Element>): Totals {
    let points = 0;
    let bytes = 0;
    for (const el of elements) {
      const c = this.of(el);
      points += c.points;
      bytes += c.bytes;
    }
    return { points, bytes };
  }
}

export type Advanced = ({ ok: true; elements: Map<string, Element> } & Totals) | { ok: false; error: string };

/**
 * Applies ops like `applyOps` and keeps the totals up to date from the elements the ops touch: the
 * cost is proportional to the ops, not the board (a clear re-counts only what follows it).
 */
export function advance(board: { elements: ReadonlyMap<string, Element> } & Totals, ops: readonly Op[], costs: ElementCosts): Advanced {
  const result = applyOps(board.elements, ops);
  if (!result.ok) return result;
  if (ops.some((op) => op.type === 'clear')) return { ok: true, elements: result.elements, ...costs.total(result.elements.values()) };
  let { points, bytes } = board;
  const seen = new Set<string>();
  for (const op of ops) {
    for (const id of touchedBy(op)) {
      if (seen.has(id)) continue;
      seen.add(id);
      const before = board.elements.get(id);
      const after = result.elements.get(id);
      if (before === after) continue;
      if (before) {
        const c = costs.of(before);
        points -= c.points;
        bytes -= c.bytes;
      }
      if (after) {
        const c = costs.of(after);
        points += c.points;
        bytes += c.bytes;
      }
    }
  }
  return { ok: true, elements: result.elements, points, bytes };
}

/** Element ids an op (other than clear) adds, changes or deletes. */
export function touchedBy(op: Op): string[] {
  switch (op.type) {
    case 'add':
      return op.elements.map((e) => e.id);
    case 'update':
      return op.updates.map((u) => u.id);
    case 'delete':
      return op.ids;
    case 'clear':
      return [];
    default: {
      const unknown: never = op;
      throw new Error(`unknown op ${JSON.stringify(unknown)}`);
    }
  }
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');
const megabytes = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MB`;

/**
 * Why a push that takes a board from `before` to `after` does not fit its budgets, or null. Only
 * growth is refused: a push that removes or shrinks is always let through, even over a lowered limit.
 * `ownerUsed` is what the owner's boards hold before the push; `byOwner` says whether the pusher owns the board.
 */
export function budgetProblem(before: Totals, after: Totals, ownerUsed: number, byOwner: boolean, budgets: BoardBudgets): TRPCError | null {
  const nothing = 'Nothing was applied';
  if (after.points > before.points && after.points > budgets.maxPoints) {
    return new TRPCError({
      code: 'BAD_REQUEST',
      message: `This board is full: it holds ${count(before.points)} of ${count(budgets.maxPoints)} points and this push would add ${count(after.points - before.points)}. ${nothing}; delete or simplify some strokes, or continue on a new board.`,
    });
  }
  if (after.bytes > before.bytes && after.bytes > budgets.maxBytes) {
    return new TRPCError({
      code: 'BAD_REQUEST',
      message: `This board is full: its elements take ${megabytes(before.bytes)} of ${megabytes(budgets.maxBytes)} and this push would add ${megabytes(after.bytes - before.bytes)}. ${nothing}; delete some elements, or continue on a new board.`,
    });
  }
  const growth = after.bytes - before.bytes;
  if (growth > 0 && ownerUsed + growth > budgets.ownerQuotaBytes) {
    const whose = byOwner ? 'Your boards hold' : "The board owner's boards hold";
    return new TRPCError({
      code: 'BAD_REQUEST',
      message: `Storage quota reached: ${whose} ${megabytes(ownerUsed)} of the ${megabytes(budgets.ownerQuotaBytes)} one person may store, and this push would add ${megabytes(growth)}. ${nothing}; delete elements or boards to free space.`,
    });
  }
  return null;
}

/** The refusal of a board beyond the owner's board count. */
export function tooManyBoards(owned: number, budgets: BoardBudgets): TRPCError {
  return new TRPCError({
    code: 'BAD_REQUEST',
    message: `You own ${count(owned)} boards, the most one person may own (${count(budgets.maxOwnedBoards)}). Delete a board you no longer need, then create this one.`,
  });
}

/** BAD_REQUEST for a push of more points than one push may carry (checked before it is validated). */
export function pushTooLarge(points: number): TRPCError {
  return new TRPCError({
    code: 'BAD_REQUEST',
    message: `A push may carry at most ${count(LIMITS.pointsPerPush)} points; this one carries ${count(points)}. Nothing was applied; send the elements in several pushes.`,
  });
}

/** BAD_REQUEST for a push that adds or updates more elements than one push may (checked before it is validated). */
export function pushTooManyChanges(changes: number): TRPCError {
  return new TRPCError({
    code: 'BAD_REQUEST',
    message: `A push may add or update at most ${count(LIMITS.elementChangesPerPush)} elements; this one carries ${count(changes)}. Nothing was applied; send the ops in several pushes.`,
  });
}

/** Elements a push adds or updates, read from its input as sent (before validation): the lengths of `elements` and `updates`. */
export function rawPushChanges(raw: unknown): number {
  const ops = isRecord(raw) && Array.isArray(raw.ops) ? raw.ops : [];
  let changes = 0;
  for (const op of ops) {
    if (!isRecord(op)) continue;
    if (Array.isArray(op.elements)) changes += op.elements.length;
    else if (Array.isArray(op.updates)) changes += op.updates.length;
  }
  return changes;
}

/**
 * Points a push carries, read from its input as sent (before validation): the lengths of the
 * `points` arrays of added elements and of patches. Cheap (no walk over the points themselves), so
 * an oversized push is refused before the costly validation of every point.
 */
export function rawPushPoints(raw: unknown): number {
  const ops = isRecord(raw) && Array.isArray(raw.ops) ? raw.ops : [];
  let points = 0;
  for (const op of ops) {
    if (!isRecord(op)) continue;
    const items = Array.isArray(op.elements) ? op.elements : Array.isArray(op.updates) ? op.updates.map((u) => (isRecord(u) ? u.patch : null)) : [];
    for (const item of items) if (isRecord(item) && Array.isArray(item.points)) points += item.points.length;
  }
  return points;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
