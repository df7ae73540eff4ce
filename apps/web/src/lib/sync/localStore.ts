import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { opSchema, userSchema, usernameSchema, type Element, type Op } from '@inkboard/protocol';
import type { BoardInfo, Me } from '../trpc.js';

/**
 * The browser's local copies of boards (IndexedDB, issue 17): for each board a person opened, its
 * last confirmed elements and seq, and the person's ops not yet confirmed by the server. Every key
 * starts with the user id, so another account signed in on the same browser never reads them.
 *
 * Elements are written by `BoardCopy` (one tab per board, the "writer") in the same transaction as
 * the seq they reflect, and an unsent op is deleted only once a stored copy at or above its seq
 * holds it: a reload at any moment finds every edit, either as an element or as an op to re-send.
 */

/** Bumped when what is stored changes shape (the upgrade keeps unsent ops; see `open`). */
const DB_VERSION = 4;
export const DB_NAME = 'inkboard';
/** Local copies kept per user; the least recently opened without unsent ops are dropped past it. */
export const MAX_LOCAL_BOARDS = 50;
/** Image files kept waiting for the connection, per user (all boards), and their bytes at most. */
export const MAX_QUEUED_IMAGES = 20;
export const MAX_QUEUED_IMAGE_BYTES = 64 * 1024 * 1024;

export interface CopyMeta {
  userId: string;
  boardId: string;
  /** What `board.byId` said last (title, role), for opening the board without the network. */
  info: BoardInfo | null;
  /** The seq the stored elements reflect; null until a confirmed state was written. */
  seq: number | null;
  /** When the board was last opened (ms since epoch): the least recent are dropped first. */
  openedAt: number;
}

export interface StoredOp {
  op: Op;
  /** The `BoardCopy` that sends it (one per open board per tab; see BoardCopy.ts). */
  owner: string;
  /** Creation order: ops are re-sent in the order they were made. */
  order: number;
}

/** An image file pasted or dropped while offline, waiting to be uploaded and placed (imageUpload.svelte.ts). */
export interface QueuedImage {
  /** The id its element will get (a placeholder shows it meanwhile). */
  id: string;
  /** The `ImageUploads` that uploads it (one per open board per tab; adopted like ops when it is gone). */
  owner: string;
  order: number;
  /** The files of one paste or drop end up selected together. */
  batch: string;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  file: Blob;
}

/** An element deleted since the snapshot was written (in the `elements` overlay). */
interface Gone {
  id: string;
  gone: true;
}

interface Schema extends DBSchema {
  boards: { key: [string, string]; value: CopyMeta };
  /**
   * Key [userId, boardId]: the confirmed elements as one JSON array, as of the last full write. One
   * string reads several times faster than 10,000 records (docs/benchmarks.md, "Offline").
   */
  snapshots: { key: [string, string]; value: string };
  /** Key [userId, boardId, elementId]: elements changed (or deleted) since the snapshot. */
  elements: { key: [string, string, string]; value: Element | Gone };
  /** Key [userId, boardId, opId]. */
  ops: { key: [string, string, string]; value: StoredOp };
  /** Key [userId, boardId]: the person's undo history of the board (storedHistory.ts), one JSON string. */
  history: { key: [string, string]; value: string };
  /** Key [userId, boardId, imageId]. */
  images: { key: [string, string, string]; value: QueuedImage };
}

export interface LocalCopy {
  meta: CopyMeta;
  elements: Element[];
  /** Records in the overlay of changes since the snapshot (the writer rewrites it whole when many). */
  overlay: number;
  ops: StoredOp[];
  /** The undo history as `serializeHistory` wrote it, if any. */
  history: string | null;
}

/** The confirmed state to store: a full rewrite, or the changes since the last write. */
export interface CopyWrite {
  seq: number;
  full: boolean;
  put: readonly Element[];
  remove: readonly string[];
}

/** An own op that left the pending list: confirmed at `seq`, or refused (seq 0: delete at once). */
export interface DoneOp {
  opId: string;
  seq: number;
}

export interface LocalBoard {
  boardId: string;
  info: BoardInfo;
  unsent: number;
}

/** Every key of one user (and board): arrays sort after strings, so [id, []] bounds all [id, ...]. */
const userRange = (userId: string) => IDBKeyRange.bound([userId], [userId, []]);
const boardRange = (userId: string, boardId: string) => IDBKeyRange.bound([userId, boardId], [userId, boardId, []]);

