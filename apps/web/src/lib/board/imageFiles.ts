import { uploadedFileSchema, type Image, type UploadedFile } from '@inkboard/protocol';

/** A box in world coordinates. */
export interface Placed {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A new image takes at most this share of the view's width and height. */
export const FIT_SHARE = 0.6;
/** Screen pixels between images dropped or pasted together. */
const GAP = 20;

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Where images of the given pixel sizes go when dropped or pasted together at `at` (world) in a view
 * `view` world units wide and high: each shrunk (never grown) to fit within 60% of the view, side by
 * side in a row centred on `at`, the row shrunk as a whole when it is wider than the view.
 */
export function layoutImages(sizes: readonly { width: number; height: number }[], at: { x: number; y: number }, view: { width: number; height: number }, zoom = 1): Placed[] {
  if (!sizes.length) return [];
  // A view of no size yet (the canvas not laid out): no fitting.
  const maxW = view.width > 0 ? view.width * FIT_SHARE : Infinity;
  const maxH = view.height > 0 ? view.height * FIT_SHARE : Infinity;
  // A pixel of the picture is a world unit, up to the share of the view.
  const fitted = sizes.map(({ width, height }) => {
    const w = Math.max(1, width);
    const h = Math.max(1, height);
    const s = Math.min(1, maxW / w, maxH / h);
    return { width: w * s, height: h * s };
  });
  const gap = GAP / zoom;
  let total = fitted.reduce((sum, f) => sum + f.width, 0) + gap * (fitted.length - 1);
  const shrink = view.width > 0 ? Math.min(1, (view.width * 0.9) / total) : 1;
  total *= shrink;
  let x = at.x - total / 2;
  return fitted.map((f) => {
    const width = Math.max(1, f.width * shrink);
    const height = Math.max(1, f.height * shrink);
    const placed = { x: round2(x), y: round2(at.y - height / 2), width: round2(width), height: round2(height) };
    x += width + gap * shrink;
    return placed;
  });
}

/** The box of `placed`'s size turned to the stored image's aspect ratio (the server may have shrunk it), same centre and width. */
export function withAspect(placed: Placed, naturalWidth: number, naturalHeight: number): Placed {
  const height = round2(Math.max(0.01, (placed.width * naturalHeight) / naturalWidth));
  return { x: placed.x, y: round2(placed.y + (placed.height - height) / 2), width: placed.width, height };
}

/** The image element for a file stored at `box` (its aspect kept), with the given id and z. */
export function placedImage(box: Placed, id: string, z: string, stored: { fileId: string; width: number; height: number }): Image {
  const { x, y, width, height } = withAspect(box, stored.width, stored.height);
  return { type: 'image', id, x, y, z, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, width, height, fileId: stored.fileId, naturalWidth: stored.width, naturalHeight: stored.height };
}

/** Files a browser may hand over that could be pictures (the server decides by decoding them). */
export function looksLikeImage(file: { type: string; name: string }): boolean {
  if (file.type) return file.type.startsWith('image/');
  return /\.(png|jpe?g|webp|gif)$/i.test(file.name);
}

/** The image files among a drop's or a paste's items (`DataTransfer.files`). */
export function imageFilesOf(data: DataTransfer | null): File[] {
  if (!data) return [];
  return [...data.files].filter(looksLikeImage);
}

/** An upload the server refused or that did not reach it. */
export class UploadError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 when the request did not get an answer (offline, connection lost). */
    readonly status: number,
    /** Seconds to wait before trying again (429, 503). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'UploadError';
  }

  /** Worth trying again later: no answer, or the server asked to wait. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status === 503;
  }
}

/** The server's `{ error, message }` answer turned into a sentence (its message, else one for the status). */
export function uploadErrorMessage(status: number, body: string): string {
  try {
    const data: unknown = JSON.parse(body);
    if (data && typeof data === 'object' && 'message' in data && typeof data.message === 'string' && data.message) return data.message;
  } catch {
    // Not JSON (a proxy's page): say what the status means.
  }
  if (status === 413) return 'The file is too large.';
  if (status === 415) return 'The file is not an image Inkboard can show (PNG, JPEG, WebP or GIF).';
  if (status === 401) return 'You are signed out: sign in again and retry.';
  if (status === 403) return 'You cannot add images to this board.';
  return `The upload failed (HTTP ${status}).`;
}

/**
 * Uploads a file to the board over HTTP (the session cookie signs it), reporting progress: resolves
 * with the stored file (its id, type and pixel size), rejects with an `UploadError`.
 */
export function uploadImage(boardId: string, file: Blob, onProgress?: (loaded: number, total: number) => void, signal?: AbortSignal): Promise<UploadedFile> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/boards/${encodeURIComponent(boardId)}/files`);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new UploadError('The upload did not reach the server (offline or connection lost).', 0));
    xhr.onabort = () => reject(new UploadError('The upload was cancelled.', 0));
    xhr.onload = () => {
      const body = String(xhr.responseText ?? '');
      if (xhr.status === 200 || xhr.status === 201) {
        try {
          const parsed = uploadedFileSchema.safeParse(JSON.parse(body));
          if (parsed.success) return resolve(parsed.data);
        } catch {
          // Falls through to the refusal below.
        }
        return reject(new UploadError('The server answered the upload with something unexpected.', xhr.status));
      }
      const retry = Number(xhr.getResponseHeader('Retry-After'));
      reject(new UploadError(uploadErrorMessage(xhr.status, body), xhr.status, Number.isFinite(retry) && retry > 0 ? retry : null));
    };
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

/**
 * The pixel size of a picture file as the browser reads it from the file's header (an <img> that is
 * loaded but never drawn is not decoded, so a decompression bomb costs nothing here); null when the
 * browser cannot read it (the server will say why).
 */
export function pictureSize(file: Blob): Promise<{ width: number; height: number } | null> {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const image = new Image();
    const done = (size: { width: number; height: number } | null) => {
      URL.revokeObjectURL(url);
      resolve(size);
    };
    image.onload = () => done(image.naturalWidth > 0 && image.naturalHeight > 0 ? { width: image.naturalWidth, height: image.naturalHeight } : null);
    image.onerror = () => done(null);
    image.src = url;
  });
}
