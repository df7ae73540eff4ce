import { TRPCError } from '@trpc/server';
import { LIMITS, type BoardEvent, type LaneEvent, type PreviewInput, type Role, type User } from '@inkboard/protocol';
import type { RateLimitKind, TokenBuckets } from '../auth/TokenBucket.js';
import { sizeRefusal } from '../trpc/sizeRates.js';
import type { BoardHub } from './BoardHub.js';
import type { BoardService } from './BoardService.js';

/**
 * The ephemeral kinds (never stored): who may send each, and its rate limit. The tRPC mutations
 * (`board.cursor`, `board.preview`, `chat.typing`) and the lane (plugins/lane.ts) both follow it.
 */
export const EPHEMERAL_RULES = {
  cursor: { least: 'viewer', limit: 'cursor' },
  preview: { least: 'editor', limit: 'preview' },
  typing: { least: 'viewer', limit: 'typing' },
  view: { least: 'viewer', limit: 'view' },
} as const satisfies Record<LaneEvent['type'], { least: Role; limit: RateLimitKind }>;

/** What others see of a person: never the sign-in name. */
export function publicUser(user: User): User {
  return { id: user.id, name: user.name, color: user.color };
}

/** The board event others get for an ephemeral input of the connection `clientId`. */
export function ephemeralEvent(input: LaneEvent, clientId: string, user: User): BoardEvent {
  switch (input.type) {
    case 'cursor':
      return input.laser ? { type: 'cursor', clientId, x: input.x, y: input.y, laser: true } : { type: 'cursor', clientId, x: input.x, y: input.y };
    case 'preview': {
      const { type: _type, boardId: _boardId, ...preview } = input;
      return { type: 'preview', clientId, ...preview };
    }
    case 'typing':
      return { type: 'typing', clientId, user: publicUser(user) };
    case 'view':
      return { type: 'view', clientId, x: input.x, y: input.y, w: input.w, h: input.h };
    default: {
      const unknown: never = input;
      throw new Error(`unknown ephemeral input ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Sends an ephemeral input (role and message rate already checked) to everyone on its board, on
 * every process. A preview is first held to its budgets by size: the points it carries are charged
 * to the sender's `previewPoints` bucket, and a previewed stroke may not grow past a stroke's points.
 */
export function publishEphemeral(
  app: { hub: BoardHub; service: BoardService; limits: Record<RateLimitKind, TokenBuckets> },
  input: LaneEvent,
  clientId: string,
  user: User,
): void {
  if (input.type === 'preview') {
    const carried = (input.element && 'points' in input.element ? input.element.points.length : 0) + (input.append?.length ?? 0);
    const held = app.service.previews.check(clientId, input);
    const wait = carried > 0 ? app.limits.previewPoints.spend(user.id, carried) : 0;
    if (wait > 0) throw sizeRefusal('previewPoints', carried, app.limits.previewPoints, wait);
    app.service.previews.record(clientId, input, held);
  }
  app.hub.publish(input.boardId, app.service.knownSeq(input.boardId), [ephemeralEvent(input, clientId, user)]);
}

/** Previewed elements remembered per connection, and connections remembered: bounds of `PreviewStrokes`' memory. */
const PREVIEWS_PER_CLIENT = 32;
const PREVIEW_CLIENTS = 10_000;

/**
 * Points each connection's previewed strokes hold (the element sent, plus what was appended since),
 * as every receiver holds them: a preview may not make a stroke longer than a stroke may be
 * (LIMITS.pointsPerStroke). Forgotten on `done`, and the oldest first beyond the bounds above.
 */
export class PreviewStrokes {
  private readonly byClient = new Map<string, Map<string, number>>();

  /** The points the element will hold with this preview, or BAD_REQUEST when that is past the cap (nothing counted). */
  check(clientId: string, preview: Pick<PreviewInput, 'elementId' | 'element' | 'append'>): number {
    const before = preview.element ? ('points' in preview.element ? preview.element.points.length : 0) : (this.byClient.get(clientId)?.get(preview.elementId) ?? 0);
    const held = before + (preview.append?.length ?? 0);
    if (held > LIMITS.pointsPerStroke) {
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: `This preview would make stroke "${preview.elementId}" ${held.toLocaleString('en-US')} points long; a stroke holds at most ${LIMITS.pointsPerStroke.toLocaleString('en-US')}. End this stroke and start a new one.`,
      });
    }
    return held;
  }

  /** Remembers what `check` allowed. */
  record(clientId: string, preview: Pick<PreviewInput, 'elementId' | 'done'>, held: number): void {
    let strokes = this.byClient.get(clientId);
    if (preview.done) {
      strokes?.delete(preview.elementId);
      if (strokes?.size === 0) this.byClient.delete(clientId);
      return;
    }
    if (!strokes) {
      if (this.byClient.size >= PREVIEW_CLIENTS) this.byClient.delete(this.byClient.keys().next().value!);
      strokes = new Map();
      this.byClient.set(clientId, strokes);
    }
    strokes.delete(preview.elementId);
    if (strokes.size >= PREVIEWS_PER_CLIENT) strokes.delete(strokes.keys().next().value!);
    strokes.set(preview.elementId, held);
  }
}
