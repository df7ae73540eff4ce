import { z } from 'zod';
import { elementSchema, pointListSchema, storedElementPatchSchema, storedElementSchema } from './elements/index.js';
import { addOpSchema, clearOpSchema, deleteOpSchema, updateOpSchema } from './ops.js';
import { colorSchema, coordSchema, idSchema, LIMITS } from './primitives.js';

/** Protocol version; a client sends it when it connects. */
export const PROTOCOL_VERSION = 1;

/**
 * A person as others see them: on cursors, presence and chat. Never the sign-in username (strict:
 * a parse refuses one). The name is as stored: it may predate the character rules of `nameSchema`.
 */
export const userSchema = z.strictObject({
  id: z.string(),
  name: z.string().max(LIMITS.nameLength),
  color: colorSchema,
});
export type User = z.infer<typeof userSchema>;

/** Who made an op, as the op log keeps it (id and display name; never the username). */
export const opAuthorSchema = userSchema.pick({ id: true, name: true });
export type OpAuthor = z.infer<typeof opAuthorSchema>;

/** An op as the op log keeps it: like `opSchema`, but texts may predate the character rules. */
export const storedOpSchema = z.discriminatedUnion('type', [
  addOpSchema.extend({ elements: z.array(storedElementSchema).min(1).max(LIMITS.elementsPerOp) }),
  updateOpSchema.extend({ updates: z.array(z.strictObject({ id: idSchema, patch: storedElementPatchSchema })).min(1).max(LIMITS.updatesPerOp) }),
  deleteOpSchema,
  clearOpSchema,
]);

/** One connection on a board: a person may have several (tabs, scripts). */
export const presenceEntrySchema = z.object({
  clientId: z.string(),
  user: userSchema,
  /** A guest (public link, no account; issue 18). Left out by older servers: not a guest. */
  guest: z.boolean().optional(),
});
export type PresenceEntry = z.infer<typeof presenceEntrySchema>;

export const chatMessageSchema = z.object({
  id: z.number().int(),
  boardId: z.string(),
  user: userSchema,
  text: z.string().max(LIMITS.chatLength),
  createdAt: z.number().int(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

/** An op the server committed, at its place in the board's order. */
export const opEventSchema = z.object({
  type: z.literal('op'),
  seq: z.number().int().positive(),
  author: opAuthorSchema,
  op: storedOpSchema,
});
export type OpEvent = z.infer<typeof opEventSchema>;

/** The whole board at `seq`: replaces whatever the client had. */
export const snapshotEventSchema = z.object({
  type: z.literal('snapshot'),
  seq: z.number().int().nonnegative(),
  elements: z.array(storedElementSchema),
});
export type SnapshotEvent = z.infer<typeof snapshotEventSchema>;

/** Everyone on the board now: replaces the client's presence list. */
export const presenceEventSchema = z.object({
  type: z.literal('presence'),
  clients: z.array(presenceEntrySchema),
  /** The receiving connection's own client id (so it can tell its own cursor from its other tabs'). */
  self: z.string().optional(),
});
export const joinEventSchema = z.object({ type: z.literal('join'), client: presenceEntrySchema });
export const leaveEventSchema = z.object({ type: z.literal('leave'), clientId: z.string() });
export const cursorEventSchema = z.object({
  type: z.literal('cursor'),
  clientId: z.string(),
  x: coordSchema,
  y: coordSchema,
  /** Drawn with the laser pointer: a fading trail goes through the positions that carry it. */
  laser: z.literal(true).optional(),
});
/** The world rectangle a connection's screen shows (sent when it changes): what a follower shows. */
export const viewEventSchema = z.object({
  type: z.literal('view'),
  clientId: z.string(),
  x: coordSchema,
  y: coordSchema,
  w: z.number().positive(),
  h: z.number().positive(),
});

/**
 * A stroke or shape while it is being drawn (never stored). `element` starts or replaces it,
 * `append` adds points to a stroke, `done` ends it (the committed op follows or it was cancelled).
 */
export const previewEventSchema = z.object({
  type: z.literal('preview'),
  clientId: z.string(),
  elementId: idSchema,
  element: elementSchema.optional(),
  append: pointListSchema({ pressure: true, min: 0, max: LIMITS.pointsPerStroke }).optional(),
  done: z.boolean().optional(),
});
export const chatEventSchema = z.object({ type: z.literal('chat'), message: chatMessageSchema });
/** The owner renamed the board (not an op: the board's row keeps the title). */
export const renamedEventSchema = z.object({ type: z.literal('renamed'), title: z.string().max(LIMITS.titleLength) });
/** Who is a member changed (joined by a link, role changed, removed, readmitted): member lists are stale. */
export const membersEventSchema = z.object({ type: z.literal('members') });
export const typingEventSchema = z.object({ type: z.literal('typing'), clientId: z.string(), user: userSchema });

/** Every event the server emits on a board. */
export const boardEventSchema = z.discriminatedUnion('type', [
  opEventSchema,
  snapshotEventSchema,
  presenceEventSchema,
  joinEventSchema,
  leaveEventSchema,
  cursorEventSchema,
  previewEventSchema,
  chatEventSchema,
  typingEventSchema,
  renamedEventSchema,
  membersEventSchema,
  viewEventSchema,
]);
export type BoardEvent = z.infer<typeof boardEventSchema>;
export type BoardEventType = BoardEvent['type'];
export type CursorEvent = z.infer<typeof cursorEventSchema>;
export type PreviewEvent = z.infer<typeof previewEventSchema>;
export type ChatEvent = z.infer<typeof chatEventSchema>;
export type TypingEvent = z.infer<typeof typingEventSchema>;
export type RenamedEvent = z.infer<typeof renamedEventSchema>;
export type ViewEvent = z.infer<typeof viewEventSchema>;
export type PresenceEvent = z.infer<typeof presenceEventSchema>;
export type JoinEvent = z.infer<typeof joinEventSchema>;
export type LeaveEvent = z.infer<typeof leaveEventSchema>;

/**
 * What a subscriber receives: everything of one board tick. `seq` is the board's seq after the
 * frame's ops and is the tracked event id a client resumes from.
 */
export const frameSchema = z.object({
  seq: z.number().int().nonnegative(),
  events: z.array(boardEventSchema),
});
export type Frame = z.infer<typeof frameSchema>;
