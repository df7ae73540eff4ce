import { newId, referencedFileIds, type Element, type Op } from '@inkboard/protocol';
import { fetchBlob, fileUrl } from '../canvas/images.js';
import { layoutImages, looksLikeImage, pictureSize, placedImage, uploadImage, UploadError, type Placed } from './imageFiles.js';
import { LocalStore, MAX_QUEUED_IMAGE_BYTES, MAX_QUEUED_IMAGES, type QueuedImage } from '../sync/localStore.js';

/** What the uploads need from the editor. */
export interface UploadHost {
  readonly boardId: string;
  /** The signed-in person (files waiting for the connection are kept under their id; '' keeps none). */
  readonly userId: string;
  readonly canEdit: boolean;
  /** The live connection is up (uploads wait while it is not). */
  readonly connected: boolean;
  readonly zoom: number;
  /** The view in world units. */
  viewBox(): { x: number; y: number; width: number; height: number };
  nextZ(): string;
  commit(op: Op): void;
  /** An element with this id is on the board (an image placed before a reload is not placed again). */
  has(id: string): boolean;
  select(ids: Iterable<string>): void;
  notify(text: string, kind?: 'info' | 'error'): void;
}

/** An image on its way: shown as a placeholder with its progress until the server has stored it. */
export interface PendingImage extends Placed {
  /** The element's id once placed. */
  id: string;
  name: string;
  /** Bytes sent so far and in all. */
  loaded: number;
  total: number;
  state: 'waiting' | 'uploading';
}

/** Uploads refused as busy (429, 503) are tried again this many times. */
const MAX_ATTEMPTS = 4;

interface Job {
  file: Blob;
  batch: string;
  attempts: number;
  /** Kept in IndexedDB (until placed or refused). */
  kept: boolean;
}

/** What the uploads keep on the device; absent where there is no IndexedDB or Web Locks. */
export interface UploadQueueStore {
  open: () => Promise<LocalStore>;
  locks: LockManager | null;
}

/**
 * The board's image uploads: a placeholder at once where each image will be, uploads one at a time
 * over HTTP with progress, then one `add` op per stored image (so others see it as soon as it is
 * stored, and the uploader can undo it like any element). While the connection is down the files
 * wait and go when it is back; they are kept in IndexedDB (issue 17: MAX_QUEUED_IMAGES files and
 * MAX_QUEUED_IMAGE_BYTES per person, a toast when full: then the file waits in this tab only), so a
 * reload or a closed tab finds them again. Each tab's uploads own the files they keep (the Web Lock
 * `inkboard-images:<owner>` while they live); a tab opening the board adopts those of closed tabs. A
 * refusal (too large, not an image, quota, no longer an editor) is a toast with the server's message,
 * and the placeholder goes.
 */
export class ImageUploads {
  items = $state.raw<PendingImage[]>([]);
  private readonly jobs = new Map<string, Job>();
  private readonly placed = new Map<string, string[]>();
  private running = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly abort = new AbortController();
  /** This board's uploads in this tab: the owner of the files it keeps. */
  private readonly owner = newId(16);
  private store: LocalStore | null = null;
  /** Lets go of this tab's owner lock (the kept files may then be adopted). */
  private release: (() => void) | null = null;
  private readonly locks: LockManager | null;
  private order = 0;

  constructor(
    private readonly host: UploadHost,
    private readonly device: UploadQueueStore | null = { open: () => LocalStore.open(), locks: globalThis.navigator?.locks ?? null },
  ) {
    this.locks = device?.locks ?? null;
    void this.restore();
  }

  /** Whether uploads can go now (the live connection is up). */
  get connected(): boolean {
    return this.host.connected;
  }

