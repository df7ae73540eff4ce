import { newId, type ClientBoard, type Element, type Op } from '@inkboard/protocol';
import { LocalStore, journalOps, takeJournal, type CopyWrite, type DoneOp, type StoredOp } from './localStore.js';

/**
 * One open board's local copy (issue 17): restores it when the board opens, keeps each own op in
 * IndexedDB from the moment it is made until a stored copy holds it, and writes the confirmed state
 * as it changes.
 *
 * Several tabs of one person may have the same board open. Each `BoardCopy` owns the ops it made
 * and is the only one to send them (the session's queue), so two tabs never send the same op; it
 * holds the Web Lock `inkboard-owner:<id>` while it lives. The ops of a copy whose lock is free
 * (its tab was closed or reloaded, or crashed) are adopted by the next copy of the board that
 * takes that lock, and sent by it. One tab per board, holding `inkboard-writer:<user>:<board>`,
 * writes the confirmed elements; the others only delete their own ops once a stored copy holds them.
 */

export interface Restored {
  seq: number;
  confirmed: Map<string, Element>;
  /** Unsent ops of this board taken over from closed tabs, in the order they were made. */
  ops: Op[];
  /** Unsent ops of this board's copies in other open tabs (shown, sent by them; TabShare.ts). */
  others: Op[];
  /** The person's undo history as stored (storedHistory.ts), if any. */
  history: string | null;
}

export interface BoardCopyOptions {
  /** Opens the database; a failure (no IndexedDB) leaves the board working from memory as before. */
  open?: () => Promise<LocalStore>;
  /** Web Locks; without them (old browsers) every other owner counts as closed. */
  locks?: LockManager | null;
  /** Unsent ops taken over while the board is open (a tab on it was closed meanwhile). */
  adopted?: (ops: Op[]) => void;
  /** Own ops that left the session's pending list (confirmed or refused). */
  left?: (opIds: string[]) => void;
  /** The person's undo history to store, serialized (see `historyChanged`). */
  history?: () => string;
  /** How long changes gather before they are written (ms). */
  flushMs?: number;
  /** How often closed tabs' ops are looked for while the board is open (ms; 0: never). */
  adoptEveryMs?: number;
  warn?: (message: string, error: unknown) => void;
}

/** How long undo history changes gather before they are stored (ms). */
const HISTORY_MS = 200;

/** Overlay records after which the writer rewrites the whole copy (at least; a quarter of the board for big boards). */
const OVERLAY_MAX = 1_000;

/** Changes between the stored copy (`baseline`, null: unknown) and the confirmed state: element objects are immutable, so identity tells. */
export function diffCopy(baseline: ReadonlyMap<string, Element> | null, confirmed: ReadonlyMap<string, Element>, seq: number): CopyWrite {
  if (!baseline) return { seq, full: true, put: [...confirmed.values()], remove: [] };
  const put: Element[] = [];
  const remove: string[] = [];
  for (const [id, element] of confirmed) if (baseline.get(id) !== element) put.push(element);
  for (const id of baseline.keys()) if (!confirmed.has(id)) remove.push(id);
  return { seq, full: false, put, remove };
}

