import type { Box } from '@inkboard/protocol';

/** Side of a bucket in world units: a few hundred elements of a busy board per bucket at most. */
const CELL = 256;
/** An item covering more buckets than this is kept in one list checked by every query instead. */
const MAX_CELLS = 64;

interface Entry {
  box: Box;
  /** The buckets it is in (empty: in `wide`). */
  keys: number[];
}

/**
 * Ids by their world boxes in a uniform grid of buckets (a simple spatial hash, as map renderers
 * keep): the renderer asks which elements a tile covers without looking at the whole board. Updated
 * by id as elements change, so an edit costs only that element's buckets.
 */
export class SpatialIndex {
  private readonly entries = new Map<string, Entry>();
  private readonly buckets = new Map<number, Set<string>>();
  private readonly wide = new Set<string>();

  get size(): number {
    return this.entries.size;
  }

  /** Puts `id` at `box` (moves it when it is already in). */
  set(id: string, box: Box): void {
    const old = this.entries.get(id);
    if (old && sameBox(old.box, box)) return;
    if (old) this.remove(id);
    const keys: number[] = [];
    const x0 = cell(box.minX);
    const x1 = cell(box.maxX);
    const y0 = cell(box.minY);
    const y1 = cell(box.maxY);
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > MAX_CELLS || !Number.isFinite(x0 + x1 + y0 + y1)) this.wide.add(id);
    else {
      for (let x = x0; x <= x1; x++) {
        for (let y = y0; y <= y1; y++) {
          const key = keyOf(x, y);
          let bucket = this.buckets.get(key);
          if (!bucket) this.buckets.set(key, (bucket = new Set()));
          bucket.add(id);
          keys.push(key);
        }
      }
    }
    this.entries.set(id, { box, keys });
  }

  remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.wide.delete(id);
    for (const key of entry.keys) {
      const bucket = this.buckets.get(key);
      bucket?.delete(id);
      if (bucket?.size === 0) this.buckets.delete(key);
    }
  }

  clear(): void {
    this.entries.clear();
    this.buckets.clear();
    this.wide.clear();
  }

  /** The box `id` was last put at. */
  boxOf(id: string): Box | undefined {
    return this.entries.get(id)?.box;
  }

  /** Whether `box` spans more cells than there are buckets: a query would look at everything. */
  isBroad(box: Box): boolean {
    return (cell(box.maxX) - cell(box.minX) + 1) * (cell(box.maxY) - cell(box.minY) + 1) > this.buckets.size;
  }

  /** Ids whose boxes intersect `box` (each once, in no particular order). */
  query(box: Box): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    const take = (id: string) => {
      if (seen.has(id)) return;
      seen.add(id);
      const b = this.entries.get(id)!.box;
      if (b.minX <= box.maxX && b.maxX >= box.minX && b.minY <= box.maxY && b.maxY >= box.minY) out.push(id);
    };
    const x0 = cell(box.minX);
    const x1 = cell(box.maxX);
    const y0 = cell(box.minY);
    const y1 = cell(box.maxY);
    if (this.isBroad(box)) {
      // A box wider than the board: looking at every bucket is cheaper than at every cell.
      for (const bucket of this.buckets.values()) for (const id of bucket) take(id);
    } else {
      for (let x = x0; x <= x1; x++) {
        for (let y = y0; y <= y1; y++) {
          const bucket = this.buckets.get(keyOf(x, y));
          if (bucket) for (const id of bucket) take(id);
        }
      }
    }
    for (const id of this.wide) take(id);
    return out;
  }
}

const cell = (v: number) => Math.floor(v / CELL);
/** One number per cell (coordinates are bounded by the protocol far below 2^26 cells). */
const keyOf = (x: number, y: number) => (x + 0x2000000) * 0x4000000 + (y + 0x2000000);

function sameBox(a: Box, b: Box): boolean {
  return a.minX === b.minX && a.minY === b.minY && a.maxX === b.maxX && a.maxY === b.maxY;
}
