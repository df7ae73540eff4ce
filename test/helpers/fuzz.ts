import Database from 'better-sqlite3';
import { ELEMENT_TYPES, topZ, zAbove, type Element, type ElementPatch, type Elements, type Op } from '@inkboard/protocol';
import { canonical } from './server.js';

/** mulberry32: a tiny seeded PRNG (32-bit state), good enough to drive a fuzz run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit hash of two numbers, to seed independent streams (one per step) from one seed. */
export function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x85ebca6b, 0xcc9e2d51) ^ Math.imul(b + 0x9e3779b9, 0x1b873593);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Convenience draws over a seeded PRNG. */
export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** An independent stream derived from this seed and `n`. */
  static derive(seed: number, n: number): Rng {
    return new Rng(mix(seed, n));
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (!items.length) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** Picks a key by weight. */
  weighted<K extends string>(weights: Record<K, number>): K {
    const entries = Object.entries(weights) as [K, number][];
    let r = this.next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, w] of entries) {
      r -= w;
      if (r < 0) return key;
    }
    return entries.at(-1)![0];
  }
  /** A coordinate: usually a round number, sometimes an arbitrary double (JSON must round-trip it). */
  coord(range = 2_000): number {
    const v = this.next() * 2 * range - range;
    return this.chance(0.7) ? Math.round(v) : v;
  }
}

/**
 * Seeds of a run: `seed` (INKBOARD_FUZZ_SEED) pins one seed; else `spec` (INKBOARD_FUZZ_SEEDS) is a
 * count ("20": seeds 1..20), a list ("7,42") or a range ("100-119").
 */
export function fuzzSeeds(spec: string | undefined, seed: string | undefined, defaultCount: number): number[] {
  if (seed?.trim()) {
    if (!/^\d+$/.test(seed.trim())) throw new Error(`INKBOARD_FUZZ_SEED must be a number, got "${seed}"`);
    return [Number(seed)];
  }
  spec = spec?.trim();
  if (!spec) return Array.from({ length: defaultCount }, (_, i) => i + 1);
  if (/^\d+$/.test(spec)) return Array.from({ length: Number(spec) }, (_, i) => i + 1);
  const range = /^(\d+)\s*-\s*(\d+)$/.exec(spec);
  if (range) {
    const [from, to] = [Number(range[1]), Number(range[2])];
    return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
  }
  const list = spec.split(',').map((s) => s.trim());
  if (list.every((s) => /^\d+$/.test(s))) return list.map(Number);
  throw new Error(`INKBOARD_FUZZ_SEEDS must be a count ("20"), a list ("7,42") or a range ("100-119"), got "${spec}"`);
}

