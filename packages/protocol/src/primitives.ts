import { z } from 'zod';

/** Largest absolute world coordinate accepted; keeps geometry and JSON sane. */
export const MAX_COORD = 1_000_000;

/** Limits that every boundary enforces (documented in docs/limits.md). */
export const LIMITS = {
  idLength: 64,
  pointsPerStroke: 5_000,
  pointsPerLine: 1_000,
  textLength: 5_000,
  elementsPerOp: 2_000,
  opsPerPush: 100,
  updatesPerOp: 2_000,
  elementsPerBoard: 20_000,
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

/** Display name of a person on a board. */
export const nameSchema = z.string().trim().min(1, 'must not be empty').max(LIMITS.nameLength);
