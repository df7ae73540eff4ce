import { newId, pushableRun, topZ, zAbove, type Op } from '@inkboard/protocol';
import { placedImage, uploadImage, UploadError } from '../board/imageFiles.js';
import { errorCode, errorMessage, type Api } from '../trpc.js';
import { LocalStore, journaledBoards, takeJournal, type DoneOp, type QueuedImage, type StoredOp } from './localStore.js';

/** How sending a board's queue ended: all sent, cut short (the rest next run), or stopped for good. */
type Outcome = 'sent' | 'cut' | 'forbidden' | 'signed-out';

/** Codes after which an op can never be accepted (as in the client's BoardSession). */
const REFUSED = new Set(['BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNPROCESSABLE_CONTENT']);

export interface UnsentSyncOptions {
  open?: () => Promise<LocalStore>;
  locks?: LockManager | null;
  /** How often boards with unsent ops are looked for while online (ms; 0: only on `online`). */
  everyMs?: number;
  notify?: (text: string, kind?: 'info' | 'error') => void;
  warn?: (message: string, error: unknown) => void;
}

/**
 * Sends the unsent ops of boards that no tab has open (issue 17), from any page, when the network
 * returns: a board's copy whose writer lock is free has no `BoardCopy` open on it. For each such
 * board it takes the writer lock, adopts the ops of closed copies under a new owner id (holding that
 * owner's lock, as `BoardCopy.adoptOrphans` does), pushes them with their op ids over HTTP (the server
 * acknowledges an op id seen before with its original seq: a re-send after a cut applies nothing),
 * then stores the board's snapshot at or after their seqs and deletes them in the same transaction,
 * so the copy still opens offline with every edit. Images pasted offline on such a board are uploaded
 * and placed the same way (adopted from their closed tab's `ImageUploads`). A run cut short leaves the
 * rest to the next one.
 */
export class UnsentSync {
  /** Bumped after each run: the board list reads its local copies (and their unsent counts) again. */
  runs = $state(0);
  private running: Promise<void> | null = null;
  private again = false;
  private readonly locks: LockManager | null;

  constructor(
    private readonly api: Api,
    private readonly userId: () => string | null,
    private readonly options: UnsentSyncOptions = {},
  ) {
    this.locks = options.locks === undefined ? (globalThis.navigator?.locks ?? null) : options.locks;
  }

  /** Runs now (when online), on every `online` event and every `everyMs`; returns the cleanup. */
  start(): () => void {
    const online = () => void this.run();
    addEventListener('online', online);
    const every = this.options.everyMs ?? 30_000;
    const timer = every > 0 ? setInterval(online, every) : null;
    void this.run();
    return () => {
      removeEventListener('online', online);
      if (timer) clearInterval(timer);
    };
  }

