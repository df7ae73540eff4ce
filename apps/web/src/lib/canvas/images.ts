import type { Image } from '@inkboard/protocol';

/** Where a board's stored file is read (the server checks the caller's access to the board on every request). */
export function fileUrl(boardId: string, fileId: string): string {
  return `/api/boards/${encodeURIComponent(boardId)}/files/${fileId}`;
}

/** What the cache keeps per image: anything drawable with a size (an ImageBitmap in the browser). */
export interface Bitmap {
  readonly width: number;
  readonly height: number;
  close?(): void;
}

export interface ImageCacheOptions {
  /** Decoded pixels kept (4 bytes a pixel), least recently drawn dropped first. */
  maxBytes?: number;
  /** Encoded files kept for decoding at other sizes and for exports. */
  maxFileBytes?: number;
  /** Reads a file's bytes (default: `fetch` of its board URL with the session cookie). */
  fetchFile?: (fileId: string) => Promise<Blob>;
  /** Decodes a file, scaled to `width` x `height` when given (default: `createImageBitmap`). */
  decode?: (file: Blob, width?: number, height?: number) => Promise<Bitmap>;
  /** Milliseconds since some start (tests pin it). */
  now?: () => number;
}

/** A bitmap drawn within this long is never dropped to make room (it is on screen). */
const IN_USE_MS = 2_000;
/** A file that failed to load is asked for again after this long. */
const RETRY_MS = 15_000;
/** Smaller versions are made down to this width or height; below it the smallest one is scaled by the canvas. */
const MIN_LEVEL_SIDE = 64;
const MAX_LEVEL = 8;

interface Entry {
  bitmap: Bitmap;
  bytes: number;
  usedAt: number;
}

interface FileEntry {
  blob: Blob;
  bytes: number;
}

/**
 * The level (a power of two the image is shrunk by) worth decoding for an image of `natural` pixels
 * wide drawn `drawn` device pixels wide: the smallest version at least as wide as it is drawn (a
 * picture shrunk ten times on the canvas is decoded at an eighth, not in full).
 */
export function levelFor(naturalWidth: number, naturalHeight: number, drawnWidth: number): number {
  if (!(drawnWidth > 0) || naturalWidth <= 0) return 0;
  let level = Math.floor(Math.log2(naturalWidth / drawnWidth));
  level = Math.max(0, Math.min(MAX_LEVEL, level));
  while (level > 0 && Math.min(naturalWidth, naturalHeight) / 2 ** level < MIN_LEVEL_SIDE) level--;
  return level;
}

/**
 * Decoded images of one board by file id, bounded by bytes: each is decoded at the size it is drawn
 * (halved per level) so a board of many large photos seen from afar holds small bitmaps, and what was
 * drawn least recently goes first. A bitmap drawn in the last two seconds is never dropped, so a frame
 * that shows more than the budget does not evict what it just drew and loop; it overshoots until the
 * view changes. `onLoad` says that an image became drawable (the renderer redraws).
 */
export class ImageCache {
  /** Called (once per finished decode) with the file id that can now be drawn sharper. */
  onLoad: ((fileId: string) => void) | null = null;
  /**
   * A canvas filter pictures are drawn through (null: none). The dark theme inverts the whole canvas
   * with CSS (`--canvas-filter`); pictures are drawn inverted first so that they show about as they
   * are, not as negatives (as Excalidraw does).
   */
  counterFilter: string | null = null;
  private readonly bitmaps = new Map<string, Entry>();
  private readonly files = new Map<string, FileEntry>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly fileLoads = new Map<string, Promise<Blob>>();
  private readonly failed = new Map<string, number>();
  private bitmapBytes = 0;
  private fileBytes = 0;
  private readonly maxBytes: number;
  private readonly maxFileBytes: number;
  private readonly fetchFile: (fileId: string) => Promise<Blob>;
  private readonly decode: (file: Blob, width?: number, height?: number) => Promise<Bitmap>;
  private readonly now: () => number;
  private disposed = false;

  constructor(
    readonly boardId: string,
    options: ImageCacheOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.maxFileBytes = options.maxFileBytes ?? 64 * 1024 * 1024;
    this.fetchFile = options.fetchFile ?? ((fileId) => fetchBlob(fileUrl(boardId, fileId)));
    this.decode = options.decode ?? decodeBitmap;
    this.now = options.now ?? (() => performance.now());
  }

  /** Bytes of decoded pixels held. */
  get bytes(): number {
    return this.bitmapBytes;
  }

  /** How many bitmaps are held. */
  get size(): number {
    return this.bitmaps.size;
  }

