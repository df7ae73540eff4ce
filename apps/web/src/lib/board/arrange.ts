import { zRangeAbove, zRangeBetween, type Element } from '@inkboard/protocol';

/** The four moves of the paint order (Excalidraw's and tldraw's). */
export type ArrangeMove = 'front' | 'forward' | 'backward' | 'back';

/**
 * The paint order after `move` of the `selected` ids in `order` (bottom first). Forward and backward
 * move each run of selected elements past the one unselected element next to it; front and back
 * move the whole selection to the end, keeping its own order.
 */
export function arrangedOrder(order: readonly string[], selected: ReadonlySet<string>, move: ArrangeMove): string[] {
  const isSel = (id: string | undefined) => id !== undefined && selected.has(id);
  switch (move) {
    case 'front':
      return [...order.filter((id) => !isSel(id)), ...order.filter(isSel)];
    case 'back':
      return [...order.filter(isSel), ...order.filter((id) => !isSel(id))];
    case 'forward':
      return stepRuns([...order], isSel);
    case 'backward':
      return stepRuns([...order].reverse(), isSel).reverse();
    default: {
      const never: never = move;
      return never;
    }
  }
}

/** Moves each run of selected ids one place towards the end (past the unselected id after it). */
function stepRuns(out: string[], isSel: (id: string | undefined) => boolean): string[] {
  let i = out.length - 1;
  while (i >= 0) {
    if (!isSel(out[i])) {
      i--;
      continue;
    }
    let start = i;
    while (start > 0 && isSel(out[start - 1])) start--;
    if (i + 1 < out.length) {
      const [above] = out.splice(i + 1, 1);
      out.splice(start, 0, above!);
    }
    i = start - 1;
  }
  return out;
}

/**
 * New z values that give the elements of `sorted` (in paint order) the paint order `order`, changing
 * as few as possible: the longest run of elements already in order keeps its z, the others get z
 * values between their new neighbours. (Equal z values, which concurrent adds can leave, are moved too.)
 */
export function zUpdates(sorted: readonly Pick<Element, 'id' | 'z'>[], order: readonly string[]): { id: string; z: string }[] {
  const index = new Map(sorted.map((el, i) => [el.id, i]));
  const zOf = new Map(sorted.map((el) => [el.id, el.z]));
  const ids = order.filter((id) => index.has(id));
  const moved = ids.map(() => true);
  for (const i of longestIncreasing(ids.map((id) => index.get(id)!))) moved[i] = false;
  try {
    return assign(ids, moved, (id) => zOf.get(id)!);
  } catch {
    // A z value the key generator does not accept (hand-written by a script): renumber them all.
    const keys = zRangeAbove(null, ids.length);
    return ids.map((id, i) => ({ id, z: keys[i]! })).filter((u) => u.z !== zOf.get(u.id));
  }
}

function assign(ids: readonly string[], moved: boolean[], zOf: (id: string) => string): { id: string; z: string }[] {
  const out: { id: string; z: string }[] = [];
  let prev: string | null = null;
  let i = 0;
  while (i < ids.length) {
    if (!moved[i]) {
      prev = zOf(ids[i]!);
      i++;
      continue;
    }
    let j = i;
    const skipMoved = () => {
      while (j < ids.length && moved[j]) j++;
    };
    skipMoved();
    // The next kept element must be strictly above the previous z: otherwise it moves as well.
    while (j < ids.length && prev !== null && zOf(ids[j]!) <= prev) {
      moved[j] = true;
      j++;
      skipMoved();
    }
    const next = j < ids.length ? zOf(ids[j]!) : null;
    const keys = zRangeBetween(prev, next, j - i);
    for (let k = i; k < j; k++) out.push({ id: ids[k]!, z: keys[k - i]! });
    prev = keys.at(-1) ?? prev;
    i = j;
  }
  return out;
}

/** Positions (in `seq`) of one longest strictly increasing subsequence, O(n log n). */
export function longestIncreasing(seq: readonly number[]): number[] {
  const tails: number[] = []; // position in seq of the smallest tail of an increasing run of length k+1
  const parent: number[] = [];
  for (let i = 0; i < seq.length; i++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq[tails[mid]!]! < seq[i]!) lo = mid + 1;
      else hi = mid;
    }
    parent[i] = lo > 0 ? tails[lo - 1]! : -1;
    tails[lo] = i;
  }
  const out: number[] = [];
  for (let k = tails.at(-1) ?? -1; k >= 0; k = parent[k]!) out.push(k);
  return out.reverse();
}

/** The z changes of `move` for the selected ids (none when the order stays the same). */
export function arrange(sorted: readonly Pick<Element, 'id' | 'z'>[], selected: ReadonlySet<string>, move: ArrangeMove): { id: string; z: string }[] {
  const order = sorted.map((el) => el.id);
  const next = arrangedOrder(order, selected, move);
  if (next.every((id, i) => id === order[i])) return [];
  return zUpdates(sorted, next);
}

/** The selected elements and the labels inside them (a label goes where its container goes). */
export function withLabels(sorted: readonly Element[], ids: ReadonlySet<string>): Element[] {
  return sorted.filter((el) => ids.has(el.id) || (el.type === 'text' && !!el.containerId && ids.has(el.containerId)));
}

/** Moves of the selected elements by (dx, dy), as update patches. */
export function nudgePatches(elements: readonly Element[], dx: number, dy: number): { id: string; patch: { x: number; y: number } }[] {
  return elements.map((el) => ({ id: el.id, patch: { x: round2(el.x + dx), y: round2(el.y + dy) } }));
}

const round2 = (n: number) => Math.round(n * 100) / 100;
