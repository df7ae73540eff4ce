import { describe, expect, it } from 'vitest';
import { elementInputSchema, elementPatchSchema, elementSchema, type Element } from './index.js';
import { fileIdSchema, fitImageSize, referencedFileIds } from './image.js';
import { elementToSvg, renderSvg } from '../svg.js';
import { resizeElements, rotateElements } from '../transform.js';
import { elementBounds } from '../geometry.js';

const fileId = 'c0ffee'.padEnd(64, '0');
const image: Element = {
  type: 'image',
  id: 'img1',
  x: 10,
  y: 20,
  z: 'a0',
  strokeColor: '#1e1e1e',
  strokeWidth: 1,
  opacity: 1,
  width: 200,
  height: 100,
  fileId,
  naturalWidth: 400,
  naturalHeight: 200,
};

describe('image element', () => {
  it('accepts a valid image and refuses bad file ids, sizes and extra fields', () => {
    expect(elementSchema.parse(image)).toEqual(image);
    expect(fileIdSchema.safeParse(fileId.toUpperCase()).success).toBe(false);
    expect(fileIdSchema.safeParse(fileId.slice(1)).success).toBe(false);
    expect(elementSchema.safeParse({ ...image, fileId: '../etc/passwd' }).success).toBe(false);
    expect(elementSchema.safeParse({ ...image, width: 0 }).success).toBe(false);
    expect(elementSchema.safeParse({ ...image, naturalWidth: 1.5 }).success).toBe(false);
    expect(elementSchema.safeParse({ ...image, src: 'http://x' }).success).toBe(false);
  });

  it('inputs may leave out id, z and style', () => {
    const input = { type: 'image', x: 0, y: 0, width: 10, height: 10, fileId, naturalWidth: 10, naturalHeight: 10 };
    expect(elementInputSchema.safeParse(input).success).toBe(true);
  });

  it('a patch cannot change the file', () => {
    expect(elementPatchSchema.safeParse({ fileId }).success).toBe(false);
  });

  it('draws an <image> with the source given, else a placeholder', () => {
    const href = 'data:image/png;base64,iVBORw0KGgo=';
    const svg = elementToSvg(image, undefined, (id) => (id === fileId ? href : undefined));
    expect(svg).toBe(`<image data-id="img1" x="10" y="20" width="200" height="100" preserveAspectRatio="none" href="${href}"/>`);
    const placeholder = elementToSvg(image);
    expect(placeholder).toMatch(/^<g data-id="img1"><rect x="10" y="20" width="200" height="100" fill="#e9ecef"/);
    expect(placeholder).not.toContain('<image');
    expect(renderSvg([image], { images: () => href })).toContain(`href="${href}"`);
    expect(elementToSvg({ ...image, angle: Math.PI / 2 })).toMatch(/^<g transform="rotate\(90 110 70\)">/);
  });

  it('resizes and rotates like a box, never to nothing', () => {
    const [grown] = resizeElements([image], 'se', [410, 220]);
    expect(grown!.patch).toMatchObject({ width: 400, height: 200 });
    const [squashed] = resizeElements([image], 'se', [10, 20]);
    expect(squashed!.patch.width).toBeGreaterThan(0);
    expect(squashed!.patch.height).toBeGreaterThan(0);
    expect(rotateElements([image], Math.PI / 2)[0]!.patch).toEqual({ angle: Math.PI / 2 });
    expect(elementBounds(image)).toMatchObject({ minX: 9.5, minY: 19.5 });
  });

  it('lists referenced files once and fits sizes', () => {
    expect(referencedFileIds([image, { ...image, id: 'b' }, { type: 'rectangle' }])).toEqual([fileId]);
    expect(fitImageSize(4000, 2000)).toEqual({ width: 1024, height: 512 });
    expect(fitImageSize(30, 20)).toEqual({ width: 30, height: 20 });
  });
});