  /** One pass over the user's boards with unsent ops (a call during a pass runs another after it). */
  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.pass().finally(() => {
      this.running = null;
      this.runs++;
      if (this.again) {
        this.again = false;
        void this.run();
      }
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    const userId = this.userId();
    if (!userId || !this.locks) return; // without Web Locks an open tab cannot be told apart: its page sends
    let store: LocalStore;
    try {
      store = await (this.options.open ?? (() => LocalStore.open()))();
    } catch {
      return; // no IndexedDB: nothing kept, nothing to send
    }
    try {
      // Ops of pages that went away before writing them: into the store first, like an opening board does.
      for (const boardId of journaledBoards(userId)) {
        for (const saved of takeJournal(userId, boardId)) await store.putOp(userId, boardId, saved, true);
      }
      if (globalThis.navigator?.onLine === false) return;
      for (const boardId of (await store.unsentBoards(userId)).keys()) {
        if (this.userId() !== userId) return; // signed out meanwhile
        const go = await this.locks.request(`inkboard-writer:${userId}:${boardId}`, { ifAvailable: true }, (lock) =>
          lock ? this.sendBoard(store, userId, boardId) : true,
        );
        if (!go) break;
      }
    } catch (error) {
      this.warn('unsent edits could not be sent', error);
    } finally {
      store.close();
    }
  }

  /** Sends one board's orphaned ops and images; false when the whole pass should stop (signed out). */
  private async sendBoard(store: LocalStore, userId: string, boardId: string): Promise<boolean> {
    const locks = this.locks!;
    const owner = newId(16);
    // Holds the owner locks of both the ops and the images it adopts (as BoardCopy and ImageUploads do).
    const holding = <T>(kind: string, fn: () => Promise<T>) => locks.request(`inkboard-${kind}:${owner}`, fn);
    return holding('owner', () =>
      holding('images', async () => {
        const moved: StoredOp[] = [];
        for (const from of await store.owners(userId, boardId)) {
          const adopt = (held: Lock | null) => (held ? store.adopt(userId, boardId, from, owner) : []);
          moved.push(...(await locks.request(`inkboard-owner:${from}`, { ifAvailable: true }, adopt)));
        }
        const images: QueuedImage[] = [];
        for (const from of new Set((await store.images(userId, boardId)).map((q) => q.owner))) {
          const adopt = (held: Lock | null) => (held ? store.adoptImages(userId, boardId, from, owner) : []);
          images.push(...(await locks.request(`inkboard-images:${from}`, { ifAvailable: true }, adopt)));
        }
        const ops = moved.sort((a, b) => a.order - b.order).map((s) => s.op);
        if (!ops.length && !images.length) return true;
        const done: DoneOp[] = [];
        let outcome = await this.push(boardId, ops, done);
        if (outcome === 'sent' && images.length) outcome = await this.placeImages(store, userId, boardId, images, done);
        if (outcome === 'forbidden') {
          // No access any more: what is kept of the board can never be sent (as an open board does).
          await store.forget(userId, boardId);
          return true;
        }
        await this.settle(store, userId, boardId, done);
        return outcome !== 'signed-out';
      }),
    );
  }

  /** Pushes ops in order (within the per-push limits), adding each one done (acked or refused for good) to `done`. */
  private async push(boardId: string, ops: Op[], done: DoneOp[]): Promise<Outcome> {
    let singly = 0;
    while (ops.length) {
      const run = ops.slice(0, singly > 0 ? 1 : pushableRun(ops));
      try {
        const { acks } = await this.api.board.push.mutate({ boardId, ops: run });
        for (const ack of acks) done.push({ opId: ack.opId, seq: ack.seq });
        ops.splice(0, run.length);
        if (singly > 0) singly--;
      } catch (error) {
        const code = errorCode(error);
        if (code === 'FORBIDDEN' || code === 'NOT_FOUND') return 'forbidden';
        if (code === 'UNAUTHORIZED') return 'signed-out';
        if (code === 'BAD_REQUEST' && run.length > 1) {
          singly = run.length; // a push is all or nothing: find the op that does not fit
          continue;
        }
        if (code && REFUSED.has(code)) {
          this.options.notify?.(`An edit was not saved: ${errorMessage(error)}`, 'error');
          for (const op of run) done.push({ opId: op.opId, seq: 0 }); // never accepted: deleted at once
          ops.splice(0, run.length);
          if (singly > 0) singly--;
          continue;
        }
        return 'cut'; // cut, or too many requests: the rest stays for the next run (same op ids)
      }
    }
    return 'sent';
  }

  /**
   * Uploads the images pasted offline on the board and places each where its placeholder was, above
   * everything (imageUpload.svelte.ts does the same on an open board); one whose element is already
   * there (placed before its page went away) is only dropped from the device.
   */
  private async placeImages(store: LocalStore, userId: string, boardId: string, images: QueuedImage[], done: DoneOp[]): Promise<Outcome> {
    let snapshot;
    try {
      snapshot = await this.api.board.snapshot.query({ boardId });
    } catch (error) {
      const code = errorCode(error);
      return code === 'FORBIDDEN' || code === 'NOT_FOUND' ? 'forbidden' : code === 'UNAUTHORIZED' ? 'signed-out' : 'cut';
    }
    const present = new Set(snapshot.elements.map((e) => e.id));
    let z = topZ(snapshot.elements);
    for (const queued of images.sort((a, b) => a.order - b.order)) {
      if (!present.has(queued.id)) {
        let stored;
        try {
          stored = await uploadImage(boardId, queued.file);
        } catch (e) {
          const error = e instanceof UploadError ? e : new UploadError(e instanceof Error ? e.message : String(e), -1);
          if (error.status === 403 || error.status === 404) return 'forbidden';
          if (error.status === 401) return 'signed-out';
          if (error.transient || error.status < 0) return 'cut';
          this.options.notify?.(`“${queued.name}” was not added: ${error.message}`, 'error');
          await store.deleteImage(userId, boardId, queued.id);
          continue;
        }
        z = zAbove(z);
        const outcome = await this.push(boardId, [{ type: 'add', opId: newId(), elements: [placedImage(queued, queued.id, z, stored)] }], done);
        if (outcome !== 'sent') return outcome;
      }
      await store.deleteImage(userId, boardId, queued.id);
    }
    return 'sent';
  }

  /** Stores the board as of its acks (its snapshot) and deletes the done ops with it. */
  private async settle(store: LocalStore, userId: string, boardId: string, done: DoneOp[]): Promise<void> {
    if (!done.length) return;
    let write = null;
    if (done.some((d) => d.seq > 0)) {
      try {
        const snapshot = await this.api.board.snapshot.query({ boardId });
        const needed = Math.max(...done.map((d) => d.seq));
        if (snapshot.seq >= needed) write = { seq: snapshot.seq, full: true, put: snapshot.elements, remove: [] };
      } catch (error) {
        // Sent, but the copy is not updated: they stay and are sent again later (acknowledged, not applied).
        this.warn('the local copy could not be brought up to date', error);
      }
    }
    await store.commit(userId, boardId, write, done);
  }

  private warn(message: string, error: unknown): void {
    (this.options.warn ?? ((m, e) => console.warn(`Inkboard: ${m}`, e)))(message, error);
  }
}