/** Deterministic ids of one run (valid element and op ids). */
export function idMaker(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}${(++n).toString(36)}`;
}

const COLORS = ['#1e1e1e', '#e03131', '#2f9e44', '#1971c2', '#f08c00', '#6741d9', '#0c8599', '#e8590c80'] as const;
const FILLS = ['transparent', '#ffc9c9', '#b2f2bb', '#a5d8ff', '#ffec99'] as const;
const WORDS = ['plan', 'sprint', 'idea', 'todo', 'ship it', 'é ü ß', '🚀', 'x', 'a longer note with several words'] as const;

function strokePoints(rng: Rng, n: number): [number, number, number][] | [number, number][] {
  const pressure = rng.chance(0.7);
  let x = 0;
  let y = 0;
  const points = [];
  for (let i = 0; i < n; i++) {
    x += rng.int(-5, 5);
    y += rng.int(-5, 5);
    points.push(pressure ? [x, y, rng.int(0, 100) / 100] : [x, y]);
  }
  return points as [number, number, number][] | [number, number][];
}

function linePoints(rng: Rng): [number, number][] {
  return Array.from({ length: rng.int(2, 5) }, (_, i) => (i === 0 ? [0, 0] : [rng.coord(300), rng.coord(300)]) as [number, number]);
}

/** A random valid element of any kind. */
export function randomElement(rng: Rng, id: string, z: string): Element {
  const common = {
    id,
    x: rng.coord(),
    y: rng.coord(),
    z,
    strokeColor: rng.pick(COLORS),
    strokeWidth: rng.pick([1, 2, 4, 8, 0.5]),
    opacity: rng.pick([1, 1, 0.5, 0.25]),
  };
  // Images need a file uploaded to the board first (test/images.test.ts covers them).
  const type = rng.pick(ELEMENT_TYPES.filter((t) => t !== 'image'));
  switch (type) {
    case 'stroke':
      return { type, ...common, points: strokePoints(rng, rng.chance(0.05) ? rng.int(200, 800) : rng.int(1, 40)) };
    case 'line':
    case 'arrow':
      return { type, ...common, points: linePoints(rng) };
    case 'rectangle':
    case 'ellipse':
      return { type, ...common, width: rng.int(0, 400), height: rng.int(0, 400), fillColor: rng.pick(FILLS) };
    case 'text':
      return { type, ...common, text: rng.pick(WORDS), fontSize: rng.int(8, 64) };
    case 'note':
      return { type, ...common, width: rng.int(0, 400), height: rng.int(0, 400), fillColor: rng.pick(FILLS), text: rng.pick(WORDS), fontSize: rng.int(8, 64) };
  }
}

/** An add of 1 (usually) to 4 new elements stacked above the board's top. */
export function randomAdd(rng: Rng, board: Elements, newId: () => string): Op {
  const n = rng.chance(0.85) ? 1 : rng.int(2, 4);
  let z = topZ(board.values());
  const elements: Element[] = [];
  for (let i = 0; i < n; i++) {
    z = zAbove(z);
    elements.push(randomElement(rng, newId(), z));
  }
  return { type: 'add', opId: newId(), elements };
}

/**
 * A patch for `el`: move, recolour, resize (or restyle, reorder). With `misfit`, a patch that does
 * not fit the element's kind, so that the server refuses the op.
 */
export function randomPatch(rng: Rng, el: Element, board: Elements, misfit = false): ElementPatch {
  if (misfit) {
    switch (el.type) {
      case 'rectangle':
      case 'ellipse':
        return { text: 'not on a shape' };
      case 'text':
        return { width: 10 };
      case 'note':
        return { points: [[0, 0]] };
      case 'line':
      case 'arrow':
        return { points: [[0, 0]] }; // a line needs two points
      case 'stroke':
        return { fillColor: '#ffc9c9' };
    }
  }
  const kind = rng.weighted({ move: 5, recolour: 3, resize: 3, restyle: 1, front: 1 });
  switch (kind) {
    case 'move':
      return rng.chance(0.8) ? { x: rng.coord(), y: rng.coord() } : { x: el.x + rng.int(-20, 20) };
    case 'recolour':
      if ((el.type === 'rectangle' || el.type === 'ellipse' || el.type === 'note') && rng.chance(0.5)) {
        return rng.chance(0.5) ? { fillColor: rng.pick(FILLS) } : { fillColor: rng.pick(FILLS), strokeColor: rng.pick(COLORS) };
      }
      return { strokeColor: rng.pick(COLORS) };
    case 'resize':
      switch (el.type) {
        case 'rectangle':
        case 'ellipse':
        case 'note':
          return rng.chance(0.7) ? { width: rng.int(0, 600), height: rng.int(0, 600) } : { width: rng.int(0, 600) };
        case 'text':
          return rng.chance(0.6) ? { fontSize: rng.int(8, 96) } : { text: rng.pick(WORDS), fontSize: rng.int(8, 96) };
        case 'stroke': {
          const f = rng.int(5, 20) / 10;
          return { points: el.points.map((p) => p.map((v, i) => (i < 2 ? Math.round(v * f) : v))) as typeof el.points };
        }
        case 'line':
        case 'arrow':
          return { points: linePoints(rng) };
      }
      break;
    case 'restyle':
      return rng.chance(0.5) ? { strokeWidth: rng.pick([1, 2, 4, 8]) } : { opacity: rng.pick([1, 0.6, 0.3]), strokeWidth: rng.pick([1, 3]) };
    case 'front':
      return { z: zAbove(topZ(board.values())) };
  }
  return { x: rng.coord() };
}

/** The board as stored in SQLite, read straight from the file. */
export function boardInFile(dbPath: string, boardId: string) {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.prepare('select id, data from elements where board_id = ?').all(boardId) as { id: string; data: string }[];
    return canonical(rows.map((r) => [r.id, JSON.parse(r.data)] as [string, unknown]));
  } finally {
    db.close();
  }
}

/** The board's op log as stored in SQLite, in seq order. */
export function opLogInFile(dbPath: string, boardId: string): { seq: number; op: Op }[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.prepare('select seq, data from ops where board_id = ? order by seq').all(boardId) as { seq: number; data: string }[];
    return rows.map((r) => ({ seq: r.seq, op: JSON.parse(r.data) as Op }));
  } finally {
    db.close();
  }
}