  /**
   * The bitmap to draw `image` with when it is `drawnWidth` device pixels wide: the right level if it
   * is decoded, else the nearest one there is (while the right one is decoded), else null (nothing yet:
   * draw a placeholder). Starts what is missing.
   */
  bitmapFor(image: Pick<Image, 'fileId' | 'naturalWidth' | 'naturalHeight'>, drawnWidth: number): Bitmap | null {
    const level = levelFor(image.naturalWidth, image.naturalHeight, drawnWidth);
    const exact = this.use(key(image.fileId, level));
    if (exact) return exact.bitmap;
    this.load(image, level);
    // Meanwhile: a sharper version, else a blurrier one.
    for (let l = level - 1; l >= 0; l--) {
      const e = this.use(key(image.fileId, l));
      if (e) return e.bitmap;
    }
    for (let l = level + 1; l <= MAX_LEVEL; l++) {
      const e = this.use(key(image.fileId, l));
      if (e) return e.bitmap;
    }
    return null;
  }

  /** Whether the file failed to load (it is drawn as a broken placeholder until it is retried). */
  hasFailed(fileId: string): boolean {
    const at = this.failed.get(fileId);
    return at !== undefined && this.now() - at < RETRY_MS;
  }

  /** The stored file's bytes (for exports), fetched once and kept within the file budget. */
  async file(fileId: string): Promise<Blob> {
    const held = this.files.get(fileId);
    if (held) {
      this.files.delete(fileId);
      this.files.set(fileId, held);
      return held.blob;
    }
    let pending = this.fileLoads.get(fileId);
    if (!pending) {
      pending = this.fetchFile(fileId).then((blob) => {
        this.keepFile(fileId, blob);
        return blob;
      });
      this.fileLoads.set(fileId, pending);
      const done = () => this.fileLoads.delete(fileId);
      pending.then(done, done);
    }
    return pending;
  }

  /** Drops everything (the board is closed). */
  dispose(): void {
    this.disposed = true;
    for (const e of this.bitmaps.values()) e.bitmap.close?.();
    this.bitmaps.clear();
    this.files.clear();
    this.bitmapBytes = 0;
    this.fileBytes = 0;
    this.onLoad = null;
  }

  private use(k: string): Entry | null {
    const e = this.bitmaps.get(k);
    if (!e) return null;
    // Map order is the LRU order: the one used now goes last.
    this.bitmaps.delete(k);
    e.usedAt = this.now();
    this.bitmaps.set(k, e);
    return e;
  }

