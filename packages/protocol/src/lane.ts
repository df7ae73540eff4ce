import { z } from 'zod';
import { boardRefInput, cursorInput, previewInput, viewInput } from './api.js';

/**
 * The ephemeral lane: cursor moves (laser pointer included), live previews, typing signals and views sent on the board's WebSocket
 * as plain messages without a reply, beside tRPC. They are fire-and-forget by nature (only the
 * latest cursor matters), and a tRPC mutation with its reply cost the server several times the
 * message itself (docs/benchmarks.md). A lane message is `~` followed by a JSON array of lane
 * events; everything a client batches in one turn travels as one message.
 *
 * The server checks each event as it checks the matching mutation (`board.cursor`,
 * `board.preview`, `chat.typing`): signed in, role on the board, rate limit, this schema. A refused
 * event is answered with a tRPC-shaped error whose id is `LANE_REPLY_ID` (tRPC clients ignore it;
 * `@inkboard/client` reports it), and nothing of it is delivered.
 */

/** First character of a lane message (tRPC's own messages are JSON objects or arrays, or PING/PONG). */
export const LANE_PREFIX = '~';
/** The `id` of the server's answer to a refused lane event. */
export const LANE_REPLY_ID = '~';
/** Events in one lane message. */
export const LANE_MAX_EVENTS = 64;

export const laneCursorSchema = cursorInput.extend({ type: z.literal('cursor') });
export const lanePreviewSchema = previewInput.extend({ type: z.literal('preview') });
export const laneTypingSchema = boardRefInput.extend({ type: z.literal('typing') });
/** Lane only (no mutation): what the sender's screen shows, for people following them. */
export const laneViewSchema = viewInput.extend({ type: z.literal('view') });

export const laneEventSchema = z.discriminatedUnion('type', [laneCursorSchema, lanePreviewSchema, laneTypingSchema, laneViewSchema]);
export type LaneEvent = z.infer<typeof laneEventSchema>;

export const laneMessageSchema = z.array(laneEventSchema).min(1, 'a lane message needs at least one event').max(LANE_MAX_EVENTS);

/** The text of a lane message. */
export function encodeLane(events: readonly LaneEvent[]): string {
  return LANE_PREFIX + JSON.stringify(events);
}

/** What the server answers to a refused lane event (the error part of a tRPC response). */
export const laneErrorSchema = z.object({
  id: z.literal(LANE_REPLY_ID),
  error: z.object({
    message: z.string(),
    code: z.number(),
    data: z.object({ code: z.string(), path: z.string().optional() }).loose(),
  }),
});
export type LaneError = z.infer<typeof laneErrorSchema>;
