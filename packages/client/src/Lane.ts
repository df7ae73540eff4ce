import { encodeLane, LANE_MAX_EVENTS, LANE_REPLY_ID, laneErrorSchema, type LaneEvent, type PreviewInput, type ViewInput } from '@inkboard/protocol';
import type { createWSClient } from '@trpc/client';

type WsClient = ReturnType<typeof createWSClient>;

/** The server refused a lane event (not signed in, no access, too many, invalid): it was not delivered. */
export class LaneRefusal extends Error {
  constructor(
    message: string,
    /** tRPC error code, e.g. FORBIDDEN or TOO_MANY_REQUESTS. */
    readonly code: string,
    /** `lane.cursor`, `lane.preview`, `lane.typing`, or `lane` for the message as a whole. */
    readonly path: string | undefined,
  ) {
    super(message);
    this.name = 'LaneRefusal';
  }
}

const REPLY_START = `{"id":${JSON.stringify(LANE_REPLY_ID)}`;

/**
 * Cursor moves, live previews and typing signals over the live WebSocket without a reply (see
 * packages/protocol/src/lane.ts). Events sent in one turn of the event loop travel as one message,
 * a cursor only as its latest position. Ephemeral by nature: while the socket is not open they are
 * dropped, not queued.
 */
export class Lane {
  private queue: LaneEvent[] = [];
  private scheduled = false;
  private readonly watched = new WeakSet<object>();
  private readonly errorHandlers = new Set<(refusal: LaneRefusal) => void>();

  constructor(private readonly ws: WsClient) {}

  /** `laser`: the position is part of a laser pointer's trail (others draw it fading). */
  cursor(boardId: string, x: number, y: number, laser = false): void {
    // Only the latest position of a turn matters.
    this.queue = this.queue.filter((e) => !(e.type === 'cursor' && e.boardId === boardId));
    this.send(laser ? { type: 'cursor', boardId, x, y, laser: true } : { type: 'cursor', boardId, x, y });
  }

  /** Announces the world rectangle the screen shows, for people following this connection. */
  view(input: ViewInput): void {
    this.queue = this.queue.filter((e) => !(e.type === 'view' && e.boardId === input.boardId));
    this.send({ type: 'view', ...input });
  }

  preview(input: PreviewInput): void {
    this.send({ type: 'preview', ...input });
  }

  typing(boardId: string): void {
    this.send({ type: 'typing', boardId });
  }

  send(event: LaneEvent): void {
    this.queue.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  /** Calls `handler` with each refusal the server answers; returns the unsubscribe. */
  onError(handler: (refusal: LaneRefusal) => void): () => void {
    this.errorHandlers.add(handler);
    return () => this.errorHandlers.delete(handler);
  }

  /** Sends what is queued now. */
  flush(): void {
    this.scheduled = false;
    const events = this.queue;
    this.queue = [];
    const connection = this.ws.connection;
    if (!events.length || connection?.state !== 'open') return;
    const socket = connection.ws;
    this.watch(socket);
    for (let i = 0; i < events.length; i += LANE_MAX_EVENTS) socket.send(encodeLane(events.slice(i, i + LANE_MAX_EVENTS)));
  }

  private watch(socket: WebSocket): void {
    if (this.watched.has(socket)) return;
    this.watched.add(socket);
    socket.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data !== 'string' || !event.data.startsWith(REPLY_START)) return;
      let reply: unknown;
      try {
        reply = JSON.parse(event.data);
      } catch {
        return;
      }
      const parsed = laneErrorSchema.safeParse(reply);
      if (!parsed.success) return;
      const { message, data } = parsed.data.error;
      const refusal = new LaneRefusal(message, data.code, data.path);
      for (const handler of this.errorHandlers) handler(refusal);
    });
  }
}
