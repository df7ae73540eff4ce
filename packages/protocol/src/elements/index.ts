import { z } from 'zod';
import { colorSchema, coordSchema, fillSchema, idSchema, opacitySchema, strokeWidthSchema, zIndexSchema, LIMITS } from '../primitives.js';
import { angleSchema, groupIdsSchema } from './common.js';
import { arrowSchema, bindingSchema, lineSchema } from './line.js';
import { imageSchema } from './image.js';
import { noteSchema, noteTextSchema } from './note.js';
import { ellipseSchema, rectangleSchema } from './shapes.js';
import { pointListSchema } from './points.js';
import { strokeSchema } from './stroke.js';
import { fontFamilySchema, storedTextSchema, textAlignSchema, textSchema } from './text.js';

export * from './points.js';
export * from './stroke.js';
export * from './line.js';
export * from './shapes.js';
export * from './text.js';
export * from './note.js';
export * from './image.js';
export { angleSchema, groupIdsSchema } from './common.js';

/** Every element kind, discriminated on `type`. */
export const elementSchema = z.discriminatedUnion('type', [
  strokeSchema,
  lineSchema,
  arrowSchema,
  rectangleSchema,
  ellipseSchema,
  textSchema,
  noteSchema,
  imageSchema,
]);
export type Element = z.infer<typeof elementSchema>;
export type ElementType = Element['type'];

/**
 * An element as stored or received from the server: the same shapes, but text may predate the
 * character rules. Merging a patch into an existing element checks with this one (the patch itself
 * was checked with `elementPatchSchema`), so an old board can still be edited.
 */
export const storedElementSchema = z.discriminatedUnion('type', [
  strokeSchema,
  lineSchema,
  arrowSchema,
  rectangleSchema,
  ellipseSchema,
  storedTextSchema,
  noteSchema,
  imageSchema,
]);
export const ELEMENT_TYPES = ['stroke', 'line', 'arrow', 'rectangle', 'ellipse', 'text', 'note', 'image'] as const satisfies readonly ElementType[];

/** Style fields a script may leave out; `normalizeElement` fills them (`DEFAULT_STYLE`). */
const optionalOnInput = { id: true, z: true, strokeColor: true, strokeWidth: true, opacity: true } as const;

/** What scripts and files write: like an element, but `id`, `z` and every style field (colours, widths, font size) are optional. */
export const elementInputSchema = z.discriminatedUnion('type', [
  strokeSchema.partial(optionalOnInput),
  lineSchema.partial(optionalOnInput),
  arrowSchema.partial(optionalOnInput),
  rectangleSchema.partial({ ...optionalOnInput, fillColor: true }),
  ellipseSchema.partial({ ...optionalOnInput, fillColor: true }),
  textSchema.partial({ ...optionalOnInput, fontSize: true }),
  noteSchema.partial({ ...optionalOnInput, fillColor: true, fontSize: true, text: true }),
  imageSchema.partial(optionalOnInput),
]);
export type ElementInput = z.infer<typeof elementInputSchema>;

/** What `normalizeElement` fills in for a style field an input left out. */
export const DEFAULT_STYLE = {
  strokeColor: '#1e1e1e',
  strokeWidth: 2,
  opacity: 1,
  fillColor: 'transparent',
  fontSize: 20,
  /** A note's fill when none is given (pale yellow). */
  noteColor: '#fff3bf',
} as const;

/**
 * What a missing optional field means (they came with issue 14; boards stored before lack them):
 * read them as `el.angle ?? ELEMENT_DEFAULTS.angle`. A missing binding or container is none.
 */
export const ELEMENT_DEFAULTS = {
  angle: 0,
  groupIds: [] as readonly string[],
  locked: false,
  textAlign: 'left',
  fontFamily: 'sans',
  containerId: null,
  startBinding: null,
  endBinding: null,
} as const;

/**
 * The value an element's missing optional field stands for (`ELEMENT_DEFAULTS`; a label's alignment
 * is centred), or undefined for a key without a default. The inverse of a patch that sets such a
 * field on an element stored without it restores this value (history.ts).
 */
export function missingFieldValue(el: Element, key: string): unknown {
  if (key === 'textAlign' && el.type === 'text' && el.containerId) return 'center';
  if (!(key in ELEMENT_DEFAULTS)) return undefined;
  if (key === 'textAlign' || key === 'fontFamily') return el.type === 'text' || el.type === 'note' ? ELEMENT_DEFAULTS[key] : undefined;
  if (key === 'containerId') return el.type === 'text' ? null : undefined;
  if (key === 'startBinding' || key === 'endBinding') return el.type === 'arrow' ? null : undefined;
  const value = ELEMENT_DEFAULTS[key as keyof typeof ELEMENT_DEFAULTS];
  return Array.isArray(value) ? [...value] : value;
}

const patchSchema = (text: z.ZodType<string>) =>
  z
    .strictObject({
      x: coordSchema,
      y: coordSchema,
      z: zIndexSchema,
      strokeColor: colorSchema,
      strokeWidth: strokeWidthSchema,
      opacity: opacitySchema,
      fillColor: fillSchema,
      width: rectangleSchema.shape.width,
      height: rectangleSchema.shape.height,
      points: pointListSchema({ pressure: true, min: 1, max: LIMITS.pointsPerStroke }),
      text,
      fontSize: textSchema.shape.fontSize,
      angle: angleSchema,
      groupIds: groupIdsSchema,
      locked: z.boolean(),
      textAlign: textAlignSchema,
      fontFamily: fontFamilySchema,
      containerId: idSchema.nullable(),
      startBinding: bindingSchema.nullable(),
      endBinding: bindingSchema.nullable(),
    })
    .partial()
    .refine((patch) => Object.keys(patch).length > 0, 'a patch must change at least one property');

/**
 * The changeable properties of an element. A patch is checked again against the element's own kind
 * once merged, so a `text` on a rectangle (or an empty `text` on a text; a note's may be empty) is refused there.
 */
export const elementPatchSchema = patchSchema(noteTextSchema);
export type ElementPatch = z.infer<typeof elementPatchSchema>;
/** A patch as stored in the op log: its text may predate the character rules. */
export const storedElementPatchSchema = patchSchema(z.string().max(LIMITS.textLength));
