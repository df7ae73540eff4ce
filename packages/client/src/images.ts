import { fitImageSize, uploadedFileSchema, type UploadedFile } from '@inkboard/protocol';

/** Where to upload: a client made by `createInkboardClient`, or a server address and API token. */
export type UploadTarget = { url: string; token?: string };

/** A refused upload, with the server's message (what to do next) and its code and status. */
export class UploadError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    /** Seconds the server asked to wait (429, 503), or null. */
    readonly retryAfterSeconds: number | null,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

/** The image type of the bytes, by their signature (PNG, JPEG, WebP, GIF), or undefined. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const at = (i: number, ...sig: number[]) => sig.every((b, k) => bytes[i + k] === b);
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return 'image/png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  return undefined;
}

/**
 * Uploads an image (PNG, JPEG, WebP or GIF) to the board (`POST /api/boards/:boardId/files`) and
 * returns the stored file: its id (for an image element's `fileId`), type and pixel size after the
 * server re-encoded it. `mime` defaults to the Blob's type or what the bytes are. Throws an
 * `UploadError` with the server's message when refused (not an image, too large, quota, viewer...).
 */
export async function uploadImage(target: UploadTarget, boardId: string, data: Uint8Array | Blob, mime?: string): Promise<UploadedFile> {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(await data.arrayBuffer());
  const type = mime ?? (data instanceof Blob && data.type ? data.type : undefined) ?? sniffImageType(bytes) ?? 'application/octet-stream';
  const base = target.url.replace(/\/+$/, '');
  const res = await fetch(`${base}/api/boards/${encodeURIComponent(boardId)}/files`, {
    method: 'POST',
    headers: { 'content-type': type, ...(target.token ? { authorization: `Bearer ${target.token}` } : {}) },
    body: bytes as Uint8Array<ArrayBuffer>,
  });
  const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
  if (!res.ok) {
    const retry = Number(res.headers.get('retry-after'));
    throw new UploadError(body.message ?? `The upload failed with HTTP ${res.status}.`, res.status, body.error ?? 'INTERNAL_SERVER_ERROR', Number.isFinite(retry) && retry > 0 ? retry : null);
  }
  return uploadedFileSchema.parse(body);
}

/** An image input of `inkboard draw`: like an image element, but naming a local file instead of a `fileId`. */
interface FileImageInput {
  type: 'image';
  file: string;
  width?: number;
  height?: number;
  [key: string]: unknown;
}

const isFileImage = (input: unknown): input is FileImageInput =>
  typeof input === 'object' && input !== null && (input as { type?: unknown }).type === 'image' && typeof (input as { file?: unknown }).file === 'string';

/**
 * Uploads the files that image inputs name (`{ "type": "image", "file": "./photo.jpg", "x": 0, "y": 0 }`)
 * and turns those inputs into image elements: `fileId` and natural size from the upload, `width` and
 * `height` by default the natural size fitted within 1024 px (one given: the other keeps the ratio).
 * Each distinct file is uploaded once. `read` loads a file's bytes (the CLI reads relative to the JSON file).
 */
export async function uploadImageInputs(target: UploadTarget, boardId: string, inputs: unknown[], read: (path: string) => Promise<Uint8Array>): Promise<unknown[]> {
  const uploaded = new Map<string, UploadedFile>();
  const out: unknown[] = [];
  // One at a time: the server decodes few images at once and limits uploads per person.
  for (const input of inputs) {
    if (!isFileImage(input)) {
      out.push(input);
      continue;
    }
    const { file, ...rest } = input;
    let stored = uploaded.get(file);
    if (!stored) {
      let bytes: Uint8Array;
      try {
        bytes = await read(file);
      } catch (err) {
        throw new Error(`Cannot read the image ${file}: ${(err as Error).message}`);
      }
      stored = await uploadPatiently(target, boardId, bytes, file);
      uploaded.set(file, stored);
    }
    const fit = fitImageSize(stored.width, stored.height);
    const ratio = stored.height / stored.width;
    const width = typeof rest.width === 'number' ? rest.width : typeof rest.height === 'number' ? rest.height / ratio : fit.width;
    const height = typeof rest.height === 'number' ? rest.height : typeof rest.width === 'number' ? rest.width * ratio : fit.height;
    out.push({ ...rest, width, height, fileId: stored.fileId, naturalWidth: stored.width, naturalHeight: stored.height });
  }
  return out;
}

/** `uploadImage`, waiting as asked and trying again (up to 3 times) when the server is busy or the rate is spent. */
async function uploadPatiently(target: UploadTarget, boardId: string, bytes: Uint8Array, name: string): Promise<UploadedFile> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await uploadImage(target, boardId, bytes);
    } catch (err) {
      if (err instanceof UploadError && err.retryAfterSeconds !== null && attempt < 3 && err.retryAfterSeconds <= 30) {
        await new Promise((r) => setTimeout(r, err.retryAfterSeconds! * 1000));
        continue;
      }
      throw err instanceof UploadError ? new UploadError(`${name}: ${err.message}`, err.status, err.code, err.retryAfterSeconds) : err;
    }
  }
}
