import { toWireFrame, type BoardEvent, type CursorEvent, type PresenceEntry, type WireFrame } from '@inkboard/protocol';
import { freezeFrame } from './sharedFrame.js';
import { fixedTickPace, type TickPace } from './tickPace.js';

/** One subscription of a board. */
export interface Subscriber {
  userId: string;
  frame(frame: WireFrame): void;
  /** The user lost access (removed, board deleted): end the subscription. */
  revoked(): void;
  /**
   * Events may have been lost on the way (the pub/sub connection dropped): check the database for
   * ops after the last one delivered.
   */
  resync(): void;
  /**
   * Set for guests only (issue 18): asked at each frame; true while the board's public link has
   * chat off, and the subscriber then gets the frame without chat messages and typing signals.
   */
  withoutChat?(): boolean;
}

/**
 * Messages every process gets (this one included): access changes end subscriptions and forget
 * cached roles; ended credentials close their sockets.
 */
export type HubSignal =
  | { type: 'revoke'; boardId: string; userId: string | null }
  | { type: 'access-changed'; boardId: string }
  | { type: 'session-ended'; idHash: string }
  | { type: 'token-revoked'; tokenId: string }
  /** The board's public link now allows guests' chat or not (issue 18; auth/GuestService.ts). */
  | { type: 'guest-chat'; boardId: string; allow: boolean };

/**
 * Fan-out of a board's events to its subscribers, in frames of one tick each. This process's
 * implementation is `LocalBoardHub`; `RedisBoardHub` shares boards between several server
 * processes through Redis pub/sub (events, presence, signals).
 */
export interface BoardHub {
  /** Queues events for every subscriber of the board, on every process; `seq` is the board's seq after them. */
  publish(boardId: string, seq: number, events: readonly BoardEvent[]): void;
  /**
   * Delivers every frame of the board from now on to `subscriber`; resolves (with the unsubscribe)
   * once events published anywhere after that will reach it.
   */
  subscribe(boardId: string, subscriber: Subscriber): Promise<() => void>;
  /** Ends the subscriptions of `userId` (or everyone's, with null) on the board, on every process. */
  revoke(boardId: string, userId: string | null): void;
  /** Sends a signal to every process, this one included (handlers registered with `onSignal`). */
  signal(signal: HubSignal): void;
  onSignal(handler: (signal: HubSignal) => void): void;
  /** Adds a connection to the board's presence and announces it. */
  join(boardId: string, seq: number, entry: PresenceEntry): Promise<void>;
  /** Removes a connection from the board's presence and announces it. */
  leave(boardId: string, seq: number, clientId: string): Promise<void>;
  /** Everyone on the board, on every process. */
  presence(boardId: string): Promise<PresenceEntry[]>;
  /**
   * Sends at once the frames of this process's rooms whose tick is due (their timers may wait for
   * the event loop's next timers phase); cheap when none is. Called between WebSocket messages.
   */
  flushOverdue(): void;
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
  /** When the tick in progress is due (performance.now() time). */
  due: number;
  /** A frame of committed ops is going out before the tick (at most one per tick; see `publish`). */
  early: boolean;
}

/** Called after each frame with how long its oldest event waited and how many got it. */
export type FlushObserver = (delayMs: number, subscribers: number) => void;

/**
 * One room per board in this process. Events of a tick are delivered as one frozen frame object,
 * the same for every subscriber, so the WebSocket encoder serializes it once.
 */
export class LocalBoardHub implements BoardHub {
  private readonly rooms = new Map<string, Room>();
  /**
   * Rooms with a tick scheduled, in the order they were scheduled: nearly the order of their due
   * times (a tick's length apart at most), which `flushOverdue` relies on, stopping at the first
   * room not yet due (a later one overdue still has its timer).
   */
  private readonly scheduled = new Set<Room>();
  private readonly signalHandlers: ((signal: HubSignal) => void)[] = [];

  private readonly pace: TickPace;

  /** `tick`: the tick's length in ms, or a pace that may change it (boards/tickPace.ts). */
  constructor(
    tick: number | TickPace,
    private readonly onFlush: FlushObserver = () => {},
  ) {
    this.pace = typeof tick === 'number' ? fixedTickPace(tick) : tick;
  }

