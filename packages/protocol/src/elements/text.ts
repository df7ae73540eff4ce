import { z } from 'zod';
import { LIMITS } from '../primitives.js';
import { commonFields } from './common.js';

/** A text block; `x`, `y` is the top-left of its first line. */
export const textSchema = z.strictObject({
  type: z.literal('text'),
  ...commonFields,
  text: z.string().min(1, 'text must not be empty').max(LIMITS.textLength),
  fontSize: z.number().min(4).max(400),
});
export type Text = z.infer<typeof textSchema>;