export class LocalStore {
  private constructor(private readonly db: IDBPDatabase<Schema>) {}

  /** Opens (or creates) the database; rejects where IndexedDB is unavailable (private modes of some browsers). */
  static async open(name = DB_NAME): Promise<LocalStore> {
    const db = await openDB<Schema>(name, DB_VERSION, {
      upgrade(db) {
        // Only adds what is missing: unsent ops survive every upgrade. (Version 1's elements, one
        // record each, are a valid overlay on no snapshot.)
        if (!db.objectStoreNames.contains('boards')) db.createObjectStore('boards', { keyPath: ['userId', 'boardId'] });
        if (!db.objectStoreNames.contains('snapshots')) db.createObjectStore('snapshots');
        if (!db.objectStoreNames.contains('elements')) db.createObjectStore('elements');
        if (!db.objectStoreNames.contains('ops')) db.createObjectStore('ops');
        if (!db.objectStoreNames.contains('history')) db.createObjectStore('history');
        if (!db.objectStoreNames.contains('images')) db.createObjectStore('images');
      },
      // Another tab opened a newer version: let it upgrade (this tab keeps working from memory).
      blocking() {
        db.close();
      },
    });
    return new LocalStore(db);
  }

  close(): void {
    this.db.close();
  }

  /** The board's local copy, or null when there is none. Ops are in the order they were made. */
  async load(userId: string, boardId: string): Promise<LocalCopy | null> {
    const tx = this.db.transaction(['boards', 'snapshots', 'elements', 'ops', 'history'], 'readonly');
    const [meta, snapshot, overlay, ops, stored] = await Promise.all([
      tx.objectStore('boards').get([userId, boardId]),
      tx.objectStore('snapshots').get([userId, boardId]),
      tx.objectStore('elements').getAll(boardRange(userId, boardId)),
      tx.objectStore('ops').getAll(boardRange(userId, boardId)),
      tx.objectStore('history').get([userId, boardId]),
    ]);
    await tx.done;
    if (!meta) return null;
    const history = typeof stored === 'string' ? stored : null;
    if (meta.seq === null) return { meta, elements: [], overlay: 0, ops: validOps(ops), history };
    const base: Element[] = snapshot ? JSON.parse(snapshot) : [];
    if (!overlay.length) return { meta, elements: base, overlay: 0, ops: validOps(ops), history };
    const byId = new Map(base.map((e) => [e.id, e]));
    for (const record of overlay) {
      if ('gone' in record) byId.delete(record.id);
      else byId.set(record.id, record);
    }
    return { meta, elements: [...byId.values()], overlay: overlay.length, ops: validOps(ops), history };
  }

  /** Keeps the person's undo history of the board (only while its copy exists, like every write). */
  async putHistory(userId: string, boardId: string, json: string): Promise<void> {
    const tx = this.db.transaction(['boards', 'history'], 'readwrite');
    if ((await tx.objectStore('boards').getKey([userId, boardId])) !== undefined) void tx.objectStore('history').put(json, [userId, boardId]);
    await tx.done;
  }

  async meta(userId: string, boardId: string): Promise<CopyMeta | undefined> {
    return this.db.get('boards', [userId, boardId]);
  }

  /** Marks the board opened now and keeps what `board.byId` said of it (null keeps the stored one). */
  async opened(userId: string, boardId: string, info: BoardInfo | null): Promise<void> {
    const tx = this.db.transaction('boards', 'readwrite');
    const store = tx.objectStore('boards');
    const meta = (await store.get([userId, boardId])) ?? { userId, boardId, info: null, seq: null, openedAt: 0 };
    await store.put({ ...meta, info: info ?? meta.info, openedAt: Date.now() });
    await tx.done;
  }

  /**
   * Keeps an own op until the server confirmed it (called before it is sent). Like every write of a
   * copy, only while the board's meta row exists: after a sign-out cleared the user's copies (or
   * `forget`), a tab still closing writes nothing back. Returns whether it was kept.
   */
  async putOp(userId: string, boardId: string, stored: StoredOp, ifAbsent = false): Promise<boolean> {
    const tx = this.db.transaction(['boards', 'ops'], 'readwrite');
    const key: [string, string, string] = [userId, boardId, stored.op.opId];
    let kept = (await tx.objectStore('boards').getKey([userId, boardId])) !== undefined;
    if (kept && ifAbsent) kept = (await tx.objectStore('ops').getKey(key)) === undefined;
    if (kept) void tx.objectStore('ops').put(stored, key);
    await tx.done;
    return kept;
  }

