import { z } from 'zod';
import { LIMITS } from '../primitives.js';
import { commonFields, relativePointSchema } from './common.js';

const linePoints = z
  .array(relativePointSchema)
  .min(2, 'needs at least two points')
  .max(LIMITS.pointsPerLine);

/** A straight (poly)line; points relative to `x`, `y`. */
export const lineSchema = z.strictObject({
  type: z.literal('line'),
  ...commonFields,
  points: linePoints,
});
export type Line = z.infer<typeof lineSchema>;

/** A line with an arrowhead at its last point. */
export const arrowSchema = z.strictObject({
  type: z.literal('arrow'),
  ...commonFields,
  points: linePoints,
});
export type Arrow = z.infer<typeof arrowSchema>;
