import { BoardSession, type InkboardClient, type SessionStatus } from '@inkboard/client';
import {
  MAX_COORD,
  MAX_VIEW_SIZE,
  addPending,
  emptyHistory,
  newId,
  record,
  sortElements,
  visibleElements,
  HISTORY_LIMIT,
  zAbove,
  type BoardEvent,
  type ClientBoard,
  type Elements,
  type History,
  type Op,
  type PresenceEntry,
  type User,
  type ViewEvent,
  type ViewInput,
} from '@inkboard/protocol';
import { errorCode, errorMessage } from '../trpc.js';
import { PreviewSender, Throttle } from './PreviewSender.js';
import { LaserTrails } from './LaserTrails.js';
import { applyPreview, dropClientPreviews, prunePreviews, type RemotePreview } from './remotePreviews.js';
import { groupedStep, markGroup, type UndoGroups } from '../versions/undoGroups.js';
import { BoardCopy } from './BoardCopy.js';
import { TabShare } from './TabShare.js';
import { parseHistory, serializeHistory, type EntryJson } from './storedHistory.js';

export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface RemoteCursor {
  clientId: string;
  user: User;
  x: number;
  y: number;
}

/** Cursor updates per second sent at most. */
const CURSOR_HZ = 30;
/** Views (for followers) sent per second at most. */
const VIEW_HZ = 10;

const clampCoord = (n: number) => Math.round(Math.max(-MAX_COORD, Math.min(MAX_COORD, n)) * 10) / 10;

/**
 * One open board, live: wraps the client's BoardSession (resume, optimistic ops, re-sends) and turns
 * what it receives into Svelte state: the element map, presence, others' cursors and previews, and
 * the person's own undo history (protocol `history.ts`: own changes only).
 */
export class BoardSync {
  sessionStatus = $state<SessionStatus>('connecting');
  online = $state(navigator.onLine);
  status = $derived<ConnectionStatus>(
    !this.online || this.sessionStatus === 'closed' ? 'offline' : this.sessionStatus === 'reconnecting' ? 'reconnecting' : this.sessionStatus,
  );
  /** The first snapshot arrived. */
  loaded = $state(false);
  elements = $state.raw<Elements>(new Map());
  /** Elements in paint order. */
  sorted = $derived(sortElements(this.elements.values()));
  /** Own edits not yet confirmed by the server (made offline, or in flight). */
  pendingCount = $state(0);
  presence = $state.raw<ReadonlyMap<string, PresenceEntry>>(new Map());
  cursors = $state.raw<ReadonlyMap<string, RemoteCursor>>(new Map());
  previews = $state.raw<ReadonlyMap<string, RemotePreview>>(new Map());
  history = $state.raw<History>(emptyHistory);
  /** What each other connection's screen shows, as last announced (for following them); the latest announced last. */
  views = $state.raw<ReadonlyMap<string, ViewEvent>>(new Map());
  /** Laser pointer trails on screen, the own one included (never stored). */
  readonly lasers = new LaserTrails();
  /** The Laser tool is drawing: cursor moves carry the laser flag. */
  laserDown = false;
  /** Set when the board can no longer be followed (access removed, signed out). */
  fatal = $state<string | null>(null);

  readonly preview: PreviewSender;
  private readonly session: BoardSession;
  private readonly cursor: Throttle<[number, number, boolean]>;
  private readonly view: Throttle<Omit<ViewInput, 'boardId'>>;
  private readonly listeners = new Set<(event: BoardEvent) => void>();
  /** Undo entries made by one action of several ops (versions/undoGroups.ts). */
  private readonly undoGroups: UndoGroups = new WeakMap();
  /** The undo entries' JSON as last stored (storedHistory.ts). */
  private readonly historyJson: EntryJson = new WeakMap();
  private lastBoard: ClientBoard | null = null;
  private lastShared: readonly Op[] | null = null;
  private pruneTimer: ReturnType<typeof setInterval> | null = null;
  private cleanups: (() => void)[] = [];
  /** The board's local copy in IndexedDB (issue 17): restored before subscribing, kept as ops are made. */
  private readonly copy: BoardCopy;
  /** The same person's unsent edits in other tabs on this board: shown here, sent by their tab. */
  private readonly share: TabShare;
  /** The local copy was read and the subscription started (until then, own ops only queue). */
  private started = false;
  private disposed = false;

