import { z } from 'zod';
import { idSchema, LIMITS } from '../primitives.js';
import { commonFields } from './common.js';
import { pointListSchema } from './points.js';

/** The points of a line or arrow: 2 to `LIMITS.pointsPerLine` points `[x, y]`, checked in one loop. */
export const linePointsSchema = pointListSchema({
  pressure: false,
  min: 2,
  max: LIMITS.pointsPerLine,
  tooFew: 'needs at least two points',
  tooMany: `a line or arrow holds at most ${LIMITS.pointsPerLine} points`,
});

/** A straight (poly)line; points relative to `x`, `y`. */
export const lineSchema = z.strictObject({
  type: z.literal('line'),
  ...commonFields,
  points: linePointsSchema,
});
export type Line = z.infer<typeof lineSchema>;

/**
 * Where an arrow's end is attached: the shape `elementId` (a rectangle, ellipse or note) and a point
 * of that shape's box, normalized: `fixedPoint` `[0, 0]` is the top-left of its unrotated box, `[1, 1]`
 * the bottom-right, `[0.5, 0.5]` the centre; the point turns with the shape's `angle`. When the shape
 * moves, resizes or turns (by anyone), the end follows that point (`bindingPatches` in bindings.ts).
 * Bound by id, so concurrent moves of the shape never detach it; a deleted shape leaves the end where it was.
 */
export const bindingSchema = z.strictObject({
  elementId: idSchema,
  fixedPoint: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]),
});
export type Binding = z.infer<typeof bindingSchema>;

/**
 * A (poly)line with an arrowhead at its last point, along its last segment. `startBinding` binds the first point, `endBinding` the last; `null` or missing: free.
 */
export const arrowSchema = z.strictObject({
  type: z.literal('arrow'),
  ...commonFields,
  points: linePointsSchema,
  startBinding: bindingSchema.nullable().optional(),
  endBinding: bindingSchema.nullable().optional(),
});
export type Arrow = z.infer<typeof arrowSchema>;
