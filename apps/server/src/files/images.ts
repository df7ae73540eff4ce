import { createHash } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import sharp, { type Metadata, type OutputInfo } from 'sharp';

const MIB = 1024 * 1024;

/** What uploaded images may cost (docs/limits.md; settings in config.ts). */
export interface ImageLimits {
  /** Bytes of one uploaded file, as sent (INKBOARD_IMAGE_MAX_MB). */
  maxFileBytes: number;
  /** Pixels (width x height) an uploaded image may declare; larger ones are refused before they are decoded (INKBOARD_IMAGE_MAX_MEGAPIXELS). */
  maxInputPixels: number;
  /** Longest side of a stored image; larger ones are scaled down (INKBOARD_IMAGE_MAX_DIMENSION). */
  maxDimension: number;
  /** Bytes of stored images one board may use (INKBOARD_IMAGE_BOARD_QUOTA_MB). */
  boardQuotaBytes: number;
  /** Bytes of stored images one person may have uploaded, over all boards (INKBOARD_IMAGE_USER_QUOTA_MB). */
  uploaderQuotaBytes: number;
  /** Uploads one person may make a minute, in bursts of `uploadBurst` (INKBOARD_IMAGE_UPLOADS_PER_MINUTE). */
  uploadsPerMinute: number;
  uploadBurst: number;
  /** Images decoded at once (libvips threads, off the event loop), and waiting for a turn; more answer 503 (INKBOARD_IMAGE_DECODERS). */
  decoders: number;
  decodeQueue: number;
  /** Bytes of images one export or thumbnail may embed; past it, the rest are drawn as placeholders (INKBOARD_EXPORT_IMAGES_MB). */
  exportImageBytes: number;
  /** An uploaded file no element or retained op uses is removed after this (INKBOARD_IMAGE_GRACE_MINUTES). */
  unusedGraceMs: number;
  /** How often the clean-up runs. */
  sweepIntervalMs: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  maxFileBytes: 10 * MIB,
  maxInputPixels: 40_000_000,
  maxDimension: 4096,
  boardQuotaBytes: 200 * MIB,
  uploaderQuotaBytes: 500 * MIB,
  uploadsPerMinute: 60,
  uploadBurst: 30,
  decoders: 2,
  decodeQueue: 8,
  exportImageBytes: 64 * MIB,
  unusedGraceMs: 60 * 60 * 1000,
  sweepIntervalMs: 10 * 60 * 1000,
};

/** The types an upload may claim (application/octet-stream: "find out from the bytes"). */
export const ACCEPTED_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;
export type AcceptedType = (typeof ACCEPTED_TYPES)[number];
export type StoredType = 'image/png' | 'image/jpeg' | 'image/webp';

/** A refused upload: a tRPC-style code with its HTTP status, a message saying what to do, and maybe a Retry-After. */
export class UploadError extends TRPCError {
  constructor(
    code: TRPCError['code'],
    readonly status: number,
    message: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super({ code, message });
  }
}

/** The format the bytes are, by their signature (never by name or claimed type), or null for anything else. */
export function sniffImageType(bytes: Uint8Array): AcceptedType | null {
  const at = (i: number, ...sig: number[]) => sig.every((b, k) => bytes[i + k] === b);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (at(0, 0x47, 0x49, 0x46, 0x38) && (at(4, 0x37, 0x61) || at(4, 0x39, 0x61))) return 'image/gif';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  return null;
}

const NAMES: Record<AcceptedType, string> = { 'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/webp': 'WebP', 'image/gif': 'GIF' };

/** An image as stored: re-encoded bytes without metadata, their SHA-256 and size. */
export interface DecodedImage {
  hash: string;
  mime: StoredType;
  width: number;
  height: number;
  data: Buffer;
  /** Frames in the upload (an animated GIF or WebP keeps only its first). */
  frames: number;
}

// libvips' operation cache would keep decoded pixels of untrusted uploads in memory.
sharp.cache(false);

/**
 * Checks an upload by decoding it, then re-encodes it: the format comes from the bytes and must be
 * the claimed one (`claimed` null: any accepted one); the declared pixel count is checked before any
 * pixel is decoded (a small file declaring 50,000 x 50,000 is refused at once); a truncated or
 * corrupt file fails (sharp `failOn: 'warning'`); EXIF orientation is applied, then every piece of
 * metadata (EXIF with its GPS position, XMP, ICC comments) is dropped by re-encoding; images larger
 * than `maxDimension` are scaled down. PNG, JPEG and WebP keep their format; GIF becomes PNG (an
 * animated one keeps its first frame). Decoding runs on libvips threads, off the event loop.
 */
