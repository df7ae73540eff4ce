import { newId, referencedFileIds, type Element, type Image, type Op } from '@inkboard/protocol';
import { fetchBlob, fileUrl } from '../canvas/images.js';
import { layoutImages, looksLikeImage, pictureSize, uploadImage, UploadError, withAspect, type Placed } from './imageFiles.js';

/** What the uploads need from the editor. */
export interface UploadHost {
  readonly boardId: string;
  readonly canEdit: boolean;
  /** The live connection is up (uploads wait while it is not). */
  readonly connected: boolean;
  readonly zoom: number;
  /** The view in world units. */
  viewBox(): { x: number; y: number; width: number; height: number };
  nextZ(): string;
  commit(op: Op): void;
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
}

/**
 * The board's image uploads: a placeholder at once where each image will be, uploads one at a time
 * over HTTP with progress, then one `add` op per stored image (so others see it as soon as it is
 * stored, and the uploader can undo it like any element). While the connection is down the files
 * wait in an in-memory queue and go when it is back; a refusal (too large, not an image, quota, no
 * longer an editor) is a toast with the server's message, and the placeholder goes.
 */
export class ImageUploads {
  items = $state.raw<PendingImage[]>([]);
  private readonly jobs = new Map<string, Job>();
  private readonly placed = new Map<string, string[]>();
  private running = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly abort = new AbortController();

  constructor(private readonly host: UploadHost) {}

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
    for (const [i, item] of fresh.entries()) this.jobs.set(item.id, { file: files[i]!, batch, attempts: 0 });
    this.items = [...this.items, ...fresh];
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
      return 'done';
    } catch (e) {
      if (this.abort.signal.aborted) return 'offline';
      const error = e instanceof UploadError ? e : new UploadError(e instanceof Error ? e.message : String(e), -1);
      // No answer while the connection is down: it waits for it, and the try does not count.
      if (error.status === 0 && !this.host.connected) {
        job.attempts--;
        this.patch(item.id, { state: 'waiting', loaded: 0 });
        return 'offline';
      }
      if (error.transient && job.attempts < MAX_ATTEMPTS) {
        this.patch(item.id, { state: 'waiting', loaded: 0 });
        if (error.status === 0) return 2;
        return error.retryAfter ?? 2 * job.attempts;
      }
      this.remove(item.id);
      this.host.notify(`“${item.name}” was not added: ${error.message}`, 'error');
      return 'done';
    }
  }

  private place(box: PendingImage, batch: string, stored: { fileId: string; width: number; height: number }): void {
    const { x, y, width, height } = withAspect(box, stored.width, stored.height);
    const image: Image = {
      type: 'image',
      id: box.id,
      x,
      y,
      z: this.host.nextZ(),
      strokeColor: '#1e1e1e',
      strokeWidth: 2,
      opacity: 1,
      width,
      height,
      fileId: stored.fileId,
      naturalWidth: stored.width,
      naturalHeight: stored.height,
    };
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
