import { toWireFrame, type BoardEvent, type CursorEvent, type PresenceEntry, type WireFrame } from '@inkboard/protocol';

/** One subscription of a board. */
export interface Subscriber {
  userId: string;
  frame(frame: WireFrame): void;
  /** The user lost access (removed, board deleted): end the subscription. */
  revoked(): void;
}

/**
 * Fan-out of a board's events to its subscribers, in frames of one tick each. This process's
 * implementation is `LocalBoardHub`; a Redis pub/sub one can replace it so that several server
 * processes share boards (it then also shares presence).
 */
export interface BoardHub {
  /** Queues events for every subscriber of the board; `seq` is the board's seq after them. */
  publish(boardId: string, seq: number, events: readonly BoardEvent[]): void;
  /** Delivers every frame of the board from now on to `subscriber`; returns the unsubscribe. */
  subscribe(boardId: string, subscriber: Subscriber): () => void;
  /** Ends the subscriptions of `userId` (or everyone's, with null) on the board, on every process. */
  revoke(boardId: string, userId: string | null): void;
  /** Adds a connection to the board's presence and announces it. */
  join(boardId: string, seq: number, entry: PresenceEntry): void;
  /** Removes a connection from the board's presence and announces it. */
  leave(boardId: string, seq: number, clientId: string): void;
  presence(boardId: string): PresenceEntry[];
  /** Number of subscribers of a board on this process. */
  subscriberCount(boardId: string): number;
  /** Boards with a room on this process and their subscriptions, for metrics. */
  stats(): { boards: number; subscriptions: number };
  close(): Promise<void>;
}

interface Room {
  listeners: Set<Subscriber>;
  presence: Map<string, PresenceEntry>;
  seq: number;
  /** Events of the tick in progress, in order; cursors are kept apart, latest per client. */
  pending: BoardEvent[];
  cursors: Map<string, CursorEvent>;
  timer: NodeJS.Timeout | null;
  /** When the oldest event of the tick in progress was published. */
  since: number;
}

/** Called after each frame with how long its oldest event waited and how many got it. */
export type FlushObserver = (delayMs: number, subscribers: number) => void;

/**
 * One room per board in this process. Events of a tick are delivered as one frozen frame object,
 * the same for every subscriber, so the WebSocket encoder serializes it once.
 */
export class LocalBoardHub implements BoardHub {
  private readonly rooms = new Map<string, Room>();

  constructor(
    private readonly tickMs: number,
    private readonly onFlush: FlushObserver = () => {},
  ) {}

  publish(boardId: string, seq: number, events: readonly BoardEvent[]): void {
    const room = this.rooms.get(boardId);
    if (!room || room.listeners.size === 0) return;
    room.seq = Math.max(room.seq, seq);
    for (const event of events) {
      if (event.type === 'cursor') room.cursors.set(event.clientId, event);
      else {
        if (event.type === 'leave') room.cursors.delete(event.clientId);
        room.pending.push(event);
      }
    }
    if (room.timer === null) {
      room.since = performance.now();
      room.timer = setTimeout(() => this.flush(room), this.tickMs);
    }
  }

  subscribe(boardId: string, subscriber: Subscriber): () => void {
    const room = this.room(boardId);
    room.listeners.add(subscriber);
    return () => {
      room.listeners.delete(subscriber);
      this.dropIfIdle(boardId, room);
    };
  }

  revoke(boardId: string, userId: string | null): void {
    const room = this.rooms.get(boardId);
    if (!room) return;
    for (const subscriber of [...room.listeners]) if (userId === null || subscriber.userId === userId) subscriber.revoked();
  }

  join(boardId: string, seq: number, entry: PresenceEntry): void {
    const room = this.room(boardId);
    room.presence.set(entry.clientId, entry);
    this.publish(boardId, seq, [{ type: 'join', client: entry }]);
  }

  leave(boardId: string, seq: number, clientId: string): void {
    const room = this.rooms.get(boardId);
    if (!room?.presence.delete(clientId)) return;
    this.publish(boardId, seq, [{ type: 'leave', clientId }]);
    this.dropIfIdle(boardId, room);
  }

  presence(boardId: string): PresenceEntry[] {
    return [...(this.rooms.get(boardId)?.presence.values() ?? [])];
  }

  subscriberCount(boardId: string): number {
    return this.rooms.get(boardId)?.listeners.size ?? 0;
  }

  async close(): Promise<void> {
    for (const room of this.rooms.values()) if (room.timer) clearTimeout(room.timer);
    this.rooms.clear();
  }

  private room(boardId: string): Room {
    let room = this.rooms.get(boardId);
    if (!room) {
      room = { listeners: new Set(), presence: new Map(), seq: 0, pending: [], cursors: new Map(), timer: null, since: 0 };
      this.rooms.set(boardId, room);
    }
    return room;
  }

  stats(): { boards: number; subscriptions: number } {
    let subscriptions = 0;
    for (const room of this.rooms.values()) subscriptions += room.listeners.size;
    return { boards: this.rooms.size, subscriptions };
  }

  private flush(room: Room): void {
    room.timer = null;
    if (room.pending.length === 0 && room.cursors.size === 0) return;
    const events = room.cursors.size ? [...room.pending, ...room.cursors.values()] : room.pending;
    room.pending = [];
    room.cursors = new Map();
    // Packed (committed strokes) and frozen once per tick: the WebSocket encoder then serializes it once.
    const frame = Object.freeze(toWireFrame({ seq: room.seq, events }));
    for (const subscriber of room.listeners) subscriber.frame(frame);
    this.onFlush(performance.now() - room.since, room.listeners.size);
  }

  private dropIfIdle(boardId: string, room: Room): void {
    if (room.listeners.size === 0 && room.presence.size === 0 && this.rooms.get(boardId) === room) {
      if (room.timer) clearTimeout(room.timer);
      this.rooms.delete(boardId);
    }
  }
}