  /**
   * Writes the confirmed state (when `write` is given: only the board's writer does) and deletes
   * the done ops that the stored copy now holds (seq at or below the stored seq). Returns the ids
   * deleted; the others stay until a later write covers them. A write older than the stored seq is
   * skipped (the copy never goes back: another tab wrote a newer one), and says so by `written: false`.
   */
  async commit(userId: string, boardId: string, write: CopyWrite | null, done: readonly DoneOp[]): Promise<{ deleted: string[]; written: boolean }> {
    // Created at once (no await before it): transactions run in the order they were created.
    // Serialized before the transaction: it must not wait on anything but its own requests.
    const json = write?.full ? JSON.stringify(write.put) : null;
    const tx = this.db.transaction(['boards', 'snapshots', 'elements', 'ops'], 'readwrite');
    const boards = tx.objectStore('boards');
    const elements = tx.objectStore('elements');
    const ops = tx.objectStore('ops');
    const meta = await boards.get([userId, boardId]);
    if (!meta) {
      await tx.done;
      return { deleted: [], written: false };
    }
    let stored = meta.seq ?? 0;
    let written = false;
    if (write && write.seq >= stored) {
      if (json !== null) {
        void tx.objectStore('snapshots').put(json, [userId, boardId]);
        void elements.delete(boardRange(userId, boardId));
      } else {
        for (const id of write.remove) void elements.put({ id, gone: true }, [userId, boardId, id]);
        for (const element of write.put) void elements.put(element, [userId, boardId, element.id]);
      }
      stored = write.seq;
      written = true;
      void boards.put({ ...meta, seq: write.seq });
    }
    const deleted: string[] = [];
    for (const { opId, seq } of done) {
      if (seq > stored) continue;
      void ops.delete([userId, boardId, opId]);
      deleted.push(opId);
    }
    await tx.done;
    return { deleted, written };
  }

  /** Moves the ops of a closed tab's copy from `from` to `to`; returns the ops moved, in order. */
  async adopt(userId: string, boardId: string, from: string, to: string): Promise<StoredOp[]> {
    const tx = this.db.transaction('ops', 'readwrite');
    const moved: StoredOp[] = [];
    let cursor = await tx.store.openCursor(boardRange(userId, boardId));
    while (cursor) {
      if (cursor.value.owner === from) {
        const stored = { ...cursor.value, owner: to };
        await cursor.update(stored);
        moved.push(stored);
      }
      cursor = await cursor.continue();
    }
    await tx.done;
    return validOps(moved);
  }

  /** The owners of the board's unsent ops (each a `BoardCopy`, open or closed). */
  async owners(userId: string, boardId: string): Promise<Set<string>> {
    return new Set((await this.db.getAll('ops', boardRange(userId, boardId))).map((s) => s.owner));
  }

  /** Boards with a local copy that opens without the network (most recently opened first), with their unsent ops and queued images. */
  async boards(userId: string): Promise<LocalBoard[]> {
    const tx = this.db.transaction(['boards', 'ops', 'images'], 'readonly');
    const [metas, opKeys, imageKeys] = await Promise.all([
      tx.objectStore('boards').getAll(userRange(userId)),
      tx.objectStore('ops').getAllKeys(userRange(userId)),
      tx.objectStore('images').getAllKeys(userRange(userId)),
    ]);
    await tx.done;
    const unsent = new Map<string, number>();
    for (const [, boardId] of [...opKeys, ...imageKeys]) unsent.set(boardId, (unsent.get(boardId) ?? 0) + 1);
    return metas
      .filter((m): m is CopyMeta & { info: BoardInfo } => m.info !== null && m.seq !== null)
      .sort((a, b) => b.openedAt - a.openedAt)
      .map((m) => ({ boardId: m.boardId, info: m.info, unsent: unsent.get(m.boardId) ?? 0 }));
  }

