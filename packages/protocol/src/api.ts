import { z } from 'zod';
import { elementSchema, pointListSchema } from './elements/index.js';
import { opSchema } from './ops.js';
import { coordSchema, idSchema, LIMITS, plainText } from './primitives.js';
import { PROTOCOL_VERSION } from './events.js';

/** Inputs of every procedure: the server validates with these, scripts build with them. */

export const boardIdSchema = idSchema;

export const boardRefInput = z.strictObject({ boardId: boardIdSchema });

/** A board's title: one line, no control characters. */
export const titleSchema = plainText(z.string().trim().min(1, 'title must not be empty').max(LIMITS.titleLength), true);

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

export const cursorInput = z.strictObject({
  boardId: boardIdSchema,
  x: coordSchema,
  y: coordSchema,
  /** The pointer is drawing with the laser pointer: others draw a fading trail through these positions (never stored). */
  laser: z.literal(true).optional(),
});

/** Side of the largest view a person may announce (world units): a whole board at the smallest zoom. */
export const MAX_VIEW_SIZE = 4_000_000;

/**
 * The world rectangle a person's screen shows (top-left corner and size), announced when it changes
 * (at most about 10 per second) so that others can follow it. Ephemeral: never stored.
 */
export const viewInput = z.strictObject({
  boardId: boardIdSchema,
  x: coordSchema,
  y: coordSchema,
  w: z.number().positive('w must be positive').max(MAX_VIEW_SIZE, `must be at most ${MAX_VIEW_SIZE}`),
  h: z.number().positive('h must be positive').max(MAX_VIEW_SIZE, `must be at most ${MAX_VIEW_SIZE}`),
});
export type ViewInput = z.infer<typeof viewInput>;

export const previewInput = z
  .strictObject({
    boardId: boardIdSchema,
    elementId: idSchema,
    element: elementSchema.optional(),
    append: pointListSchema({
      pressure: true,
      min: 0,
      max: LIMITS.pointsPerPreview,
      tooMany: `a preview appends at most ${LIMITS.pointsPerPreview} points at a time; send the rest in later previews`,
    }).optional(),
    done: z.boolean().optional(),
  })
  .refine((p) => p.element !== undefined || p.append !== undefined || p.done === true, {
    message: 'a preview needs an element, points to append, or done',
  })
  .refine((p) => (p.element && 'points' in p.element ? p.element.points.length : 0) <= LIMITS.pointsPerPreview, {
    message: `a preview's element may carry at most ${LIMITS.pointsPerPreview} points; append the rest, or let the committed op show it`,
    path: ['element', 'points'],
  });
export type PreviewInput = z.infer<typeof previewInput>;

export const chatSendInput = z.strictObject({
  boardId: boardIdSchema,
  /** Lines break at `\n`; no control characters. */
  text: plainText(z.string().trim().min(1, 'message must not be empty').max(LIMITS.chatLength), false),
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
  /** A guest of several boards in one browser (issue 18): the board whose guest this connection acts as. */
  guestBoard: boardIdSchema.optional(),
});
export type ConnectionParams = z.infer<typeof connectionParamsSchema>;
