import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { previewInput, pushInput, type PreviewInput } from './api.js';
import { elementPatchSchema, linePointsSchema, lineSchema, pointListSchema, strokePointsSchema, strokeSchema, type Arrow, type ElementPatch, type Line, type Stroke, type StrokePoint } from './elements/index.js';
import { previewEventSchema } from './events.js';
import { coordSchema, LIMITS, MAX_COORD, pressureSchema } from './primitives.js';

/** The point schemas before issue 13: zod arrays of tuples (a union of two for strokes), checked point by point. */
const old = {
  strokePoint: z.union([z.tuple([coordSchema, coordSchema]), z.tuple([coordSchema, coordSchema, pressureSchema])]),
  linePoint: z.tuple([coordSchema, coordSchema]),
  list(pressure: boolean, min: number, max: number) {
    return z
      .array(pressure ? this.strokePoint : this.linePoint)
      .min(min)
      .max(max);
  },
};

const stroke = { type: 'stroke', id: 's1', x: 0, y: 0, z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };

const SEED = Number(process.env.POINTS_SEED ?? 1313);

/** Numbers at and around every boundary the schemas have, and ones that are not finite. */
const edgeNumber = fc.constantFrom(
  0,
  -0,
  0.5,
  1,
  1.000_000_1,
  -0.000_000_1,
  2,
  -1,
  MAX_COORD,
  -MAX_COORD,
  MAX_COORD + 1,
  -MAX_COORD - 1,
  MAX_COORD + 1e-9,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  1e300,
);
const anyNumber = fc.oneof(edgeNumber, fc.double(), fc.integer({ min: -2 * MAX_COORD, max: 2 * MAX_COORD }), fc.double({ min: 0, max: 1 }));
/** A value where a coordinate goes: mostly numbers, sometimes something else entirely. */
const member: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 12, arbitrary: anyNumber },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('1', '', null, undefined, true, {}, [1], [[1, 2]], [], 1n) },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
);
/** Valid points of both shapes. */
const goodPoint: fc.Arbitrary<number[]> = fc.oneof(
  fc.tuple(fc.double({ min: -MAX_COORD, max: MAX_COORD, noNaN: true }), fc.double({ min: -MAX_COORD, max: MAX_COORD, noNaN: true })),
  fc.tuple(fc.integer({ min: -MAX_COORD, max: MAX_COORD }), fc.constantFrom(-0, MAX_COORD, -MAX_COORD), fc.double({ min: 0, max: 1, noNaN: true })),
  fc.tuple(fc.constantFrom(-0, 0, MAX_COORD, -MAX_COORD), fc.double({ min: -1, max: 1, noNaN: true }), fc.constantFrom(0, -0, 1, 0.5)),
);
/** A valid point with one member replaced (by an edge number, a wrong type...), one added or one taken away. */
const nearlyGoodPoint: fc.Arbitrary<unknown> = fc.tuple(goodPoint, fc.nat(3), member, fc.constantFrom('replace', 'add', 'remove')).map(([p, at, value, how]) => {
  const copy: unknown[] = [...p];
  if (how === 'replace') copy[Math.min(at, copy.length - 1)] = value;
  else if (how === 'add') copy.push(value);
  else copy.splice(Math.min(at, copy.length - 1), 1);
  return copy;
});
/** Any point: mostly valid or nearly so, sometimes arrays of anything, with holes, or not an array. */
const point: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: goodPoint },
  { weight: 6, arbitrary: nearlyGoodPoint },
  { weight: 2, arbitrary: fc.tuple(anyNumber, anyNumber, anyNumber) },
  { weight: 2, arbitrary: fc.array(member, { minLength: 0, maxLength: 5 }) },
  { weight: 1, arbitrary: fc.sparseArray(anyNumber, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, undefined, 'xy', 3, {}, { 0: 1, 1: 2, length: 2 }) },
);
const list: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.oneof({ weight: 5, arbitrary: goodPoint }, { weight: 1, arbitrary: point }), { maxLength: 8 }) },
  { weight: 3, arbitrary: fc.array(point, { maxLength: 8 }) },
  { weight: 1, arbitrary: fc.sparseArray(goodPoint, { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, undefined, 'points', 5, {}, { length: 0 }, [[]], [[[0, 0]]]) },
);

type Safe = { success: boolean; data?: unknown; error?: { issues: { message: string; path: PropertyKey[] }[] } };
const firstIssue = (r: Safe) => r.error?.issues[0];

/** Same verdict, and on success the same value (Object.is for -0 included). */
function sameVerdict(a: z.ZodType, b: z.ZodType, input: unknown): void {
  const was = a.safeParse(input);
  const now = b.safeParse(input);
  expect(now.success, `${fc.stringify(input)}: old ${was.success ? 'accepted' : 'refused'} it`).toBe(was.success);
  if (was.success && now.success) expect(now.data).toStrictEqual(was.data);
  if (!now.success) expect(now.error.issues.length).toBe(1);
}