  /**
   * Keeps an image file until it is uploaded and placed, within MAX_QUEUED_IMAGES and
   * MAX_QUEUED_IMAGE_BYTES for the user: 'full' past them, 'no-copy' when the board has no copy yet.
   */
  async putImage(userId: string, boardId: string, image: QueuedImage): Promise<'kept' | 'full' | 'no-copy'> {
    const tx = this.db.transaction(['boards', 'images'], 'readwrite');
    let result: 'kept' | 'full' | 'no-copy' = 'kept';
    if ((await tx.objectStore('boards').getKey([userId, boardId])) === undefined) result = 'no-copy';
    else {
      // Blobs read back are handles: their size is known without reading their bytes.
      const queued = await tx.objectStore('images').getAll(userRange(userId));
      const bytes = queued.reduce((sum, q) => sum + q.file.size, 0);
      if (queued.length + 1 > MAX_QUEUED_IMAGES || bytes + image.file.size > MAX_QUEUED_IMAGE_BYTES) result = 'full';
      else void tx.objectStore('images').put(image, [userId, boardId, image.id]);
    }
    await tx.done;
    return result;
  }

  /** The board's queued images, in the order they were added (records that are not one are left out). */
  async images(userId: string, boardId: string): Promise<QueuedImage[]> {
    return validImages(await this.db.getAll('images', boardRange(userId, boardId)));
  }

  /** Moves the queued images of a closed tab's uploads from `from` to `to`; returns them in order. */
  async adoptImages(userId: string, boardId: string, from: string, to: string): Promise<QueuedImage[]> {
    const tx = this.db.transaction('images', 'readwrite');
    const moved: QueuedImage[] = [];
    let cursor = await tx.store.openCursor(boardRange(userId, boardId));
    while (cursor) {
      if (cursor.value.owner === from) {
        const image = { ...cursor.value, owner: to };
        await cursor.update(image);
        moved.push(image);
      }
      cursor = await cursor.continue();
    }
    await tx.done;
    return validImages(moved);
  }

  async deleteImage(userId: string, boardId: string, id: string): Promise<void> {
    await this.db.delete('images', [userId, boardId, id]);
  }

  /** This user's boards holding unsent ops or queued images, with how many each (for the background send, UnsentSync). */
  async unsentBoards(userId: string): Promise<Map<string, number>> {
    const unsent = new Map<string, number>();
    const keys = [...(await this.db.getAllKeys('ops', userRange(userId))), ...(await this.db.getAllKeys('images', userRange(userId)))];
    for (const [, boardId] of keys) unsent.set(boardId, (unsent.get(boardId) ?? 0) + 1);
    return unsent;
  }

  /** Edits of this user (all boards) not yet confirmed by the server, queued images included. */
  async unsentCount(userId: string): Promise<number> {
    // Images waiting for the connection are edits too.
    return (await this.db.count('ops', userRange(userId))) + (await this.db.count('images', userRange(userId)));
  }

  /** Drops the copies of boards opened least recently, beyond `keep`, that hold no unsent op. */
  async evict(userId: string, keep = MAX_LOCAL_BOARDS): Promise<string[]> {
    const tx = this.db.transaction(['boards', 'snapshots', 'elements', 'ops', 'history', 'images'], 'readwrite');
    const metas = (await tx.objectStore('boards').getAll(userRange(userId))).sort((a, b) => b.openedAt - a.openedAt);
    const dropped: string[] = [];
    for (const meta of metas.slice(keep)) {
      if (await tx.objectStore('ops').count(boardRange(userId, meta.boardId))) continue;
      if (await tx.objectStore('images').count(boardRange(userId, meta.boardId))) continue;
      void tx.objectStore('elements').delete(boardRange(userId, meta.boardId));
      void tx.objectStore('snapshots').delete([userId, meta.boardId]);
      void tx.objectStore('history').delete([userId, meta.boardId]);
      void tx.objectStore('boards').delete([userId, meta.boardId]);
      dropped.push(meta.boardId);
    }
    await tx.done;
    return dropped;
  }

  /** Forgets one board (deleted, or access lost). */
  async forget(userId: string, boardId: string): Promise<void> {
    const tx = this.db.transaction(['boards', 'snapshots', 'elements', 'ops', 'history', 'images'], 'readwrite');
    void tx.objectStore('boards').delete([userId, boardId]);
    void tx.objectStore('history').delete([userId, boardId]);
    void tx.objectStore('images').delete(boardRange(userId, boardId));
    void tx.objectStore('snapshots').delete([userId, boardId]);
    void tx.objectStore('elements').delete(boardRange(userId, boardId));
    void tx.objectStore('ops').delete(boardRange(userId, boardId));
    await tx.done;
  }

