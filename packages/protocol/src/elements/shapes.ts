import { z } from 'zod';
import { MAX_COORD, fillSchema } from '../primitives.js';
import { commonFields } from './common.js';

const size = z.number().min(0, 'must not be negative').max(2 * MAX_COORD);

/** Axis-aligned rectangle; `x`, `y` is its top-left corner. */
export const rectangleSchema = z.strictObject({
  type: z.literal('rectangle'),
  ...commonFields,
  width: size,
  height: size,
  fillColor: fillSchema,
});
export type Rectangle = z.infer<typeof rectangleSchema>;

/** Ellipse inscribed in the box at `x`, `y` of `width` x `height`. */
export const ellipseSchema = z.strictObject({
  type: z.literal('ellipse'),
  ...commonFields,
  width: size,
  height: size,
  fillColor: fillSchema,
});
export type Ellipse = z.infer<typeof ellipseSchema>;
