import { z } from 'zod';
import { colorSchema, coordSchema, idSchema, LIMITS, opacitySchema, strokeWidthSchema, zIndexSchema } from '../primitives.js';

/**
 * Rotation in radians about the centre of the element's unrotated box (clockwise on screen, as
 * y points down). Within ±2π; `normalizeAngle` brings a sum of rotations back into [0, 2π).
 */
export const angleSchema = z.number().min(-2 * Math.PI).max(2 * Math.PI);

/** Groups an element belongs to, innermost first (as in Excalidraw); at most `LIMITS.groupDepth`. */
export const groupIdsSchema = z.array(idSchema).max(LIMITS.groupDepth, `an element is in at most ${LIMITS.groupDepth} nested groups`);

/**
 * Fields every element has. `angle`, `groupIds` and `locked` came later (issue 14): they are
 * optional, and a missing one means its default (`ELEMENT_DEFAULTS`), so boards stored before load unchanged.
 */
export const commonFields = {
  id: idSchema,
  x: coordSchema,
  y: coordSchema,
  z: zIndexSchema,
  strokeColor: colorSchema,
  strokeWidth: strokeWidthSchema,
  opacity: opacitySchema,
  angle: angleSchema.optional(),
  groupIds: groupIdsSchema.optional(),
  /** A locked element cannot be selected by a click until it is unlocked. */
  locked: z.boolean().optional(),
};

/** Fields a patch may never change. */
export const FROZEN_KEYS = ['id', 'type'] as const;
