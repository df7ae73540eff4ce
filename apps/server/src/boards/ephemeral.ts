import type { BoardEvent, LaneEvent, Role, User } from '@inkboard/protocol';
import type { RateLimitKind } from '../auth/TokenBucket.js';
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
} as const satisfies Record<LaneEvent['type'], { least: Role; limit: RateLimitKind }>;

/** What others see of a person: never the sign-in name. */
export function publicUser(user: User): User {
  return { id: user.id, name: user.name, color: user.color };
}

/** The board event others get for an ephemeral input of the connection `clientId`. */
export function ephemeralEvent(input: LaneEvent, clientId: string, user: User): BoardEvent {
  switch (input.type) {
    case 'cursor':
      return { type: 'cursor', clientId, x: input.x, y: input.y };
    case 'preview': {
      const { type: _type, boardId: _boardId, ...preview } = input;
      return { type: 'preview', clientId, ...preview };
    }
    case 'typing':
      return { type: 'typing', clientId, user: publicUser(user) };
    default: {
      const unknown: never = input;
      throw new Error(`unknown ephemeral input ${JSON.stringify(unknown)}`);
    }
  }
}

/** Sends an ephemeral input (already checked) to everyone on its board, on every process. */
export function publishEphemeral(app: { hub: BoardHub; service: BoardService }, input: LaneEvent, clientId: string, user: User): void {
  app.hub.publish(input.boardId, app.service.knownSeq(input.boardId), [ephemeralEvent(input, clientId, user)]);
}
