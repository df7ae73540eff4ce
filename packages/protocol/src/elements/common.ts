import { colorSchema, coordSchema, idSchema, opacitySchema, strokeWidthSchema, zIndexSchema } from '../primitives.js';

/** Fields every element has. */
export const commonFields = {
  id: idSchema,
  x: coordSchema,
  y: coordSchema,
  z: zIndexSchema,
  strokeColor: colorSchema,
  strokeWidth: strokeWidthSchema,
  opacity: opacitySchema,
};

/** Fields a patch may never change. */
export const FROZEN_KEYS = ['id', 'type'] as const;