  publish(boardId: string, seq: number, events: readonly BoardEvent[]): void {
    const room = this.rooms.get(boardId);
    if (!room || room.listeners.size === 0) return;
    room.seq = Math.max(room.seq, seq);
    if (room.pending.length === 0 && room.cursors.size === 0) room.since = performance.now();
    for (const event of events) {
      if (event.type === 'cursor') room.cursors.set(event.clientId, event);
      else {
        if (event.type === 'leave') room.cursors.delete(event.clientId);
        room.pending.push(event);
      }
    }
    if (room.timer === null) {
      room.early = false;
      const now = performance.now();
      const tickMs = this.pace.current();
      // Ticks keep their cadence: the next is due a tick after the previous one was due, not a tick
      // after it ran, so a busy event loop that fires a tick late does not push every later frame
      // back. After a quiet spell (more than a tick overdue) the first event opens a full tick.
      const next = room.due + tickMs;
      room.due = next >= now ? next : now - next <= tickMs ? now : now + tickMs;
      room.timer = setTimeout(() => this.flush(room), room.due - now);
      this.scheduled.add(room);
    }
    // Committed ops have already waited for the disk: they go out at once (with whatever else is
    // pending) instead of waiting up to a tick more, at most once per tick so that a burst of commits
    // adds one frame, not many. The tick's timer stays as it was. On a microtask, so that what is
    // published in the same run (a commit's boards, another process's ops arriving with this
    // process's) shares the frame; not on the next turn (setImmediate), which under load waited for
    // the rest of the event loop's poll phase, hundreds of sockets' messages (p99 7-123 ms of an
    // op's time at N = 600 in the school benchmark, issue 19). Subscribers may get the op before its
    // author's push is answered: clients take a frame's op as the confirmation.
    if (!room.early && events.some(isOpEvent)) {
      room.early = true;
      queueMicrotask(() => this.send(room));
    }
  }

  async subscribe(boardId: string, subscriber: Subscriber): Promise<() => void> {
    return this.subscribeNow(boardId, subscriber);
  }

  /** `subscribe`, synchronously (RedisBoardHub builds on it). */
  subscribeNow(boardId: string, subscriber: Subscriber): () => void {
    const room = this.room(boardId);
    room.listeners.add(subscriber);
    return () => {
      room.listeners.delete(subscriber);
      this.dropIfIdle(boardId, room);
    };
  }

  revoke(boardId: string, userId: string | null): void {
    this.signal({ type: 'revoke', boardId, userId });
  }

  signal(signal: HubSignal): void {
    this.deliverSignal(signal);
  }

  onSignal(handler: (signal: HubSignal) => void): void {
    this.signalHandlers.push(handler);
  }

  /** Acts on a signal on this process: ends revoked subscriptions, then calls the handlers. */
  deliverSignal(signal: HubSignal): void {
    if (signal.type === 'revoke') {
      const room = this.rooms.get(signal.boardId);
      if (room) for (const subscriber of [...room.listeners]) if (signal.userId === null || subscriber.userId === signal.userId) subscriber.revoked();
    }
    for (const handler of this.signalHandlers) handler(signal);
  }

  /** Tells every subscriber on this process that events may have been lost. */
  resyncAll(): void {
    for (const room of this.rooms.values()) for (const subscriber of room.listeners) subscriber.resync();
  }

  async join(boardId: string, seq: number, entry: PresenceEntry): Promise<void> {
    this.joinLocal(boardId, entry);
    this.publish(boardId, seq, [{ type: 'join', client: entry }]);
  }

  async leave(boardId: string, seq: number, clientId: string): Promise<void> {
    if (this.leaveLocal(boardId, clientId)) this.publish(boardId, seq, [{ type: 'leave', clientId }]);
  }

  async presence(boardId: string): Promise<PresenceEntry[]> {
    return this.localPresence(boardId);
  }

  /** Presence entries of connections on this process. */
  localPresence(boardId: string): PresenceEntry[] {
    return [...(this.rooms.get(boardId)?.presence.values() ?? [])];
  }

  /** Boards with a room on this process. */
  boardIds(): string[] {
    return [...this.rooms.keys()];
  }