describe('point lists accept exactly what the tuple schemas accepted', () => {
  it('with the same types (checked by tsc)', () => {
    type Old = z.infer<ReturnType<typeof old.list>>;
    expectTypeOf<Stroke['points']>().toEqualTypeOf<([number, number] | [number, number, number])[]>();
    expectTypeOf<Stroke['points']>().toEqualTypeOf<StrokePoint[]>();
    expectTypeOf<z.input<typeof strokeSchema>['points']>().toEqualTypeOf<StrokePoint[]>();
    expectTypeOf<Line['points']>().toEqualTypeOf<[number, number][]>();
    expectTypeOf<Arrow['points']>().toEqualTypeOf<[number, number][]>();
    expectTypeOf<ElementPatch['points']>().toEqualTypeOf<StrokePoint[] | undefined>();
    expectTypeOf<PreviewInput['append']>().toEqualTypeOf<StrokePoint[] | undefined>();
    expectTypeOf<Stroke['points']>().toExtend<Old>();
  });

  it('for any bounds, with and without pressure (property, seed printed on failure)', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 6 }), list, (pressure, min, span, input) => {
        const max = min + span;
        sameVerdict(old.list(pressure, min, max), pressure ? pointListSchema({ pressure, min, max }) : pointListSchema({ pressure, min, max }), input);
      }),
      { seed: SEED, numRuns: 4_000 },
    );
  });

  it('for the stroke, line, patch, preview and event schemas', () => {
    const previewOf = (append: unknown) => ({ boardId: 'b1', elementId: 's1', append });
    const eventOf = (append: unknown) => ({ type: 'preview', clientId: 'c1', elementId: 's1', append });
    const pairs: [string, z.ZodType, z.ZodType, (points: unknown) => unknown][] = [
      ['stroke points', old.list(true, 1, LIMITS.pointsPerStroke), strokePointsSchema, (p) => p],
      ['line points', old.list(false, 2, LIMITS.pointsPerLine), linePointsSchema, (p) => p],
      ['stroke', strokeSchema.extend({ points: old.list(true, 1, LIMITS.pointsPerStroke) }), strokeSchema, (points) => ({ ...stroke, points })],
      ['line', lineSchema.extend({ points: old.list(false, 2, LIMITS.pointsPerLine) }), lineSchema, (points) => ({ ...stroke, type: 'line', points })],
      ['patch', z.strictObject({ points: old.list(true, 1, LIMITS.pointsPerStroke) }), elementPatchSchema, (points) => ({ points })],
      ['preview append', z.strictObject({ boardId: z.string(), elementId: z.string(), append: old.list(true, 0, LIMITS.pointsPerPreview) }), previewInput, previewOf],
      ['preview event', previewEventSchema.extend({ append: old.list(true, 0, LIMITS.pointsPerStroke) }), previewEventSchema, eventOf],
    ];
    fc.assert(
      fc.property(list, (input) => {
        for (const [name, was, now, wrap] of pairs) {
          // `undefined` is a missing optional field in a patch, preview or event: not the list's business.
          if (input === undefined && !['stroke points', 'line points', 'stroke', 'line'].includes(name)) continue;
          sameVerdict(was, now, wrap(input));
        }
      }),
      { seed: SEED + 1, numRuns: 3_000 },
    );
  });

  it('at the length limits', () => {
    const at = (n: number, p: unknown = [1, 2]) => Array.from({ length: n }, () => p);
    for (const n of [0, 1, 2, LIMITS.pointsPerLine, LIMITS.pointsPerLine + 1, LIMITS.pointsPerStroke, LIMITS.pointsPerStroke + 1]) {
      sameVerdict(old.list(true, 1, LIMITS.pointsPerStroke), strokePointsSchema, at(n, [1, 2, 0.5]));
      sameVerdict(old.list(false, 2, LIMITS.pointsPerLine), linePointsSchema, at(n));
      sameVerdict(old.list(true, 1, LIMITS.pointsPerStroke), strokePointsSchema, [...at(n - 1), [0, Number.NaN]]);
    }
  });
});

