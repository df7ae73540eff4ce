import { z } from 'zod';
import { coordSchema, LIMITS, pressureSchema } from '../primitives.js';
import { commonFields } from './common.js';
import { pointListSchema } from './points.js';

/** `[x, y]` or `[x, y, pressure]`, relative to the element's `x`, `y`. */
export const strokePointSchema = z.union([
  z.tuple([coordSchema, coordSchema]),
  z.tuple([coordSchema, coordSchema, pressureSchema]),
]);
export type StrokePoint = z.infer<typeof strokePointSchema>;

/** The points of a stroke: 1 to `LIMITS.pointsPerStroke` of `strokePointSchema`, checked in one loop. */
export const strokePointsSchema = pointListSchema({
  pressure: true,
  min: 1,
  max: LIMITS.pointsPerStroke,
  tooFew: 'a stroke needs at least one point',
  tooMany: `a stroke holds at most ${LIMITS.pointsPerStroke} points; end it and continue in a new stroke`,
});

/** A freehand pen stroke. */
export const strokeSchema = z.strictObject({
  type: z.literal('stroke'),
  ...commonFields,
  points: strokePointsSchema,
});
export type Stroke = z.infer<typeof strokeSchema>;
