import type { Element } from './elements/index.js';
import type { Op } from './ops.js';
import { assertNever } from './applyOp.js';
import { LIMITS } from './primitives.js';

/** What an element costs a board's budget: its points and the bytes of its JSON (as stored). */
export interface ElementCost {
  points: number;
  bytes: number;
}

/** Bytes of `text` in UTF-8, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: 2 UTF-16 units, 4 bytes.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** Points an element holds (strokes, lines and arrows; 0 for shapes and text). */
export function pointsOf(element: Element): number {
  return 'points' in element ? element.points.length : 0;
}

/** The element's points and the UTF-8 bytes of its JSON: what it counts against a board's budget. */
export function measureElement(element: Element): ElementCost {
  return { points: pointsOf(element), bytes: utf8Length(JSON.stringify(element)) };
}

/** Elements an op adds or updates: what a push costs in the element-changes budget (`LIMITS.elementChangesPerPush`). */
export function changesInOp(op: Op): number {
  return op.type === 'add' ? op.elements.length : op.type === 'update' ? op.updates.length : 0;
}

/**
 * The longest run of `ops` from the start that one push may carry (at least one op): within the
 * per-push limits of ops, points and added or updated elements.
 */
export function pushableRun(ops: readonly Op[]): number {
  let points = 0;
  let changes = 0;
  let n = 0;
  for (const op of ops) {
    points += pointsInOp(op);
    changes += changesInOp(op);
    if (n > 0 && (n >= LIMITS.opsPerPush || points > LIMITS.pointsPerPush || changes > LIMITS.elementChangesPerPush)) break;
    n++;
  }
  return n;
}

/**
 * Points an op carries (added elements and patched point lists): what a push costs in the points
 * rate budget. Counts array lengths only, so it is cheap even before the op is validated.
 */
export function pointsInOp(op: Op): number {
  switch (op.type) {
    case 'add':
      return op.elements.reduce((n, el) => n + pointsOf(el), 0);
    case 'update':
      return op.updates.reduce((n, u) => n + (u.patch.points?.length ?? 0), 0);
    case 'delete':
    case 'clear':
      return 0;
    default:
      return assertNever(op);
  }
}
