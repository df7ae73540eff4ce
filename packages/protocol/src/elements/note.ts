import { z } from 'zod';
import { fillSchema, LIMITS, plainText } from '../primitives.js';
import { commonFields } from './common.js';
import { boxSize } from './shapes.js';
import { fontSizeSchema, textStyleFields } from './text.js';

/** Text of a note: may be empty (a note just placed), lines break at `\n`, no control characters. */
export const noteTextSchema = plainText(z.string().max(LIMITS.textLength), false);

/**
 * A sticky note: a filled box at `x`, `y` of `width` x `height` (`fillColor`, default a pale yellow)
 * with `text` wrapped inside it, in `strokeColor`, `fontSize`, `textAlign` and `fontFamily`. The
 * stroke width only draws a thin border when the note is transparent.
 */
export const noteSchema = z.strictObject({
  type: z.literal('note'),
  ...commonFields,
  width: boxSize,
  height: boxSize,
  fillColor: fillSchema,
  text: noteTextSchema,
  fontSize: fontSizeSchema,
  ...textStyleFields,
});
export type Note = z.infer<typeof noteSchema>;
