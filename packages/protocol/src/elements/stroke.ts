import { z } from 'zod';
import { coordSchema, LIMITS, pressureSchema } from '../primitives.js';
import { commonFields } from './common.js';

/** `[x, y]` or `[x, y, pressure]`, relative to the element's `x`, `y`. */
export const strokePointSchema = z.union([
  z.tuple([coordSchema, coordSchema]),
  z.tuple([coordSchema, coordSchema, pressureSchema]),
]);
export type StrokePoint = z.infer<typeof strokePointSchema>;

/** A freehand pen stroke. */
export const strokeSchema = z.strictObject({
  type: z.literal('stroke'),
  ...commonFields,
  points: z.array(strokePointSchema).min(1, 'a stroke needs at least one point').max(LIMITS.pointsPerStroke),
});
export type Stroke = z.infer<typeof strokeSchema>;
