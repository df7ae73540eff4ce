import { z } from 'zod';
import { MAX_COORD } from '../primitives.js';
import { commonFields } from './common.js';

/** A stored file's id: the SHA-256 of its bytes (as stored, after the server re-encoded them), 64 lowercase hex digits. */
export const fileIdSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a file id (64 lowercase hex digits, as the upload answered)');

/** The shown width or height of an image: positive (an image never collapses to nothing). */
export const imageSizeSchema = z.number().positive('must be positive').max(2 * MAX_COORD);

/** A stored image's size in pixels. */
export const naturalSizeSchema = z.number().int().min(1).max(100_000);

/**
 * A picture uploaded to the board (`POST /api/boards/:boardId/files`), drawn in the box at `x`, `y`
 * of `width` x `height` (turned by `angle` about its centre, like a rectangle). The element carries
 * only the reference (`fileId`) and the stored image's pixel size; the bytes are fetched from
 * `GET /api/boards/:boardId/files/:fileId`, which checks the caller's access to the board.
 */
export const imageSchema = z.strictObject({
  type: z.literal('image'),
  ...commonFields,
  width: imageSizeSchema,
  height: imageSizeSchema,
  fileId: fileIdSchema,
  naturalWidth: naturalSizeSchema,
  naturalHeight: naturalSizeSchema,
});
export type Image = z.infer<typeof imageSchema>;

/** What an upload answers (the stored, re-encoded image). */
export const uploadedFileSchema = z.object({
  fileId: fileIdSchema,
  mime: z.enum(['image/png', 'image/jpeg', 'image/webp']),
  width: naturalSizeSchema,
  height: naturalSizeSchema,
  bytes: z.number().int().nonnegative(),
});
export type UploadedFile = z.infer<typeof uploadedFileSchema>;

/** The file ids the elements refer to (each once). */
export function referencedFileIds(elements: Iterable<{ type: string; fileId?: unknown }>): string[] {
  const ids = new Set<string>();
  for (const el of elements) if (el.type === 'image' && typeof el.fileId === 'string') ids.add(el.fileId);
  return [...ids];
}

/** A size of `naturalWidth` x `naturalHeight` scaled down (never up) to fit within `max` on its longest side. */
export function fitImageSize(naturalWidth: number, naturalHeight: number, max = 1024): { width: number; height: number } {
  const scale = Math.min(1, max / Math.max(naturalWidth, naturalHeight));
  return { width: Math.max(1, Math.round(naturalWidth * scale)), height: Math.max(1, Math.round(naturalHeight * scale)) };
}