  constructor(
    readonly client: InkboardClient,
    readonly boardId: string,
    private readonly me: () => User,
    private readonly notify: (text: string, kind?: 'info' | 'error') => void,
  ) {
    this.session = new BoardSession(client, boardId, {
      change: () => this.refresh(),
      event: (event) => this.receive(event),
      error: (error, op) => this.fail(error, op),
    });
    this.copy = new BoardCopy(me().id, boardId, () => this.session.board, {
      // Unsent edits of a tab closed meanwhile: this tab sends them now.
      adopted: (ops) => {
        this.share.drop(ops.map((op) => op.opId));
        ops.forEach((op) => this.apply(op, false));
      },
      left: (opIds) => this.share.left(opIds),
      history: () => serializeHistory(this.history, this.undoGroups, undefined, undefined, this.historyJson),
    });
    this.share = new TabShare(me().id, boardId, this.copy.owner, {
      changed: () => this.refresh(),
      mine: () => this.session.board.pending,
      // Its locks are let go once its last write is done: adopt its ops then (else within 15 s).
      closed: () => setTimeout(() => void this.copy.adoptLater(), 500),
    });
    this.preview = new PreviewSender((message) => {
      if (this.sessionStatus === 'live') client.lane.preview({ boardId, ...message });
    });
    this.cursor = new Throttle(1000 / CURSOR_HZ, ([x, y, laser]) => {
      if (this.sessionStatus === 'live') client.lane.cursor(boardId, clampCoord(x), clampCoord(y), laser);
    });
    this.view = new Throttle(1000 / VIEW_HZ, (view) => {
      if (this.sessionStatus === 'live') client.lane.view({ boardId, ...view });
    });
  }

  /** The signed-in person's id (their local copy's key). */
  get userId(): string {
    return this.me().id;
  }

  /** Subscribes; returns the cleanup that closes the session and its socket. */
  start(): () => void {
    void this.resume();
    const offline = () => {
      this.online = false;
      // The socket may linger half-open; drop it so edits queue and are re-sent on reconnect.
      this.client.ws.connection?.ws.close();
    };
    const online = () => (this.online = true);
    addEventListener('offline', offline);
    addEventListener('online', online);
    this.pruneTimer = setInterval(() => this.prune(), 1_000);
    this.cleanups.push(() => {
      removeEventListener('offline', offline);
      removeEventListener('online', online);
    });
    // A refused cursor or preview is only lost motion; a refused edit says so through the session.
    this.cleanups.push(this.client.lane.onError((refusal) => console.warn(`Inkboard: ${refusal.path ?? 'lane'} refused (${refusal.code}): ${refusal.message}`)));
    return () => this.dispose();
  }

  dispose(): void {
    this.disposed = true;
    this.copy.dispose();
    this.share.dispose();
    for (const c of this.cleanups.splice(0)) c();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.preview.dispose();
    this.cursor.dispose();
    this.view.dispose();
    this.session.close();
    void this.client.close();
  }