export class BoardCopy {
  /** This copy's id: the owner of the ops it makes. */
  readonly owner = newId(16);
  private store: LocalStore | null = null;
  private readonly locks: LockManager | null;
  private writer = false;
  /** The confirmed state as stored (when writer), or null when not known (a full write comes next). */
  private baseline: ReadonlyMap<string, Element> | null = null;
  private baselineSeq = -1;
  /** Records in the store's overlay of changes since its snapshot (written whole again past OVERLAY_MAX). */
  private overlay = 0;
  /** Own ops in the store (made here or adopted), by op id. */
  private readonly persisted = new Set<string>();
  /** Own ops last seen in the session's pending list. */
  private readonly seen = new Set<string>();
  /** Own ops that left the pending list, waiting for a stored copy at or above their seq. */
  private readonly done = new Map<string, number>();
  /** Ops made before the store was open, written once it is. */
  private early: StoredOp[] = [];
  /** Own ops whose write to the store has not finished (saved to localStorage if the page goes away). */
  private readonly writing = new Map<string, StoredOp>();
  private journaled = false;
  private lastPending: readonly Op[] | null = null;
  private lastOrder = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private adoptTimer: ReturnType<typeof setInterval> | null = null;
  private flushing = false;
  private dirty = false;
  /** Disposed (or forgotten): only the last flush still writes. */
  private stopped = false;
  private readonly releases: (() => void)[] = [];
  private readonly writerWait = new AbortController();
  private readonly flushMs: number;
  private historyDirty = false;
  private historyTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly userId: string,
    readonly boardId: string,
    /** The session's board (confirmed state and this tab's pending ops). */
    private readonly board: () => ClientBoard,
    private readonly options: BoardCopyOptions = {},
  ) {
    this.locks = options.locks === undefined ? (globalThis.navigator?.locks ?? null) : options.locks;
    this.flushMs = options.flushMs ?? 300;
    if (typeof addEventListener === 'function') addEventListener('pagehide', this.onHide);
  }

  /** Opens the store, takes this copy's locks and returns the stored copy (null: none, or no storage). */
  async open(): Promise<Restored | null> {
    if (!this.userId) return null;
    try {
      const store = await (this.options.open ?? (() => LocalStore.open()))();
      const gone = () => {
        store.close();
        return null;
      };
      if (this.stopped) return gone();
      if (!this.keep(await this.hold(`inkboard-owner:${this.owner}`))) return gone();
      const writerLock = `inkboard-writer:${this.userId}:${this.boardId}`;
      const writer = await this.holdIfFree(writerLock);
      if (writer) {
        if (!this.keep(writer)) return gone();
        this.writer = true;
      } else this.waitToWrite(writerLock);
      await store.opened(this.userId, this.boardId, null);
      // Only now: a write finds the board's row (ops made until here wait in `early`).
      this.store = store;
      // Ops of a page that went away before writing them: into the store, adopted below like any.
      for (const saved of takeJournal(this.userId, this.boardId)) await store.putOp(this.userId, this.boardId, saved, true);
      const copy = await store.load(this.userId, this.boardId);
      void store.evict(this.userId).catch((e: unknown) => this.warn('old local copies could not be dropped', e));
      for (const early of this.early.splice(0)) this.write(early);
      if (this.stopped) return null;
      this.listen();
      if (!copy) return null;
      const confirmed = new Map(copy.elements.map((e) => [e.id, e]));
      if (this.writer && copy.meta.seq !== null) {
        this.baseline = confirmed;
        this.baselineSeq = copy.meta.seq;
        this.overlay = copy.overlay;
      }
      const ops = await this.adoptOrphans(copy.ops.map((s) => s.owner));
      const adopted = new Set(ops.map((op) => op.opId));
      const others = copy.ops.filter((s) => s.owner !== this.owner && !adopted.has(s.op.opId)).map((s) => s.op);
      return copy.meta.seq === null && !ops.length && !others.length ? null : { seq: copy.meta.seq ?? 0, confirmed, ops, others, history: copy.history };
    } catch (error) {
      this.warn('the local copy cannot be opened; this board works from memory only', error);
      return null;
    }
  }

  /** Keeps an own op (call before it is sent): the transaction is created before this returns. */
  record(op: Op): void {
    if (this.stopped || !this.userId) return;
    this.lastOrder = Math.max(Date.now(), this.lastOrder + 0.001);
    const stored: StoredOp = { op, owner: this.owner, order: this.lastOrder };
    this.persisted.add(op.opId);
    this.writing.set(op.opId, stored);
    if (!this.store) this.early.push(stored);
    else this.write(stored);
  }

  private write(stored: StoredOp): void {
    this.store
      ?.putOp(this.userId, this.boardId, stored)
      .catch((e: unknown) => this.warn('an edit could not be kept on this device', e))
      .finally(() => {
        this.writing.delete(stored.op.opId);
        if (this.journaled && !this.writing.size) {
          this.journaled = false;
          journalOps(this.userId, this.boardId, this.owner, []);
        }
      });
  }

  /** The person's undo history changed: stored soon (at once when the page is hidden or the board closed). */
  historyChanged(): void {
    if (this.stopped || !this.userId) return;
    this.historyDirty = true;
    this.historyTimer ??= setTimeout(() => void this.writeHistory(), HISTORY_MS);
  }

  private async writeHistory(): Promise<void> {
    if (this.historyTimer) clearTimeout(this.historyTimer);
    this.historyTimer = null;
    const store = this.store;
    if (!this.historyDirty || !store || !this.options.history) return;
    this.historyDirty = false;
    try {
      await store.putHistory(this.userId, this.boardId, this.options.history());
    } catch (error) {
      this.warn('the undo history could not be kept on this device', error);
    }
  }

  /** The session's board changed: write it soon. */
  changed(): void {
    if (this.stopped || !this.store) return;
    const { pending, seq } = this.board();
    if (pending !== this.lastPending) {
      // Own ops that left the pending list were confirmed (or refused) at or below the current seq.
      this.lastPending = pending;
      const ids = new Set<string>();
      for (const op of pending) {
        ids.add(op.opId);
        if (this.persisted.has(op.opId)) this.seen.add(op.opId);
      }
      const left: string[] = [];
      for (const id of this.seen) {
        if (ids.has(id)) continue;
        this.seen.delete(id);
        this.done.set(id, seq);
        left.push(id);
      }
      if (left.length) this.options.left?.(left);
    }
    this.schedule(this.flushMs);
  }

  /** Writes what changed now (and again when more changed meanwhile). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const store = this.store;
    if (!store) return;
    if (this.flushing) {
      this.dirty = true;
      return;
    }
    const board = this.board();
    let write = this.writer && (board.confirmed !== this.baseline || board.seq !== this.baselineSeq) ? diffCopy(this.baseline, board.confirmed, board.seq) : null;
    if (write && !write.full && this.overlay + write.put.length + write.remove.length > Math.max(OVERLAY_MAX, board.confirmed.size / 4)) write = diffCopy(null, board.confirmed, board.seq);
    const done: DoneOp[] = [...this.done].map(([opId, seq]) => ({ opId, seq }));
    if (!write && !done.length) return;
    this.flushing = true;
    try {
      const result = await store.commit(this.userId, this.boardId, write, done);
      if (write && result.written) {
        this.baseline = board.confirmed;
        this.baselineSeq = board.seq;
        this.overlay = write.full ? 0 : this.overlay + write.put.length + write.remove.length;
      } else if (write) this.baseline = null;
      for (const id of result.deleted) {
        this.done.delete(id);
        this.persisted.delete(id);
      }
    } catch (error) {
      this.warn('the local copy could not be written', error);
    } finally {
      this.flushing = false;
    }
    if (this.dirty) {
      this.dirty = false;
      await this.flush();
    } else if (this.done.size && !this.stopped) this.schedule(2_000); // the writer has not stored their seq yet
  }

  /** Takes over the unsent ops of this board's closed copies; returns them in order. */
  async adoptOrphans(known?: Iterable<string>): Promise<Op[]> {
    const store = this.store;
    if (!store || this.stopped) return [];
    const owners = new Set(known ?? (await store.owners(this.userId, this.boardId)));
    owners.delete(this.owner);
    const moved: StoredOp[] = [];
    for (const owner of owners) {
      // Holding the closed copy's lock while moving its ops: two tabs cannot both take them.
      const lock = `inkboard-owner:${owner}`;
      const adopt = () => store.adopt(this.userId, this.boardId, owner, this.owner);
      const got = this.locks ? await this.locks.request(lock, { ifAvailable: true }, (held) => (held && !this.stopped ? adopt() : [])) : await adopt();
      moved.push(...got);
    }
    moved.sort((a, b) => a.order - b.order);
    for (const s of moved) {
      this.persisted.add(s.op.opId);
      this.lastOrder = Math.max(this.lastOrder, s.order);
    }
    return moved.map((s) => s.op);
  }

  /** Forgets this board's copy (access lost: its unsent ops can never be sent); later writes find no copy and do nothing. */
  async forget(): Promise<void> {
    await this.store?.forget(this.userId, this.boardId);
  }

  /** Writes what is left, then lets go of the locks (another tab may adopt what is still unsent). */
  dispose(): void {
    if (this.stopped) return;
    this.stop();
    const last = Promise.all([this.flush(), this.writeHistory()]);
    void last.finally(async () => {
      // A flush already running when disposed has written meanwhile; this one is the last.
      while (this.flushing) await new Promise((r) => setTimeout(r, 10));
      for (const release of this.releases.splice(0)) release();
      this.store?.close();
    });
  }

  private stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.adoptTimer) clearInterval(this.adoptTimer);
    if (this.historyTimer) clearTimeout(this.historyTimer);
    this.historyTimer = null;
    this.writerWait.abort();
    if (typeof removeEventListener === 'function') {
      removeEventListener('online', this.onOnline);
      removeEventListener('pagehide', this.onHide);
      removeEventListener('visibilitychange', this.onHide);
    }
  }

  /** Keeps a lock until dispose; false (and let go at once) when already disposed. */
  private keep(release: () => void): boolean {
    if (this.stopped) {
      release();
      return false;
    }
    this.releases.push(release);
    return true;
  }

  private schedule(ms: number): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => void this.flush(), ms);
  }

  private readonly onOnline = () => void this.adoptLater();
  private readonly onHide = (event: Event) => {
    if (event.type === 'pagehide' && this.writing.size) {
      journalOps(this.userId, this.boardId, this.owner, [...this.writing.values()]);
      this.journaled = true;
    }
    void this.flush();
    void this.writeHistory();
  };

  private listen(): void {
    if (typeof addEventListener === 'function') {
      addEventListener('online', this.onOnline);
      addEventListener('visibilitychange', this.onHide);
    }
    const every = this.options.adoptEveryMs ?? 15_000;
    if (every > 0) this.adoptTimer = setInterval(() => void this.adoptLater(), every);
  }

  /** Ops of a tab closed while this board is open: hand them to the session. */
  async adoptLater(): Promise<void> {
    try {
      const ops = await this.adoptOrphans();
      if (ops.length && !this.stopped) this.options.adopted?.(ops);
    } catch (error) {
      this.warn('unsent edits of a closed tab could not be taken over', error);
    }
  }

  /** Becomes the writer when the tab writing this board's copy closes. */
  private waitToWrite(name: string): void {
    if (!this.locks) return;
    this.locks
      .request(name, { signal: this.writerWait.signal }, () => {
        if (this.stopped) return;
        this.writer = true;
        this.baseline = null; // what the last writer stored is not known here: write it whole
        this.schedule(0);
        return new Promise<void>((release) => this.releases.push(release));
      })
      .catch(() => {}); // aborted by dispose
  }

  /** Takes a lock for as long as this copy lives; resolves with its release once granted. */
  private async hold(name: string): Promise<() => void> {
    if (!this.locks) return () => {};
    const locks = this.locks;
    return new Promise((granted) => {
      void locks.request(name, () => new Promise<void>((release) => granted(release)));
    });
  }

  private async holdIfFree(name: string): Promise<(() => void) | null> {
    if (!this.locks) return () => {};
    const locks = this.locks;
    return new Promise((answer) => {
      void locks.request(name, { ifAvailable: true }, (lock) => {
        if (!lock) return answer(null);
        return new Promise<void>((release) => answer(release));
      });
    });
  }

  private warn(message: string, error: unknown): void {
    (this.options.warn ?? ((m, e) => console.warn(`Inkboard: ${m}`, e)))(message, error);
  }
}
