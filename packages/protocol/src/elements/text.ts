import { z } from 'zod';
import { LIMITS, plainText } from '../primitives.js';
import { commonFields } from './common.js';

const textField = z.string().min(1, 'text must not be empty').max(LIMITS.textLength);
const fontSize = z.number().min(4).max(400);

/** A text block; `x`, `y` is the top-left of its first line. Lines break at `\n`; no control characters. */
export const textSchema = z.strictObject({
  type: z.literal('text'),
  ...commonFields,
  text: plainText(textField, false),
  fontSize,
});
export type Text = z.infer<typeof textSchema>;

/** A text element as stored: its text may predate the character rules, so only its shape is checked. */
export const storedTextSchema = textSchema.extend({ text: textField });