export async function decodeImage(input: Buffer, claimed: AcceptedType | null, limits: Pick<ImageLimits, 'maxInputPixels' | 'maxDimension'>): Promise<DecodedImage> {
  const actual = sniffImageType(input);
  if (!actual) throw new UploadError('BAD_REQUEST', 400, 'This file is not a PNG, JPEG, WebP or GIF image (its first bytes are not one of them). Export it as one of these and upload it again.');
  if (claimed && claimed !== actual) {
    throw new UploadError('BAD_REQUEST', 400, `The file is sent as ${NAMES[claimed]} (Content-Type ${claimed}) but its bytes are ${NAMES[actual]}; send it with Content-Type ${actual}.`);
  }
  const options = { limitInputPixels: limits.maxInputPixels, failOn: 'warning' as const, animated: false };
  let meta: Metadata;
  try {
    // The header only (no pixel is decoded), without the pixel limit: so the refusal can say the size.
    meta = await sharp(input, { ...options, limitInputPixels: false }).metadata();
  } catch (err) {
    throw unreadable(actual, err);
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (!(w > 0 && h > 0)) throw new UploadError('BAD_REQUEST', 400, `This ${NAMES[actual]} file declares no size; it is damaged.`);
  if (w * h > limits.maxInputPixels) {
    throw new UploadError(
      'PAYLOAD_TOO_LARGE',
      413,
      `This image is ${w} x ${h} pixels (${(w * h / 1e6).toFixed(1)} megapixels); at most ${(limits.maxInputPixels / 1e6).toFixed(0)} megapixels are accepted. Scale it down and upload it again.`,
    );
  }
  const mime: StoredType = actual === 'image/gif' ? 'image/png' : actual;
  let pipeline = sharp(input, options)
    .rotate()
    .resize({ width: limits.maxDimension, height: limits.maxDimension, fit: 'inside', withoutEnlargement: true });
  pipeline = mime === 'image/jpeg' ? pipeline.jpeg({ quality: 90 }) : mime === 'image/webp' ? pipeline.webp({ quality: 90 }) : pipeline.png();
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await pipeline.toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw unreadable(actual, err);
  }
  return {
    hash: createHash('sha256').update(out.data).digest('hex'),
    mime,
    width: out.info.width,
    height: out.info.height,
    data: out.data,
    frames: meta.pages ?? 1,
  };
}

function unreadable(type: AcceptedType, err: unknown): UploadError {
  const reason = (err as Error).message ?? String(err);
  if (/pixel limit/i.test(reason)) return new UploadError('PAYLOAD_TOO_LARGE', 413, `This image has more pixels than the server accepts; scale it down and upload it again.`);
  return new UploadError('BAD_REQUEST', 400, `This ${NAMES[type]} file cannot be read: it is truncated or damaged (${reason.split('\n')[0]!.slice(0, 200)}). Save it again and upload the new file.`);
}

/**
 * Uploads in progress, from the first byte of the body read to the stored file: at most
 * `concurrency + queue` admitted (their bodies in memory: 10 x 10 MiB by default), and at most
 * `perUser` of one person; past either, `admit` refuses at once (503 SERVICE_UNAVAILABLE with
 * Retry-After, or 429 for one person). Of the admitted, at most `concurrency` decode at once (`run`).
 */
export class DecodeGate {
  private admitted = 0;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly byUser = new Map<string, number>();

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
    private readonly perUser = 2,
  ) {}

  get busy(): number {
    return this.admitted;
  }

  /** A place for one upload of `userId`; call the returned function when it is done (stored or refused). */
  admit(userId: string): () => void {
    const mine = this.byUser.get(userId) ?? 0;
    if (mine >= this.perUser) {
      throw new UploadError('TOO_MANY_REQUESTS', 429, `You already have ${mine} uploads in progress (at most ${this.perUser} at a time); wait for them to finish.`, 1);
    }
    if (this.admitted >= this.concurrency + this.queue) {
      throw new UploadError('SERVICE_UNAVAILABLE', 503, 'The server is decoding as many images as it can right now; retry in a few seconds.', 2);
    }
    this.admitted++;
    this.byUser.set(userId, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.admitted--;
      const left = (this.byUser.get(userId) ?? 1) - 1;
      if (left > 0) this.byUser.set(userId, left);
      else this.byUser.delete(userId);
    };
  }

  /** Runs a decode when one of the `concurrency` places is free (the caller was admitted). */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
