import { z } from 'zod';
import { colorSchema, coordSchema, fillSchema, opacitySchema, strokeWidthSchema, zIndexSchema, LIMITS } from '../primitives.js';
import { arrowSchema, lineSchema } from './line.js';
import { ellipseSchema, rectangleSchema } from './shapes.js';
import { pointListSchema } from './points.js';
import { strokeSchema } from './stroke.js';
import { storedTextSchema, textSchema } from './text.js';

export * from './points.js';
export * from './stroke.js';
export * from './line.js';
export * from './shapes.js';
export * from './text.js';

/** Every element kind, discriminated on `type`. */
export const elementSchema = z.discriminatedUnion('type', [
  strokeSchema,
  lineSchema,
  arrowSchema,
  rectangleSchema,
  ellipseSchema,
  textSchema,
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
]);
export const ELEMENT_TYPES = ['stroke', 'line', 'arrow', 'rectangle', 'ellipse', 'text'] as const satisfies readonly ElementType[];

/** Style fields a script may leave out; `normalizeElement` fills them. */
const optionalOnInput = { id: true, z: true, strokeColor: true, strokeWidth: true, opacity: true } as const;

/** What scripts and files write: like an element, but `id`, `z` and style are optional. */
export const elementInputSchema = z.discriminatedUnion('type', [
  strokeSchema.partial(optionalOnInput),
  lineSchema.partial(optionalOnInput),
  arrowSchema.partial(optionalOnInput),
  rectangleSchema.partial({ ...optionalOnInput, fillColor: true }),
  ellipseSchema.partial({ ...optionalOnInput, fillColor: true }),
  textSchema.partial(optionalOnInput),
]);
export type ElementInput = z.infer<typeof elementInputSchema>;

export const DEFAULT_STYLE = {
  strokeColor: '#1e1e1e',
  strokeWidth: 2,
  opacity: 1,
  fillColor: 'transparent',
} as const;

const patchSchema = (text: typeof textSchema.shape.text) =>
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
    })
    .partial()
    .refine((patch) => Object.keys(patch).length > 0, 'a patch must change at least one property');

/**
 * The changeable properties of an element. A patch is checked again against the element's own kind
 * once merged, so a `text` on a rectangle is refused there.
 */
export const elementPatchSchema = patchSchema(textSchema.shape.text);
export type ElementPatch = z.infer<typeof elementPatchSchema>;
/** A patch as stored in the op log: its text may predate the character rules. */
export const storedElementPatchSchema = patchSchema(storedTextSchema.shape.text);
