import { z } from 'zod';
import { LIMITS } from '../primitives.js';
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

/** A line with an arrowhead at its last point. */
export const arrowSchema = z.strictObject({
  type: z.literal('arrow'),
  ...commonFields,
  points: linePointsSchema,
});
export type Arrow = z.infer<typeof arrowSchema>;
