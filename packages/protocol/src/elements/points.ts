import { z } from 'zod';
import { MAX_COORD } from '../primitives.js';

/*
 * Point lists are most of what a push carries (50,000 points a push, 2 million a board), and zod
 * checks an array of tuples point by point through a union of tuple schemas: about 1.3 µs a point,
 * on the event loop that serves everyone. These schemas accept exactly what
 * `z.array(z.union([z.tuple([coord, coord]), z.tuple([coord, coord, pressure])])).min(a).max(b)`
 * accepts (pinned by a property test in pointsSchema.test.ts), but check a list in one plain loop,
 * refuse an over-long list before looking at its points, and report the first bad point by index and
 * coordinate. They are still zod schemas (tRPC input, client parser, `z.infer`), with one difference:
 * the parsed value is the input list itself, not a copy.
 */

/** A point with optional pen pressure, relative to its element's `x`, `y`. */
export type PressurePoint = [number, number] | [number, number, number];
/** A point of a line or arrow, relative to its element's `x`, `y`. */
export type PlainPoint = [number, number];

export interface PointListOptions {
  /** Whether a point may carry a third number, the pen pressure (0..1). */
  pressure: boolean;
  min: number;
  max: number;
  /** Message when the list holds fewer than `min` points. */
  tooFew?: string;
  /** Message when the list holds more than `max` points. */
  tooMany?: string;
}

const AXES = ['x', 'y', 'pressure'] as const;

/** What a refused value was, for a message (never echoes a string or an object, which may be large). */
function what(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** Why `point` is not a valid point (path inside the point, message), or null when it is. */
function pointProblem(point: unknown, index: number, pressure: boolean): { path: number[]; message: string } | null {
  const shape = pressure ? '[x, y] or [x, y, pressure]' : '[x, y]';
  if (!Array.isArray(point)) return { path: [], message: `point ${index} must be ${shape}, not ${what(point)}` };
  const maxLength = pressure ? 3 : 2;
  if (point.length < 2 || point.length > maxLength) {
    return { path: [], message: `point ${index} has ${point.length} ${point.length === 1 ? 'value' : 'values'}; a point is ${shape}` };
  }
  for (let j = 0; j < point.length; j++) {
    const v: unknown = point[j];
    const axis = AXES[j]!;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      return { path: [j], message: `point ${index}: ${axis} must be a finite number, not ${what(v)}` };
    }
    if (j < 2 && (v < -MAX_COORD || v > MAX_COORD)) {
      return { path: [j], message: `point ${index}: ${axis} is ${v}; coordinates must be within ±${MAX_COORD}` };
    }
    if (j === 2 && (v < 0 || v > 1)) {
      return { path: [j], message: `point ${index}: pressure is ${v}; it must be between 0 and 1` };
    }
  }
  return null;
}

/**
 * A list of points with `min`..`max` points, each `[x, y]` (or `[x, y, pressure]` with `pressure`):
 * coordinates finite and within ±MAX_COORD, pressure within 0..1. Checked in one loop; a refusal
 * names the first bad point (index, coordinate, why) and how many others are bad.
 */
export function pointListSchema(options: PointListOptions & { pressure: true }): z.ZodCustom<PressurePoint[], PressurePoint[]>;
export function pointListSchema(options: PointListOptions & { pressure: false }): z.ZodCustom<PlainPoint[], PlainPoint[]>;
export function pointListSchema(options: PointListOptions): z.ZodCustom<PressurePoint[] | PlainPoint[], PressurePoint[] | PlainPoint[]> {
  const { pressure, min, max } = options;
  const shape = pressure ? '[x, y] or [x, y, pressure]' : '[x, y]';
  const tooFew = options.tooFew ?? `needs at least ${min} ${min === 1 ? 'point' : 'points'}`;
  const longest = pressure ? 3 : 2;
  return z.custom<PressurePoint[] | PlainPoint[]>().superRefine((value, ctx) => {
    // `continue: false`: like zod's own type errors, a refusal here stops the checks of the objects
    // around it (a refine reading `points.length` never sees a list that is not one).
    const refuse = (message: string, path: (string | number)[] = []) =>
      ctx.addIssue({ code: 'custom', message, path, input: value, continue: false });
    const list: unknown = value;
    if (!Array.isArray(list)) return refuse(`must be a list of points, each ${shape}, not ${what(list)}`);
    const n = list.length;
    if (n < min) return refuse(tooFew);
    if (n > max) return refuse(options.tooMany ?? `holds ${n} points; at most ${max} are allowed`);
    let first = -1;
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const p: unknown = list[i];
      if (Array.isArray(p)) {
        const len = p.length;
        if (len === 2 || len === longest) {
          const x: unknown = p[0];
          const y: unknown = p[1];
          // NaN fails every comparison and ±Infinity the range, so these also mean "finite".
          if (typeof x === 'number' && x >= -MAX_COORD && x <= MAX_COORD && typeof y === 'number' && y >= -MAX_COORD && y <= MAX_COORD) {
            if (len === 2) continue;
            const q: unknown = p[2];
            if (typeof q === 'number' && q >= 0 && q <= 1) continue;
          }
        }
      }
      if (first < 0) first = i;
      bad++;
    }
    if (first < 0) return;
    const problem = pointProblem(list[first], first, pressure) ?? { path: [], message: `point ${first} must be ${shape}` };
    const others = bad > 1 ? ` (${bad - 1} other ${bad === 2 ? 'point is' : 'points are'} invalid too)` : '';
    refuse(problem.message + others, [first, ...problem.path]);
  });
}