  /**
   * Adds picture files centred at `at` (world; null: the middle of the view), side by side. Their
   * size is read in the browser for the placeholder; one the browser cannot decode still goes to the
   * server, which says why it refuses it.
   */
  async add(all: readonly File[], at: { x: number; y: number } | null): Promise<void> {
    if (!this.host.canEdit) return;
    const files = all.filter(looksLikeImage);
    const others = all.filter((f) => !looksLikeImage(f));
    if (others.length) this.host.notify(`${others.map((f) => `“${f.name}”`).join(', ')} ${others.length === 1 ? 'is not a picture' : 'are not pictures'}: Inkboard takes PNG, JPEG, WebP and GIF files.`, 'error');
    if (!files.length) return;
    const sizes = await Promise.all(files.map(async (f) => (await pictureSize(f)) ?? { width: 200, height: 150 }));
    const view = this.host.viewBox();
    const centre = at ?? { x: view.x + view.width / 2, y: view.y + view.height / 2 };
    const boxes = layoutImages(sizes, centre, view, this.host.zoom);
    const batch = newId();
    const fresh: PendingImage[] = files.map((file, i) => ({ ...boxes[i]!, id: newId(), name: file.name || 'image', loaded: 0, total: file.size, state: 'waiting' }));
    for (const [i, item] of fresh.entries()) this.jobs.set(item.id, { file: files[i]!, batch, attempts: 0, kept: false });
    this.items = [...this.items, ...fresh];
    if (!this.host.connected) await this.keepAll(fresh);
    this.resume();
  }

  /** Starts the queue (again): called when files are added and when the connection comes back. */
  resume(): void {
    if (this.running || !this.host.connected) return;
    void this.run();
  }

  /**
   * Pasted elements copied on another board (`source`): their images are read from that board and
   * uploaded to this one (identical bytes are stored once), and the copies refer to the files here.
   * Null (after a toast saying why) when a file could not be copied.
   */
  async copyImages(source: string, elements: readonly Element[]): Promise<Element[] | null> {
    const ids = referencedFileIds(elements);
    if (!ids.length || source === this.host.boardId) return [...elements];
    const stored = new Map<string, { fileId: string; width: number; height: number }>();
    try {
      for (const id of ids) stored.set(id, await uploadImage(this.host.boardId, await fetchBlob(fileUrl(source, id)), undefined, this.abort.signal));
    } catch (e) {
      this.host.notify(`The images could not be copied to this board: ${e instanceof Error ? e.message : String(e)}`, 'error');
      return null;
    }
    return elements.map((el) => {
      const file = el.type === 'image' ? stored.get(el.fileId) : undefined;
      return el.type === 'image' && file ? { ...el, fileId: file.fileId, naturalWidth: file.width, naturalHeight: file.height } : el;
    });
  }

  dispose(): void {
    this.abort.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.jobs.clear();
    this.items = [];
    // The kept files stay for the next open of the board (this tab's lock goes with the page or below).
    this.release?.();
    this.store?.close();
    this.store = null;
  }

  /** Opens the device's queue, takes this tab's owner lock and adopts the files of closed tabs. */
  private async restore(): Promise<void> {
    const { userId, boardId } = this.host;
    if (!this.device || !this.locks || !userId || !this.host.canEdit) return;
    try {
      const locks = this.locks;
      const store = await this.device.open();
      const released = await new Promise<() => void>((granted) => {
        void locks.request(`inkboard-images:${this.owner}`, () => new Promise<void>((release) => granted(release)));
      });
      if (this.abort.signal.aborted) {
        released();
        store.close();
        return;
      }
      this.store = store;
      this.release = released;
      const owners = new Set((await store.images(userId, boardId)).map((q) => q.owner));
      owners.delete(this.owner);
      const adopted: QueuedImage[] = [];
      for (const from of owners) {
        const take = (held: Lock | null) => (held ? store.adoptImages(userId, boardId, from, this.owner) : []);
        adopted.push(...(await locks.request(`inkboard-images:${from}`, { ifAvailable: true }, take)));
      }
      if (this.abort.signal.aborted || !adopted.length) return;
      adopted.sort((a, b) => a.order - b.order);
      this.order = Math.max(this.order, ...adopted.map((q) => q.order));
      for (const q of adopted) this.jobs.set(q.id, { file: q.file, batch: q.batch, attempts: 0, kept: true });
      const restored: PendingImage[] = adopted.map((q) => ({ id: q.id, name: q.name, x: q.x, y: q.y, width: q.width, height: q.height, loaded: 0, total: q.file.size, state: 'waiting' }));
      this.items = [...this.items, ...restored];
      this.resume();
    } catch (error) {
      console.warn('Inkboard: images waiting for the connection cannot be kept on this device', error);
    }
  }