  joinLocal(boardId: string, entry: PresenceEntry): void {
    this.room(boardId).presence.set(entry.clientId, entry);
  }

  /** True when the connection was present here. */
  leaveLocal(boardId: string, clientId: string): boolean {
    const room = this.rooms.get(boardId);
    if (!room?.presence.delete(clientId)) return false;
    this.dropIfIdle(boardId, room);
    return true;
  }

  subscriberCount(boardId: string): number {
    return this.rooms.get(boardId)?.listeners.size ?? 0;
  }

  async close(): Promise<void> {
    this.pace.stop();
    for (const room of this.rooms.values()) if (room.timer) clearTimeout(room.timer);
    this.rooms.clear();
    this.scheduled.clear();
  }

  private room(boardId: string): Room {
    let room = this.rooms.get(boardId);
    if (!room) {
      room = { listeners: new Set(), presence: new Map(), seq: 0, pending: [], cursors: new Map(), timer: null, since: 0, due: -Infinity, early: false };
      this.rooms.set(boardId, room);
    }
    return room;
  }

  stats(): { boards: number; subscriptions: number } {
    let subscriptions = 0;
    for (const room of this.rooms.values()) subscriptions += room.listeners.size;
    return { boards: this.rooms.size, subscriptions };
  }

  /**
   * Under load the event loop reaches its timers only after a poll phase of hundreds of sockets'
   * messages, and every tick due meanwhile waited for it: 1.5 / 17.7 / 26.6 ms late at p50 / p90 /
   * p99 at N = 600 of the school benchmark (issue 19), on top of the tick itself. Called before each
   * WebSocket message (app.ts), this sends the due ticks' frames between messages instead.
   */
  flushOverdue(): void {
    if (this.scheduled.size === 0) return;
    const now = performance.now();
    for (const room of this.scheduled) {
      if (room.due > now) return;
      clearTimeout(room.timer!);
      this.flush(room);
    }
  }

  /** The tick: sends what is pending. */
  private flush(room: Room): void {
    room.timer = null;
    room.early = false;
    this.scheduled.delete(room);
    this.send(room);
  }

  /** Sends the pending events as one frame to every subscriber (nothing when none is pending). */
  private send(room: Room): void {
    if (room.pending.length === 0 && room.cursors.size === 0) return;
    const events = room.cursors.size ? [...room.pending, ...room.cursors.values()] : room.pending;
    room.pending = [];
    room.cursors = new Map();
    // Packed (committed strokes) and frozen once per tick: the WebSocket encoder then serializes it once.
    const frame = freezeFrame(toWireFrame({ seq: room.seq, events }));
    // Guests of a link with chat off get a second frame without chat, made once for all of them, and
    // only when the tick holds chat (undefined: not made yet; null: nothing left for them this tick).
    // A tick without chat (nearly all) goes to everyone as it is, without asking.
    if (!frame.events.some(isChatEvent)) {
      for (const subscriber of room.listeners) subscriber.frame(frame);
    } else {
      let chatless: WireFrame | null | undefined;
      for (const subscriber of room.listeners) {
        if (subscriber.withoutChat?.()) {
          if (chatless === undefined) chatless = withoutChat(frame);
          if (chatless) subscriber.frame(chatless);
        } else subscriber.frame(frame);
      }
    }
    this.onFlush(performance.now() - room.since, room.listeners.size);
  }

  private dropIfIdle(boardId: string, room: Room): void {
    if (room.listeners.size === 0 && room.presence.size === 0 && this.rooms.get(boardId) === room) {
      if (room.timer) clearTimeout(room.timer);
      this.scheduled.delete(room);
      this.rooms.delete(boardId);
    }
  }
}

const isOpEvent = (event: BoardEvent) => event.type === 'op';

/** Chat messages and typing signals: what a guest of a link with chat off never receives (issue 18). */
export function isChatEvent(event: { type: string }): boolean {
  return event.type === 'chat' || event.type === 'typing';
}

/** `frame` without chat (frozen like it), or null when nothing else is in it. */
function withoutChat(frame: WireFrame): WireFrame | null {
  const events = frame.events.filter((e) => !isChatEvent(e));
  return events.length ? freezeFrame({ seq: frame.seq, events }) : null;
}