  /** Deletes everything of one user (signing out). */
  async clearUser(userId: string): Promise<void> {
    const tx = this.db.transaction(['boards', 'snapshots', 'elements', 'ops', 'history', 'images'], 'readwrite');
    for (const name of ['boards', 'snapshots', 'elements', 'ops', 'history', 'images'] as const) void tx.objectStore(name).delete(userRange(userId));
    await tx.done;
    for (const key of journalKeys(`${JOURNAL}${userId}:`)) localStorage.removeItem(key);
  }
}

/** Ops read back are checked like any input (an older app version may have written them); the elements are trusted (see docs/architecture.md, "Offline"). */
function validOps(stored: StoredOp[]): StoredOp[] {
  return stored
    .filter((s) => opSchema.safeParse(s.op).success && typeof s.owner === 'string' && Number.isFinite(s.order))
    .sort((a, b) => a.order - b.order);
}

/** Queued images read back are checked like any input. */
function validImages(stored: QueuedImage[]): QueuedImage[] {
  const finite = (...n: unknown[]) => n.every((v) => typeof v === 'number' && Number.isFinite(v));
  return stored
    .filter((q) => q.file instanceof Blob && typeof q.id === 'string' && typeof q.owner === 'string' && typeof q.batch === 'string' && typeof q.name === 'string' && finite(q.order, q.x, q.y, q.width, q.height))
    .sort((a, b) => a.order - b.order);
}

/**
 * Ops whose IndexedDB write had not finished when the page went away (a reload or close right after
 * a stroke: the browser aborts a transaction still running at unload). `pagehide` saves them here,
 * synchronously; the next open of the board moves them into the store.
 */
const JOURNAL = 'inkboard:unsaved:';

function journalKeys(prefix: string): string[] {
  try {
    const keys: string[] = [];
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (key?.startsWith(prefix)) keys.push(key);
    }
    return keys;
  } catch {
    return [];
  }
}

/** Saves ops not yet in the store (at `pagehide`); an empty list removes the entry. */
export function journalOps(userId: string, boardId: string, owner: string, ops: readonly StoredOp[]): void {
  const key = `${JOURNAL}${userId}:${boardId}:${owner}`;
  try {
    if (ops.length) localStorage.setItem(key, JSON.stringify(ops));
    else localStorage.removeItem(key);
  } catch {
    // Storage full or disabled: those ops are lost only if the page is really going away.
  }
}

/** The boards with ops saved at `pagehide` (for the background send, which takes them like an opening board). */
export function journaledBoards(userId: string): string[] {
  const prefix = `${JOURNAL}${userId}:`;
  return [...new Set(journalKeys(prefix).map((key) => key.slice(prefix.length, key.lastIndexOf(':'))))];
}

/** Takes (and removes) the saved ops of a board, checked like any input. */
export function takeJournal(userId: string, boardId: string): StoredOp[] {
  const taken: StoredOp[] = [];
  for (const key of journalKeys(`${JOURNAL}${userId}:${boardId}:`)) {
    try {
      const value: unknown = JSON.parse(localStorage.getItem(key) ?? '[]');
      const owner = key.slice(key.lastIndexOf(':') + 1);
      if (Array.isArray(value)) {
        for (const item of value) {
          const op = opSchema.safeParse(item?.op);
          const order = Number(item?.order);
          if (op.success && Number.isFinite(order)) taken.push({ op: op.data, owner, order });
        }
      }
    } catch {
      // Unreadable: dropped.
    }
    localStorage.removeItem(key);
  }
  return taken;
}

/** Who was signed in last on this browser, so that the app opens without the network. */
const LAST_USER_KEY = 'inkboard:user';

export function rememberUser(user: Me | null): void {
  try {
    if (user) localStorage.setItem(LAST_USER_KEY, JSON.stringify(user));
    else localStorage.removeItem(LAST_USER_KEY);
  } catch {
    // Storage disabled: the app needs the network to open, as before.
  }
}

const rememberedSchema = userSchema.extend({ username: usernameSchema });

/** The user remembered by `rememberUser`, if it still parses as one. */
export function rememberedUser(): Me | null {
  try {
    const raw = localStorage.getItem(LAST_USER_KEY);
    const parsed = raw ? rememberedSchema.safeParse(JSON.parse(raw)) : null;
    return parsed?.success ? parsed.data : null;
  } catch {
    return null; // unreadable: as if nobody was remembered
  }
}
