import { z } from 'zod';
import { MAX_COORD, fillSchema } from '../primitives.js';
import { commonFields } from './common.js';

/** Width or height of a box (rectangle, ellipse, note). */
export const boxSize = z.number().min(0, 'must not be negative').max(2 * MAX_COORD);

/** Rectangle; `x`, `y` is the top-left corner of its unrotated box (it turns by `angle` about the box's centre). */
export const rectangleSchema = z.strictObject({
  type: z.literal('rectangle'),
  ...commonFields,
  width: boxSize,
  height: boxSize,
  fillColor: fillSchema,
});
export type Rectangle = z.infer<typeof rectangleSchema>;

/** Ellipse inscribed in the box at `x`, `y` of `width` x `height`. */
export const ellipseSchema = z.strictObject({
  type: z.literal('ellipse'),
  ...commonFields,
  width: boxSize,
  height: boxSize,
  fillColor: fillSchema,
});
export type Ellipse = z.infer<typeof ellipseSchema>;
