import { z } from 'zod';

/** Largest absolute world coordinate accepted; keeps geometry and JSON sane. */
export const MAX_COORD = 1_000_000;

/** Limits that every boundary enforces (documented in docs/limits.md). */
export const LIMITS = {
  idLength: 64,
  /** Nested groups an element may belong to (`groupIds`). */
  groupDepth: 8,
  pointsPerStroke: 5_000,
  pointsPerLine: 1_000,
  textLength: 5_000,
  elementsPerOp: 2_000,
  opsPerPush: 100,
  updatesPerOp: 2_000,
  elementsPerBoard: 20_000,
  /** Default budget of a board in total (the server's INKBOARD_BOARD_MAX_POINTS / _MB may change it). */
  pointsPerBoard: 2_000_000,
  bytesPerBoard: 20 * 1024 * 1024,
  /** Points one push may carry (added elements and patched point lists): validating them holds the server's event loop. */
  pointsPerPush: 50_000,
  /** Elements one push may add or update (each is validated, so the work grows with them). */
  elementChangesPerPush: 5_000,
  /** Points one preview message may carry (its element's or appended). */
  pointsPerPreview: 1_000,
  /** Points of previews one person may send a second, in bursts of up to twice that (the server's rate bucket). */
  previewPointsPerSecond: 5_000,
  chatLength: 2_000,
  titleLength: 120,
  nameLength: 40,
} as const;

/** A finite number within the board's coordinate range. */
export const coordSchema = z
  .number({ error: 'must be a finite number' })
  .min(-MAX_COORD, `must be at least -${MAX_COORD}`)
  .max(MAX_COORD, `must be at most ${MAX_COORD}`);

/** Client-generated identifier: URL-safe, short. */
export const idSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.idLength, `must be at most ${LIMITS.idLength} characters`)
  .regex(/^[A-Za-z0-9_-]+$/, 'may only contain letters, digits, "_" and "-"');

/** `#rrggbb` or `#rrggbbaa`. */
export const colorSchema = z.string().regex(/^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/, 'must be a colour like #1e1e1e');

/** A fill colour, or "transparent" for none. */
export const fillSchema = z.union([colorSchema, z.literal('transparent')]);

/** Fractional index (see the fractional-indexing package): elements sort by it, then by id. */
export const zIndexSchema = z.string().min(1).max(64).regex(/^[0-9A-Za-z]+$/, 'must be a fractional index');

export const strokeWidthSchema = z.number().min(0.5).max(100);
export const opacitySchema = z.number().min(0).max(1);
export const pressureSchema = z.number().min(0).max(1);

/**
 * Characters refused in anything a person writes: C0 controls except tab and newline (so carriage
 * return, and ESC, which starts terminal escape sequences), DEL, C1 controls (U+0080-U+009F; U+009B
 * is a one-character CSI on some terminals) and lone UTF-16 surrogates (not Unicode; they turn into
 * U+FFFD on the way). Only new input is checked: what was stored before is still read as it is.
 */
export const CONTROL_CHARACTER = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]|\p{Cs}/u;
/**
 * Also refused in one-line strings (names, titles): tabs, line breaks (also U+2028, U+2029) and the
 * bidirectional embedding, override and isolate controls, which make a name read as another.
 */
export const LINE_BREAK_OR_BIDI = /[\t\n\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

const codePoint = (ch: string) => `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `value` breaks the character rules of free text (one line when `oneLine`), or null when it does not. */
export function textProblem(value: string, oneLine: boolean): string | null {
  const control = CONTROL_CHARACTER.exec(value);
  if (control) return `must not contain control characters (${codePoint(control[0])} at position ${control.index + 1}); remove it and send again`;
  const other = oneLine ? LINE_BREAK_OR_BIDI.exec(value) : null;
  if (other) {
    const what = /[\t\n\u2028\u2029]/.test(other[0]) ? 'line breaks or tabs' : 'bidirectional text controls';
    return `must be one line without ${what} (${codePoint(other[0])} at position ${other.index + 1})`;
  }
  return null;
}

const CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTER.source, 'gu');
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/gu;

/**
 * `value` without what the character rules refuse: carriage returns (CRLF too) become newlines, other
 * control characters are removed; with `oneLine`, bidi controls are removed and line breaks and tabs made spaces.
 * For editors that must not lose a person's text (e.g. one stored before the rules) to a refusal.
 */
export function stripControlCharacters(value: string, oneLine = false): string {
  const clean = value.replace(/\r\n?/g, '\n').replace(CONTROL_CHARACTERS, '');
  return oneLine ? clean.replace(BIDI_CONTROLS, '').replace(/[\t\n\u2028\u2029]/g, ' ') : clean;
}

/** `schema` with the character rules of free text: no control characters; with `oneLine`, no line breaks, tabs or bidi controls either. */
export function plainText(schema: z.ZodString, oneLine: boolean): z.ZodString {
  return schema.superRefine((value, ctx) => {
    const problem = textProblem(value, oneLine);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, input: value });
  });
}

/** Display name of a person on a board. */
export const nameSchema = plainText(z.string().trim().min(1, 'must not be empty').max(LIMITS.nameLength), true);
