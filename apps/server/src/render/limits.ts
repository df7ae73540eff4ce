import { availableParallelism } from 'node:os';

/** Budgets of the render pool (each an `INKBOARD_RENDER_*` / `INKBOARD_EXPORT_*` setting, config.ts). */
export interface RenderLimits {
  /** Worker threads rendering at once. */
  threads: number;
  /** A job running longer is stopped (its worker is ended). */
  timeoutMs: number;
  /** Heap of each worker (V8 old generation); a job needing more ends its worker, not the server. */
  heapMb: number;
  /** Jobs waiting for a thread; more are refused (429). */
  maxQueue: number;
  /** Exports one user may have waiting or running; more are refused (429). */
  perUser: number;
  /** Longest SVG export, in bytes (about characters). Larger boards are refused (413). */
  maxSvgBytes: number;
  /** Largest PNG export in pixels: a larger image is scaled down to fit. */
  maxPngPixels: number;
  /** Rendered results kept in memory (least recently used dropped first). */
  cacheBytes: number;
  /** Serialized snapshots kept in memory, the latest of each board (least recently used dropped first). */
  snapshotCacheBytes: number;
  /**
   * A board holding fewer element bytes than this is serialized for a joining subscriber on the event
   * loop (faster than a round trip to a worker); a larger one by a render worker.
   */
  snapshotInlineBytes: number;
  /**
   * Bytes of stored images one export may embed (as data URIs; INKBOARD_EXPORT_IMAGES_MB), within
   * the SVG length too; images past it are drawn as placeholders (smallest embedded first).
   */
  maxImageBytes: number;
}

export const MiB = 1024 * 1024;
/** Two cores or fewer: one render thread, so the event loop keeps a core to itself. */
const cores = availableParallelism();
export const DEFAULT_RENDER_LIMITS: RenderLimits = {
  threads: cores <= 2 ? 1 : Math.min(4, cores - 1),
  timeoutMs: 20_000,
  heapMb: 512,
  maxQueue: 8,
  perUser: 2,
  maxSvgBytes: 64 * MiB,
  maxPngPixels: 16 * MiB,
  cacheBytes: 64 * MiB,
  snapshotCacheBytes: 64 * MiB,
  snapshotInlineBytes: 256 * 1024,
  maxImageBytes: 64 * MiB,
};

/**
 * Pixels of the images one PNG export or preview embeds: resvg decodes each embedded image whole,
 * outside the worker's heap limit (4 bytes a pixel: 48 megapixels are about 200 MB).
 */
export const MAX_RASTER_IMAGE_PIXELS = 48_000_000;
/** Image bytes a board list preview may embed. */
export const THUMBNAIL_IMAGE_BYTES = 2 * MiB;

/** Snapshot jobs waiting for a worker (they go before exports and previews); more are refused (429). */
export const SNAPSHOT_QUEUE = 64;

/** Largest PNG side in pixels (on top of the pixel budget). */
export const MAX_PNG_SIDE = 8192;
/**
 * Longest SVG handed to resvg for a PNG: resvg's memory is outside the worker's heap limit (72 MB
 * of SVG took a process to 1.2 GB), so its input is bounded separately from the SVG export.
 */
export const MAX_PNG_SOURCE_BYTES = 24 * MiB;
/** Board list previews: vector up to `vectorMaxLength`, else a `width` x `height` PNG of the topmost elements within `sourceMaxLength`. */
export const THUMBNAIL = {
  width: 320,
  height: 200,
  vectorMaxLength: 256 * 1024,
  sourceMaxLength: 4 * MiB,
  /** `board.list` waits this long for missing previews, then answers with what it has. */
  waitMs: 3_000,
  /** Previews waiting, behind every export (more get the placeholder and are made on a later list). */
  queue: 64,
  /** A preview taking longer is stopped (and not retried at the same seq: the placeholder stays). */
  timeoutMs: 10_000,
};
