import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing';
import type { Element } from './elements/index.js';

/** Elements in paint order: by fractional index, then id so that equal indexes still sort the same everywhere. */
export function sortElements<E extends Pick<Element, 'z' | 'id'>>(elements: Iterable<E>): E[] {
  return [...elements].sort((a, b) => (a.z < b.z ? -1 : a.z > b.z ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The highest z in use, or null on an empty board. */
export function topZ(elements: Iterable<Pick<Element, 'z'>>): string | null {
  let top: string | null = null;
  for (const el of elements) if (top === null || el.z > top) top = el.z;
  return top;
}

/** A z above `below` (null: the very first). */
export function zAbove(below: string | null): string {
  return generateKeyBetween(below, null);
}

/** `n` increasing z values above `below`. */
export function zRangeAbove(below: string | null, n: number): string[] {
  return generateNKeysBetween(below, null, n);
}

/** `n` increasing z values strictly between `below` and `above` (null: open on that side); `below` < `above`. */
export function zRangeBetween(below: string | null, above: string | null, n: number): string[] {
  return generateNKeysBetween(below, above, n);
}
