import { renderSvg, unionBounds, type Element } from '@inkboard/protocol';

/** The board's paper colour: exports always use it, whatever the theme. */
export const EXPORT_BACKGROUND = '#ffffff';
const PADDING = 16;
/** Chrome refuses canvases larger than this on a side. */
const MAX_SIDE = 16_384;

/**
 * The protocol's SVG of the elements (the server's thumbnails and exports use the same renderer);
 * images are embedded from `images` (file id -> `data:` URI, `imageDataUris` in images.ts), so the
 * file stands alone; one missing there is drawn as a placeholder.
 */
export function exportSvg(elements: readonly Element[], images?: ReadonlyMap<string, string>): string {
  return renderSvg(elements, { background: EXPORT_BACKGROUND, padding: PADDING, images: images && ((id) => images.get(id)) });
}

/**
 * A PNG of the elements at `scale` (1 or 2): the protocol's SVG drawn onto a canvas, so the PNG and
 * the SVG look the same (images embedded from `images`, as for the SVG). The scale shrinks when the
 * image would exceed the browser's canvas limit.
 */
export async function exportPng(elements: readonly Element[], scale: number, images?: ReadonlyMap<string, string>): Promise<Blob> {
  const box = unionBounds(elements) ?? { minX: 0, minY: 0, maxX: 320, maxY: 200 };
  const width = Math.ceil(box.maxX - box.minX + 2 * PADDING);
  const height = Math.ceil(box.maxY - box.minY + 2 * PADDING);
  const k = Math.min(scale, MAX_SIDE / width, MAX_SIDE / height);
  const svg = renderSvg(elements, { background: EXPORT_BACKGROUND, padding: PADDING, bounds: box, images: images && ((id) => images.get(id)) });
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(width * k));
    canvas.height = Math.max(1, Math.round(height * k));
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('This browser cannot draw the export (no 2D canvas).');
    ctx.fillStyle = EXPORT_BACKGROUND;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The PNG could not be encoded.'))), 'image/png'),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** The board as a JSON document that scripts can read back (elements in the protocol's schema). */
export function exportJson(title: string, elements: readonly Element[]): string {
  return JSON.stringify({ type: 'inkboard', version: 1, title, exportedAt: new Date().toISOString(), elements }, null, 2);
}

/** Saves a blob as a file through a temporary link. */
export function download(data: Blob | string, filename: string, type = 'application/octet-stream'): void {
  const blob = typeof data === 'string' ? new Blob([data], { type }) : data;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A safe file name from a board title. */
export function fileNameFor(title: string): string {
  return title.trim().replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '-').slice(0, 80) || 'board';
}