describe('point lists say which point is wrong and why', () => {
  const refusal = (points: unknown) => {
    const r = strokePointsSchema.safeParse(points);
    expect(r.success).toBe(false);
    return firstIssue(r)!;
  };

  it.each([
    ['NaN', [[0, 0], [1, Number.NaN]], [1, 1], 'point 1: y must be a finite number, not NaN'],
    ['Infinity', [[0, 0], [0, 0], [Number.POSITIVE_INFINITY, 0, 0.5]], [2, 0], 'point 2: x must be a finite number, not Infinity'],
    ['a string', [['1', 2]], [0, 0], 'point 0: x must be a finite number, not a string'],
    ['a hole', [[0, 0], [0, , 1]], [1, 1], 'point 1: y must be a finite number, not missing'], // eslint-disable-line no-sparse-arrays
    ['out of range', [[0, 0], [0, MAX_COORD + 1]], [1, 1], `point 1: y is ${MAX_COORD + 1}; coordinates must be within ±${MAX_COORD}`],
    ['below range', [[-MAX_COORD - 1, 0]], [0, 0], `point 0: x is ${-MAX_COORD - 1}; coordinates must be within ±${MAX_COORD}`],
    ['pressure', [[0, 0, 1.5]], [0, 2], 'point 0: pressure is 1.5; it must be between 0 and 1'],
    ['negative pressure', [[0, 0, -0.1]], [0, 2], 'point 0: pressure is -0.1; it must be between 0 and 1'],
    ['too many values', [[0, 0], [0, 0, 0.5, 1]], [1], 'point 1 has 4 values; a point is [x, y] or [x, y, pressure]'],
    ['too few values', [[0]], [0], 'point 0 has 1 value; a point is [x, y] or [x, y, pressure]'],
    ['not a point', [[0, 0], 'xy'], [1], 'point 1 must be [x, y] or [x, y, pressure], not a string'],
    ['a nested list', [[[0, 0], [1, 1]]], [0, 0], 'point 0: x must be a finite number, not an array'],
  ])('%s', (_label, points, path, message) => {
    const issue = refusal(points);
    expect(issue.message).toBe(message);
    expect(issue.path).toEqual(path);
  });

  it('a line point has no pressure', () => {
    const r = linePointsSchema.safeParse([[0, 0], [1, 1, 0.5]]);
    expect(firstIssue(r)).toMatchObject({ path: [1], message: 'point 1 has 3 values; a point is [x, y]' });
  });

  it('reports the first bad point once and counts the others', () => {
    const points = Array.from({ length: LIMITS.pointsPerStroke }, (_, i) => (i < 10 ? [i, i] : [i, Number.NaN]));
    const r = strokePointsSchema.safeParse(points);
    expect(r.error?.issues).toHaveLength(1);
    expect(firstIssue(r)).toMatchObject({ path: [10, 1], message: `point 10: y must be a finite number, not NaN (${LIMITS.pointsPerStroke - 11} other points are invalid too)` });
  });

  it('names the list and the length limits', () => {
    expect(refusal('points').message).toBe('must be a list of points, each [x, y] or [x, y, pressure], not a string');
    expect(refusal([]).message).toBe('a stroke needs at least one point');
    expect(refusal(Array.from({ length: LIMITS.pointsPerStroke + 1 }, () => [0, 0])).message).toMatch(/^a stroke holds at most 5000 points/);
    expect(firstIssue(linePointsSchema.safeParse([[0, 0]]))?.message).toBe('needs at least two points');
    const preview = previewInput.safeParse({ boardId: 'b1', elementId: 's1', append: Array.from({ length: LIMITS.pointsPerPreview + 1 }, () => [0, 0]) });
    expect(firstIssue(preview)).toMatchObject({ path: ['append'], message: `a preview appends at most ${LIMITS.pointsPerPreview} points at a time; send the rest in later previews` });
  });

  it('refuses an over-long list without reading its points', () => {
    // A million points of garbage: the length alone refuses it, in far less time than checking each.
    const huge = new Array<unknown>(1_000_000).fill('x');
    const t0 = performance.now();
    const r = strokePointsSchema.safeParse(huge);
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(r.error?.issues).toHaveLength(1);
    expect(firstIssue(r)?.message).toMatch(/^a stroke holds at most 5000 points/);
  });

  it('gives the full path inside a push, and the server-side message reads well', () => {
    const r = pushInput.safeParse({ boardId: 'b1', ops: [{ type: 'add', opId: 'o1', elements: [{ ...stroke, points: [[0, 0], [3, 4], [5, Number.NaN]] }] }] });
    expect(firstIssue(r)?.path).toEqual(['ops', 0, 'elements', 0, 'points', 2, 1]);
    expect(z.prettifyError(r.error!)).toBe('✖ point 2: y must be a finite number, not NaN\n  → at ops[0].elements[0].points[2][1]');
  });

  it('a refused list stops the checks around it (no refine reads a list that is not one)', () => {
    for (const points of [null, 'x', {}, 7]) {
      const r = previewInput.safeParse({ boardId: 'b1', elementId: 's1', element: { ...stroke, points } });
      expect(r.success).toBe(false);
      expect(r.error?.issues).toHaveLength(1);
    }
  });

  it('keeps valid values as they are (-0, the range ends, pressure 0 and 1)', () => {
    const points = [[-0, MAX_COORD, 0], [-MAX_COORD, -0, 1], [0.5, 0.25]];
    expect(Object.is(strokePointsSchema.parse(points)[0]![0], -0)).toBe(true);
    expect(strokeSchema.parse({ ...stroke, points }).points).toEqual(points);
  });
});
