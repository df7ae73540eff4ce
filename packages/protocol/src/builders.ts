import { DEFAULT_STYLE, elementSchema, type Element, type ElementInput } from './elements/index.js';

/**
 * Fills what an input left out (id, z, every style field: colours, stroke width, opacity, font size; a
 * note's text) and validates the result as a full element. Optional fields (`angle`, `groupIds`, ...) stay out.
 */
export function normalizeElement(input: ElementInput, defaults: { id: string; z: string }): Element {
  const withDefaults: Record<string, unknown> = {
    ...input,
    id: input.id ?? defaults.id,
    z: input.z ?? defaults.z,
    strokeColor: input.strokeColor ?? DEFAULT_STYLE.strokeColor,
    strokeWidth: input.strokeWidth ?? DEFAULT_STYLE.strokeWidth,
    opacity: input.opacity ?? DEFAULT_STYLE.opacity,
  };
  if ((input.type === 'rectangle' || input.type === 'ellipse') && input.fillColor === undefined) {
    withDefaults.fillColor = DEFAULT_STYLE.fillColor;
  }
  if (input.type === 'text' || input.type === 'note') withDefaults.fontSize = input.fontSize ?? DEFAULT_STYLE.fontSize;
  if (input.type === 'note') {
    withDefaults.fillColor = input.fillColor ?? DEFAULT_STYLE.noteColor;
    withDefaults.text = input.text ?? '';
  }
  return elementSchema.parse(withDefaults);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/**
 * A random URL-safe id (about 6 bits a character) from Web Crypto, available in browsers and Node 20.
 * It starts with a letter or digit, so that a command line never takes it for an option.
 */
export function newId(length = 21): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let id = ALPHABET[bytes[0]! % 62]!;
  for (const b of bytes.subarray(1)) id += ALPHABET[b & 63];
  return id;
}
