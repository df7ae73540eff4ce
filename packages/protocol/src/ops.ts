import { z } from 'zod';
import { elementPatchSchema, elementSchema } from './elements/index.js';
import { idSchema, LIMITS } from './primitives.js';

/** Client-generated id of an op: re-sending the same op id never applies it twice. */
export const opIdSchema = idSchema;

/** Add new elements. */
export const addOpSchema = z.strictObject({
  type: z.literal('add'),
  opId: opIdSchema,
  elements: z.array(elementSchema).min(1, 'add needs at least one element').max(LIMITS.elementsPerOp),
});
export type AddOp = z.infer<typeof addOpSchema>;

/** Change properties of existing elements (last writer wins per property, in server order). */
export const updateOpSchema = z.strictObject({
  type: z.literal('update'),
  opId: opIdSchema,
  updates: z
    .array(z.strictObject({ id: idSchema, patch: elementPatchSchema }))
    .min(1, 'update needs at least one change')
    .max(LIMITS.updatesPerOp),
});
export type UpdateOp = z.infer<typeof updateOpSchema>;

/** Delete elements; ids that are already gone are ignored. */
export const deleteOpSchema = z.strictObject({
  type: z.literal('delete'),
  opId: opIdSchema,
  ids: z.array(idSchema).min(1, 'delete needs at least one id').max(LIMITS.updatesPerOp),
});
export type DeleteOp = z.infer<typeof deleteOpSchema>;

/** Remove every element of the board. */
export const clearOpSchema = z.strictObject({
  type: z.literal('clear'),
  opId: opIdSchema,
});
export type ClearOp = z.infer<typeof clearOpSchema>;

/** Every op a client may send. */
export const opSchema = z.discriminatedUnion('type', [addOpSchema, updateOpSchema, deleteOpSchema, clearOpSchema]);
export type Op = z.infer<typeof opSchema>;
export type OpType = Op['type'];