  private load(image: Pick<Image, 'fileId' | 'naturalWidth' | 'naturalHeight'>, level: number): void {
    const k = key(image.fileId, level);
    if (this.loading.has(k) || this.hasFailed(image.fileId)) return;
    const task = (async () => {
      try {
        const blob = await this.file(image.fileId);
        const w = Math.max(1, Math.round(image.naturalWidth / 2 ** level));
        const h = Math.max(1, Math.round(image.naturalHeight / 2 ** level));
        const bitmap = await (level === 0 ? this.decode(blob) : this.decode(blob, w, h));
        if (this.disposed) {
          bitmap.close?.();
          return;
        }
        this.failed.delete(image.fileId);
        this.keepBitmap(k, bitmap);
        this.onLoad?.(image.fileId);
      } catch (e) {
        if (this.disposed) return;
        this.failed.set(image.fileId, this.now());
        console.warn(`Inkboard: image ${image.fileId} could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
        this.onLoad?.(image.fileId);
      } finally {
        this.loading.delete(k);
      }
    })();
    this.loading.set(k, task);
  }

  private keepBitmap(k: string, bitmap: Bitmap): void {
    const old = this.bitmaps.get(k);
    if (old) {
      this.bitmapBytes -= old.bytes;
      old.bitmap.close?.();
      this.bitmaps.delete(k);
    }
    const bytes = bitmap.width * bitmap.height * 4;
    this.bitmaps.set(k, { bitmap, bytes, usedAt: this.now() });
    this.bitmapBytes += bytes;
    const recent = this.now() - IN_USE_MS;
    for (const [other, e] of this.bitmaps) {
      if (this.bitmapBytes <= this.maxBytes || e.usedAt >= recent) break;
      this.bitmaps.delete(other);
      this.bitmapBytes -= e.bytes;
      e.bitmap.close?.();
    }
  }

  private keepFile(fileId: string, blob: Blob): void {
    if (this.disposed || this.files.has(fileId)) return;
    this.files.set(fileId, { blob, bytes: blob.size });
    this.fileBytes += blob.size;
    for (const [other, e] of this.files) {
      if (this.fileBytes <= this.maxFileBytes || other === fileId) break;
      this.files.delete(other);
      this.fileBytes -= e.bytes;
    }
  }
}

const key = (fileId: string, level: number) => `${fileId}/${level}`;

/** A file from the server as a Blob; the server's message when it refuses. */
export async function fetchBlob(url: string): Promise<Blob> {
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try {
      const body: unknown = await res.json();
      if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') message = body.message;
    } catch {
      // Not JSON: the status says it.
    }
    throw new Error(message);
  }
  return res.blob();
}

function decodeBitmap(file: Blob, width?: number, height?: number): Promise<Bitmap> {
  return width && height ? createImageBitmap(file, { resizeWidth: width, resizeHeight: height, resizeQuality: 'high' }) : createImageBitmap(file);
}

/** A blob as a `data:` URI (exports embed the images). */
export function blobToDataUri(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => (typeof reader.result === 'string' ? resolve(reader.result) : reject(new Error('The image could not be read.')));
    reader.onerror = () => reject(reader.error ?? new Error('The image could not be read.'));
    reader.readAsDataURL(blob);
  });
}

/** The images the elements show, as `data:` URIs by file id (files that cannot be read are left out: drawn as placeholders). */
export async function imageDataUris(cache: ImageCache, elements: readonly { type: string; fileId?: string }[]): Promise<Map<string, string>> {
  const ids = new Set<string>();
  for (const el of elements) if (el.type === 'image' && el.fileId) ids.add(el.fileId);
  const out = new Map<string, string>();
  await Promise.all(
    [...ids].map(async (id) => {
      try {
        out.set(id, await blobToDataUri(await cache.file(id)));
      } catch (e) {
        console.warn(`Inkboard: image ${id} left out of the export: ${e instanceof Error ? e.message : String(e)}`);
      }
    }),
  );
  return out;
}

/*
 * The renderer's functions are shared by every canvas (the board, exports) and take no per-board
 * state; the page shows one board at a time, whose canvas installs its cache here while it is open.
 */
let active: ImageCache | null = null;

/** Makes `cache` the one board images are drawn from (null: none; images draw as placeholders). */
export function setActiveImageCache(cache: ImageCache | null): void {
  active = cache;
}

type Ctx = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

/** Undoes the dark theme's canvas filter (`invert(93%) hue-rotate(180deg)`, app.css) closely enough for pictures. */
export const DARK_THEME_COUNTER_FILTER = 'invert(100%) hue-rotate(180deg)';

const PLACEHOLDER_FILL = '#f1f3f5';
const PLACEHOLDER_INK = '#adb5bd';

/**
 * Draws an image element on a context set to the camera (and already turned by its angle): the
 * decoded bitmap at the size it is drawn, or a placeholder (a framed picture sign; crossed out when the
 * file cannot be loaded) while it loads.
 */
export function drawImageElement(ctx: Ctx, el: Image, cache: ImageCache | null = active): void {
  const t = ctx.getTransform();
  const scale = Math.hypot(t.a, t.b) || 1;
  const bitmap = cache?.bitmapFor(el, el.width * scale) ?? null;
  if (bitmap) {
    const smoothing = ctx.imageSmoothingQuality;
    const filter = ctx.filter;
    ctx.imageSmoothingQuality = 'high';
    if (cache?.counterFilter) ctx.filter = cache.counterFilter;
    ctx.drawImage(bitmap as CanvasImageSource, el.x, el.y, el.width, el.height);
    ctx.imageSmoothingQuality = smoothing;
    ctx.filter = filter;
    return;
  }
  drawImagePlaceholder(ctx, el, scale, cache?.hasFailed(el.fileId) ?? false);
}

/** A grey box with a picture sign (a sun over hills), crossed out when `broken`. */
export function drawImagePlaceholder(ctx: Ctx, box: { x: number; y: number; width: number; height: number }, scale: number, broken = false): void {
  const { x, y, width: w, height: h } = box;
  ctx.fillStyle = PLACEHOLDER_FILL;
  ctx.fillRect(x, y, w, h);
  ctx.strokeStyle = PLACEHOLDER_INK;
  ctx.lineWidth = 1 / scale;
  ctx.strokeRect(x, y, w, h);
  const s = Math.min(w, h) * 0.3;
  if (s * scale < 8) return;
  const cx = x + w / 2;
  const cy = y + h / 2;
  ctx.lineWidth = Math.max(1 / scale, s / 16);
  ctx.strokeRect(cx - s / 2, cy - s / 2.6, s, s / 1.3);
  ctx.beginPath();
  ctx.moveTo(cx - s / 2, cy + s / 4);
  ctx.lineTo(cx - s / 6, cy - s / 12);
  ctx.lineTo(cx + s / 10, cy + s / 6);
  ctx.lineTo(cx + s / 4, cy + s / 24);
  ctx.lineTo(cx + s / 2, cy + s / 4);
  ctx.stroke();
  ctx.beginPath();
  ctx.arc(cx + s / 5, cy - s / 6, s / 12, 0, Math.PI * 2);
  ctx.stroke();
  if (broken) {
    ctx.beginPath();
    ctx.moveTo(cx - s / 2, cy - s / 2.6);
    ctx.lineTo(cx + s / 2, cy + s / 2.6);
    ctx.stroke();
  }
}
