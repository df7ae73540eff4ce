import { createHash } from 'node:crypto';
import { createDeflate } from 'node:zlib';
import sharp from 'sharp';
import { newId, zAbove, type Element } from '@inkboard/protocol';

/** Image fixtures made with sharp in the test (no binary files in the repository). */
export const solid = (width: number, height: number, color = { r: 220, g: 30, b: 40 }) =>
  sharp({ create: { width, height, channels: 3, background: color } });

export const fixtures = {
  png: (w = 40, h = 30) => solid(w, h).png().toBuffer(),
  jpeg: (w = 40, h = 30) => solid(w, h).jpeg().toBuffer(),
  webp: (w = 40, h = 30) => solid(w, h).webp().toBuffer(),
  /** A two-frame animated GIF, 12 x 10 a frame (red, then blue). */
  gif: async () => {
    const frame = (r: number, b: number) => Buffer.alloc(12 * 10 * 3).map((_, i) => (i % 3 === 0 ? r : i % 3 === 2 ? b : 0));
    const raw = Buffer.concat([frame(255, 0), frame(0, 255)]);
    return sharp(raw, { raw: { width: 12, height: 20, channels: 3, pageHeight: 10 } }).gif({ loop: 0, delay: [100, 100] }).toBuffer();
  },
};

/** Random pixels as JPEG: a photo-like file that does not compress (about 1 MB at 1280 x 960, quality 90). */
export async function noiseJpeg(width = 1024, height = 768, seed = 1): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < raw.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    raw[i] = s >>> 24;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

const crc32Table = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = crc32Table[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A valid decompression bomb: a 1-bit greyscale PNG of `side` x `side` zero pixels (50,000 x 50,000
 * is 2.5 gigapixels, 312 MB of rows, a few hundred KB compressed), made by streaming the rows.
 */
export async function pngBomb(side = 50_000): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const row = Buffer.alloc(1 + Math.ceil(side / 8));
  const deflate = createDeflate({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (d: Buffer) => out.push(d));
  const ended = new Promise((resolve) => deflate.on('end', resolve));
  for (let y = 0; y < side; y++) if (!deflate.write(row)) await new Promise((r) => deflate.once('drain', r));
  deflate.end();
  await ended;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.concat(out)), chunk('IEND', Buffer.alloc(0))]);
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface UploadAnswer {
  status: number;
  headers: Headers;
  json: Record<string, unknown> & { fileId?: string; message?: string; error?: string; width?: number; height?: number; mime?: string; bytes?: number };
}

export async function upload(url: string, token: string | null, boardId: string, body: Uint8Array, type = 'image/png', headers: Record<string, string> = {}): Promise<UploadAnswer> {
  const res = await fetch(`${url}/api/boards/${boardId}/files`, {
    method: 'POST',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': type, ...headers },
    body: body as Uint8Array<ArrayBuffer>,
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as UploadAnswer['json'] };
}

export async function download(url: string, token: string | null, boardId: string, fileId: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/api/boards/${boardId}/files/${fileId}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

export function imageElement(fileId: string, width: number, height: number, extra: Partial<Element> = {}): Element {
  return {
    type: 'image',
    id: newId(),
    x: 10,
    y: 10,
    z: zAbove(null),
    strokeColor: '#1e1e1e',
    strokeWidth: 1,
    opacity: 1,
    width,
    height,
    fileId,
    naturalWidth: width,
    naturalHeight: height,
    ...extra,
  } as Element;
}
