import { z } from 'zod';
import { elementSchema, strokePointSchema } from './elements/index.js';
import { opSchema } from './ops.js';
import { coordSchema, idSchema, LIMITS } from './primitives.js';
import { PROTOCOL_VERSION } from './events.js';

/** Inputs of every procedure: the server validates with these, scripts build with them. */

export const boardIdSchema = idSchema;

export const boardRefInput = z.strictObject({ boardId: boardIdSchema });

export const titleSchema = z.string().trim().min(1, 'title must not be empty').max(LIMITS.titleLength);

export const createBoardInput = z.strictObject({ title: titleSchema.default('Untitled board') });
export const renameBoardInput = z.strictObject({ boardId: boardIdSchema, title: titleSchema });

export const pushInput = z.strictObject({
  boardId: boardIdSchema,
  ops: z.array(opSchema).min(1, 'push at least one op').max(LIMITS.opsPerPush),
});
export type PushInput = z.infer<typeof pushInput>;

/** `lastEventId` is a frame's `seq` as a string; the tRPC client sends it on every reconnect. */
export const subscribeInput = z.strictObject({
  boardId: boardIdSchema,
  lastEventId: z
    .string()
    .regex(/^\d{1,15}$/, 'lastEventId must be a board seq')
    .nullish(),
});

export const cursorInput = z.strictObject({ boardId: boardIdSchema, x: coordSchema, y: coordSchema });

export const previewInput = z
  .strictObject({
    boardId: boardIdSchema,
    elementId: idSchema,
    element: elementSchema.optional(),
    append: z.array(strokePointSchema).max(LIMITS.pointsPerStroke).optional(),
    done: z.boolean().optional(),
  })
  .refine((p) => p.element !== undefined || p.append !== undefined || p.done === true, {
    message: 'a preview needs an element, points to append, or done',
  });
export type PreviewInput = z.infer<typeof previewInput>;

export const chatSendInput = z.strictObject({
  boardId: boardIdSchema,
  text: z.string().trim().min(1, 'message must not be empty').max(LIMITS.chatLength),
});
export const chatHistoryInput = z.strictObject({
  boardId: boardIdSchema,
  /** Messages older than this id; newest when omitted. */
  before: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(100).default(100),
});

/** What a WebSocket client sends when it connects: the protocol version and, for scripts, an API token. */
export const connectionParamsSchema = z.object({
  protocol: z.literal(String(PROTOCOL_VERSION)).optional(),
  token: z.string().max(200).optional(),
});
export type ConnectionParams = z.infer<typeof connectionParamsSchema>;