  /** Hears every board event (chat uses it); returns the unsubscribe. */
  onEvent(listener: (event: BoardEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A z above everything on the board. */
  nextZ(): string {
    return zAbove(this.sorted.at(-1)?.z ?? null);
  }

  /** Applies an own op at once, records it for undo, and sends it (re-sent after a drop). */
  commit(op: Op): void {
    this.history = record(this.history, this.session.elements, op, newId());
    this.copy.historyChanged();
    this.apply(op);
  }

  /** Commits several own ops (a restore of a version) as one undo step. */
  commitAll(ops: readonly Op[]): void {
    const before = this.history;
    for (const op of ops) this.commit(op);
    markGroup(before, this.history, this.undoGroups);
    this.copy.historyChanged();
  }

  undo(): void {
    const step = groupedStep(this.history, this.session.elements, newId, 'undo', this.undoGroups);
    this.history = step.history;
    this.copy.historyChanged();
    for (const op of step.ops) this.apply(op);
  }

  redo(): void {
    const step = groupedStep(this.history, this.session.elements, newId, 'redo', this.undoGroups);
    this.history = step.history;
    this.copy.historyChanged();
    for (const op of step.ops) this.apply(op);
  }

  /** Where this person's pointer is, in world coordinates (throttled). */
  moveCursor(x: number, y: number): void {
    this.cursor.push([x, y, this.laserDown]);
  }

  /** Announces the world rectangle this screen shows, for followers (throttled; sent only while others are here). */
  announceView(x: number, y: number, w: number, h: number): void {
    if (![...this.presence.values()].some((e) => !this.isSelf(e.clientId, e.user.id))) return;
    const round = (n: number) => Math.round(n * 10) / 10;
    this.view.push({ x: clampCoord(x), y: clampCoord(y), w: Math.min(MAX_VIEW_SIZE, Math.max(0.1, round(w))), h: Math.min(MAX_VIEW_SIZE, Math.max(0.1, round(h))) });
  }

  /** Reconnects, e.g. so that others see a changed name or colour. */
  reconnect(): void {
    this.client.ws.connection?.ws.close();
  }

  /** Shows the local copy at once (own unsent edits on top), then subscribes from its seq: only what it lacks comes. */
  private async resume(): Promise<void> {
    const local = await this.copy.open();
    if (this.disposed) return;
    performance.mark('inkboard:local-copy', { detail: { elements: local?.confirmed.size ?? 0, unsent: local?.ops.length ?? 0 } });
    if (local) {
      this.share.add(local.others);
      if (local.history) {
        // Undo reaches what was done before the reload (own entries made since come after them).
        const stored = parseHistory(local.history, this.undoGroups);
        const now = this.history;
        this.history = { undo: [...stored.undo, ...now.undo].slice(-HISTORY_LIMIT), redo: now.undo.length ? now.redo : stored.redo };
        if (now.undo.length) this.copy.historyChanged();
      }
      const made = this.session.board.pending; // drawn while the copy was read
      this.session.board = { seq: local.seq, confirmed: local.confirmed, pending: [...local.ops, ...made] };
      this.refresh();
      if (local.seq > 0) {
        this.loaded = true;
        const shown = { type: 'snapshot' as const, seq: local.seq, elements: [...local.confirmed.values()] };
        for (const listener of this.listeners) listener(shown);
      }
    }
    this.started = true;
    this.session.start(this.session.board.seq || undefined);
  }

  /** Sends an op (kept in the local copy first, unless it is there already). */
  private apply(op: Op, keep = true): void {
    if (keep) {
      this.copy.record(op);
      this.share.made([op]);
    }
    if (!this.started) {
      this.session.board = addPending(this.session.board, op);
      this.refresh();
      return;
    }
    this.session.apply(op).catch(() => {}); // refusals arrive through the listener's `error`
  }

  private refresh(): void {
    this.sessionStatus = this.session.status;
    const board = this.session.board;
    const shared = this.share.ops;
    if (board === this.lastBoard && shared === this.lastShared) return;
    const changed = board !== this.lastBoard;
    this.lastBoard = board;
    this.lastShared = shared;
    const own = this.session.elements;
    this.elements = shared.length ? visibleElements({ seq: board.seq, confirmed: own, pending: shared }) : own;
    this.pendingCount = board.pending.length;
    if (changed) this.copy.changed();
  }

  private receive(event: BoardEvent): void {
    switch (event.type) {
      case 'snapshot':
        this.loaded = true;
        break;
      case 'presence':
        this.presence = new Map(event.clients.map((c) => [c.clientId, c]));
        // After a reconnect: forget cursors of connections that are gone.
        if ([...this.cursors.keys()].some((id) => !this.presence.has(id))) {
          this.cursors = new Map([...this.cursors].filter(([id]) => this.presence.has(id)));
        }
        if ([...this.views.keys()].some((id) => !this.presence.has(id))) {
          this.views = new Map([...this.views].filter(([id]) => this.presence.has(id)));
        }
        break;
      case 'join': {
        const { user } = event.client;
        if (user.id !== this.me().id && !this.hasUser(user.id)) this.notify(`${user.name} joined`);
        this.presence = new Map(this.presence).set(event.client.clientId, event.client);
        break;
      }
      case 'leave': {
        const entry = this.presence.get(event.clientId);
        const next = new Map(this.presence);
        next.delete(event.clientId);
        this.presence = next;
        if (entry && entry.user.id !== this.me().id && !this.hasUser(entry.user.id)) this.notify(`${entry.user.name} left`);
        if (this.cursors.has(event.clientId)) {
          const cursors = new Map(this.cursors);
          cursors.delete(event.clientId);
          this.cursors = cursors;
        }
        this.previews = dropClientPreviews(this.previews, event.clientId);
        this.lasers.drop(event.clientId);
        if (this.views.has(event.clientId)) {
          const views = new Map(this.views);
          views.delete(event.clientId);
          this.views = views;
        }
        break;
      }
      case 'cursor': {
        const entry = this.presence.get(event.clientId);
        if (!entry || this.isSelf(event.clientId, entry.user.id)) break;
        this.cursors = new Map(this.cursors).set(event.clientId, { clientId: event.clientId, user: entry.user, x: event.x, y: event.y });
        if (event.laser) this.lasers.add(event.clientId, event.x, event.y, performance.now());
        else this.lasers.lift(event.clientId);
        break;
      }
      case 'preview': {
        const entry = this.presence.get(event.clientId);
        if (entry && this.isSelf(event.clientId, entry.user.id)) break;
        this.previews = applyPreview(this.previews, event, this.session.elements, performance.now());
        break;
      }
      case 'view': {
        const entry = this.presence.get(event.clientId);
        if (!entry || this.isSelf(event.clientId, entry.user.id)) break;
        const views = new Map(this.views);
        views.delete(event.clientId);
        this.views = views.set(event.clientId, event);
        break;
      }
      case 'op':
        this.loaded = true;
        this.share.drop([event.op.opId]);
        break;
      case 'chat':
      case 'typing':
      case 'renamed': // the board view and the share dialog listen for these
      case 'members':
        break;
      default: {
        const never: never = event;
        return never;
      }
    }
    for (const listener of this.listeners) listener(event);
    if (event.type === 'op') this.prune();
  }

  /** This very connection (the same person's other tabs show their cursors like anyone's). */
  private isSelf(clientId: string, userId: string): boolean {
    return this.session.clientId ? clientId === this.session.clientId : userId === this.me().id;
  }

  private hasUser(userId: string): boolean {
    for (const entry of this.presence.values()) if (entry.user.id === userId) return true;
    return false;
  }

  private prune(): void {
    this.previews = prunePreviews(this.previews, this.session.elements, performance.now());
  }

  private fail(error: Error, op?: Op): void {
    if (op) {
      this.notify(`An edit was not saved: ${errorMessage(error)}`, 'error');
      return;
    }
    const code = errorCode(error);
    // No access any more: what is kept of the board (unsent edits too) can never be sent.
    if (code === 'FORBIDDEN' || code === 'NOT_FOUND') void this.copy.forget();
    this.fatal =
      code === 'FORBIDDEN' || code === 'NOT_FOUND'
        ? 'You no longer have access to this board.'
        : code === 'UNAUTHORIZED'
          ? 'You were signed out.'
          : `The connection to this board failed: ${errorMessage(error)}`;
  }
}