  /** Keeps files waiting for the connection on the device (a toast says which wait in this tab only). */
  private async keepAll(items: readonly PendingImage[]): Promise<void> {
    const store = this.store;
    if (!store) return;
    const full: string[] = [];
    for (const item of items) {
      const job = this.jobs.get(item.id);
      if (!job || job.kept) continue;
      this.order = Math.max(Date.now(), this.order + 0.001);
      const queued: QueuedImage = { id: item.id, owner: this.owner, order: this.order, batch: job.batch, name: item.name, x: item.x, y: item.y, width: item.width, height: item.height, file: job.file };
      try {
        const result = await store.putImage(this.host.userId, this.host.boardId, queued);
        if (result === 'kept') job.kept = true;
        else if (result === 'full') full.push(item.name);
      } catch (error) {
        console.warn('Inkboard: an image waiting for the connection cannot be kept on this device', error);
      }
    }
    if (full.length) {
      const mb = Math.round(MAX_QUEUED_IMAGE_BYTES / (1024 * 1024));
      this.host.notify(
        `${full.map((n) => `“${n}”`).join(', ')} will wait for the connection in this tab only (lost if it is closed or reloaded): this device keeps at most ${MAX_QUEUED_IMAGES} pictures (${mb} MB) waiting to upload.`,
        'error',
      );
    }
  }

  /** The file is placed or refused: no longer kept. */
  private forget(id: string, job: Job | undefined): void {
    if (!job?.kept || !this.store) return;
    this.store.deleteImage(this.host.userId, this.host.boardId, id).catch((e: unknown) => console.warn('Inkboard: a placed image could not be dropped from this device', e));
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.host.connected && !this.abort.signal.aborted) {
        const next = this.items.find((i) => i.state === 'waiting');
        if (!next) break;
        const job = this.jobs.get(next.id);
        if (!job) {
          this.remove(next.id);
          continue;
        }
        const wait = await this.upload(next, job);
        if (wait === 'offline') break;
        if (typeof wait === 'number') {
          // Busy: try again after the server's wait (others keep their order).
          if (this.retryTimer) clearTimeout(this.retryTimer);
          this.retryTimer = setTimeout(() => this.resume(), wait * 1000);
          break;
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Uploads one file and places it; 'offline' or seconds to wait when it should be tried again. */
  private async upload(item: PendingImage, job: Job): Promise<'done' | 'offline' | number> {
    this.patch(item.id, { state: 'uploading', loaded: 0 });
    job.attempts++;
    try {
      const stored = await uploadImage(this.host.boardId, job.file, (loaded, total) => this.patch(item.id, { loaded, total }), this.abort.signal);
      const current = this.items.find((i) => i.id === item.id) ?? item;
      this.remove(item.id);
      this.place(current, job.batch, stored);
      this.forget(item.id, job);
      return 'done';
    } catch (e) {
      if (this.abort.signal.aborted) return 'offline';
      const error = e instanceof UploadError ? e : new UploadError(e instanceof Error ? e.message : String(e), -1);
      // No answer while the connection is down: it waits for it, and the try does not count.
      if (error.status === 0 && !this.host.connected) {
        job.attempts--;
        this.patch(item.id, { state: 'waiting', loaded: 0 });
        const waiting = this.items.find((i) => i.id === item.id);
        if (waiting) void this.keepAll([waiting]);
        return 'offline';
      }
      if (error.transient && job.attempts < MAX_ATTEMPTS) {
        this.patch(item.id, { state: 'waiting', loaded: 0 });
        if (error.status === 0) return 2;
        return error.retryAfter ?? 2 * job.attempts;
      }
      this.remove(item.id);
      this.forget(item.id, job);
      this.host.notify(`“${item.name}” was not added: ${error.message}`, 'error');
      return 'done';
    }
  }

  private place(box: PendingImage, batch: string, stored: { fileId: string; width: number; height: number }): void {
    if (this.host.has(box.id)) return; // placed before a reload, its file not yet dropped from the device
    const image = placedImage(box, box.id, this.host.nextZ(), stored);
    this.host.commit({ type: 'add', opId: newId(), elements: [image] });
    // The images of one drop or paste end up selected together.
    const ids = [...(this.placed.get(batch) ?? []), image.id];
    this.placed.set(batch, ids);
    if (!this.items.some((i) => this.jobs.get(i.id)?.batch === batch)) this.placed.delete(batch);
    this.host.select(ids);
  }

  private patch(id: string, patch: Partial<PendingImage>): void {
    this.items = this.items.map((i) => (i.id === id ? { ...i, ...patch } : i));
  }

  private remove(id: string): void {
    this.jobs.delete(id);
    this.items = this.items.filter((i) => i.id !== id);
  }
}
