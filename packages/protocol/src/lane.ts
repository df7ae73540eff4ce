import { z } from 'zod';
import { boardRefInput, cursorInput, previewInput, viewInput } from './api.js';
import { LIMITS, MAX_COORD } from './primitives.js';

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

/** A JSON number as `JSON.stringify` writes it. */
const JSON_NUMBER = String.raw`-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?`;

/**
 * A lane message of one cursor event exactly as `encodeLane` writes it (the key order of
 * `Lane.cursor`, no spaces), with a board id that `idSchema` accepts.
 */
const ONE_CURSOR = new RegExp(
  String.raw`^~\[\{"type":"cursor","boardId":"([A-Za-z0-9_-]{1,${LIMITS.idLength}})","x":(${JSON_NUMBER}),"y":(${JSON_NUMBER})(,"laser":true)?\}\]$`,
);

/**
 * The events of a lane message (`~[...]`) when it is the commonest kind, one cursor move written as
 * `encodeLane` writes it and within the board's coordinates: the result `laneMessageSchema` gives
 * for it, without parsing the JSON or running the schema (0.5 us instead of 3.3 us a message on the
 * test machine; zod was a tenth of a busy server's time in the school profile, docs/benchmarks.md). Null for anything else, which the caller parses and validates
 * with `laneMessageSchema` as usual (errors included). lane.test.ts checks the two agree.
 */
export function oneCursorFast(text: string): LaneEvent[] | null {
  const m = ONE_CURSOR.exec(text);
  if (!m) return null;
  const x = Number(m[2]);
  const y = Number(m[3]);
  if (!(Math.abs(x) <= MAX_COORD && Math.abs(y) <= MAX_COORD)) return null;
  return [m[4] ? { type: 'cursor', boardId: m[1]!, x, y, laser: true } : { type: 'cursor', boardId: m[1]!, x, y }];
}

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
