import { z } from 'zod';
import { idSchema, LIMITS, plainText } from '../primitives.js';
import { commonFields } from './common.js';

const textField = z.string().min(1, 'text must not be empty').max(LIMITS.textLength);
export const fontSizeSchema = z.number().min(4).max(400);

/** Horizontal alignment of the lines of a text, a label or a note (default `left`; labels are drawn centred). */
export const textAlignSchema = z.enum(['left', 'center', 'right']);
export type TextAlign = z.infer<typeof textAlignSchema>;

/**
 * Font family of a text or note: `hand` (handwritten: Virgil / Comic-style fonts), `sans` (system
 * sans-serif, the default and what every text stored before issue 14 is drawn with) and `mono`
 * (monospace). The CSS stacks are `FONT_FAMILIES` in svg.ts, shared by the canvas and the exports.
 */
export const fontFamilySchema = z.enum(['hand', 'sans', 'mono']);
export type FontFamily = z.infer<typeof fontFamilySchema>;

/** Fields of a text and a note that came with issue 14 (optional; see `ELEMENT_DEFAULTS`). */
export const textStyleFields = {
  textAlign: textAlignSchema.optional(),
  fontFamily: fontFamilySchema.optional(),
};

/**
 * A text block; `x`, `y` is the top-left of its first line. Lines break at `\n`; no control characters.
 * With `containerId` it is the label of that rectangle, ellipse or note: it is drawn centred in the
 * container (wrapped to its width) and moves with it; `x`, `y` are then kept at the top-left of the
 * centred block (`labelPatches` in bindings.ts), so bounds and hit-tests stay close. `null` = no container.
 */
export const textSchema = z.strictObject({
  type: z.literal('text'),
  ...commonFields,
  text: plainText(textField, false),
  fontSize: fontSizeSchema,
  ...textStyleFields,
  containerId: idSchema.nullable().optional(),
});
export type Text = z.infer<typeof textSchema>;

/** A text element as stored: its text may predate the character rules, so only its shape is checked. */
export const storedTextSchema = textSchema.extend({ text: textField });
