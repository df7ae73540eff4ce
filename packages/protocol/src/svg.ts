import { getStroke } from 'perfect-freehand';
import { assertNever } from './applyOp.js';
import type { Element, Stroke } from './elements/index.js';
import { resolvedArrowPoints } from './bindings.js';
import { arrowHead, elementCenter, unionBounds, type Box } from './geometry.js';
import { FONT_FAMILIES, layoutNote, layoutText, withoutExtraLabels, type TextLayout } from './textLayout.js';
import { sortElements } from './zorder.js';

/** The font of texts without a `fontFamily` (all texts stored before issue 14): `FONT_FAMILIES.sans`. */
export const FONT_FAMILY = FONT_FAMILIES.sans;

/** Outline polygon of a freehand stroke (perfect-freehand), in the element's own coordinates. */
export function strokeOutline(el: Pick<Stroke, 'points' | 'strokeWidth'>, last = true): number[][] {
  const hasPressure = el.points.some((p) => p.length === 3);
  return getStroke(el.points as number[][], {
    size: el.strokeWidth * 2.5,
    thinning: 0.5,
    smoothing: 0.5,
    streamline: 0.4,
    simulatePressure: !hasPressure,
    last,
  });
}

const fmt = (n: number) => (Math.round(n * 100) / 100).toString();

/** SVG path data of a closed outline (quadratic smoothing, as perfect-freehand recommends). */
export function outlineToPath(points: number[][]): string {
  const n = points.length;
  if (n < 4) return '';
  const avg = (i: number, j: number, k: 0 | 1) => fmt((points[i]![k]! + points[j]![k]!) / 2);
  let d = `M${fmt(points[0]![0]!)},${fmt(points[0]![1]!)} Q${fmt(points[1]![0]!)},${fmt(points[1]![1]!)} ${avg(1, 2, 0)},${avg(1, 2, 1)} T`;
  for (let i = 2; i < n - 1; i++) d += `${avg(i, i + 1, 0)},${avg(i, i + 1, 1)} `;
  return `${d}Z`;
}

/** Path data of a freehand stroke relative to its `x`, `y`. */
export function strokePath(el: Pick<Stroke, 'points' | 'strokeWidth'>, last = true): string {
  return outlineToPath(strokeOutline(el, last));
}

/**
 * Characters XML 1.0 does not allow at all (not even as `&#1;`): C0 controls other than tab,
 * newline and carriage return, U+FFFE/U+FFFF and lone surrogates. Stored data may hold them (older
 * input), and one of them made the whole export invalid, so they are dropped.
 */
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text for XML content and attribute values; characters XML cannot hold are dropped. */
export function escapeXml(s: string): string {
  return s
    .replace(XML_INVALID, '')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const polyline = (points: readonly (readonly number[])[]) => points.map((p) => `${fmt(p[0]!)},${fmt(p[1]!)}`).join(' ');

/** Looks an element up by id (a label's container). */
export type ElementLookup = (id: string) => Element | undefined;

const ANCHOR = { left: 'start', center: 'middle', right: 'end' } as const;

/** SVG `rotate(...)` of an angle in radians about (cx, cy). */
function rotation(angle: number, cx: number, cy: number): string {
  return `rotate(${fmt((angle * 180) / Math.PI)} ${fmt(cx)} ${fmt(cy)})`;
}

/** A laid-out text as an SVG `<text>` (turned by the layout's angle). */
function textToSvg(layout: TextLayout, attrs: string): string {
  const tspans = layout.lines.map((line) => `<tspan x="${fmt(line.x)}" y="${fmt(line.baseline)}">${escapeXml(line.text) || ' '}</tspan>`).join('');
  const turn = layout.angle ? ` transform="${rotation(layout.angle, layout.cx, layout.cy)}"` : '';
  const anchor = layout.align === 'left' ? '' : ` text-anchor="${ANCHOR[layout.align]}"`;
  return `<text${attrs} font-family="${escapeXml(FONT_FAMILIES[layout.fontFamily])}" font-size="${fmt(layout.fontSize)}"${anchor} fill="${layout.color}" xml:space="preserve"${turn}>${tspans}</text>`;
}

/**
 * One element as an SVG fragment in world coordinates. `lookup` finds a label's container (a text
 * with `containerId`); without it, or when the container is gone, the label is drawn as a free text.
 */
export function elementToSvg(el: Element, lookup?: ElementLookup, images?: ImageSource): string {
  const angle = el.type === 'text' ? 0 : (el.angle ?? 0); // a text turns inside its layout
  if (angle === 0) return unrotatedSvg(el, lookup, images);
  const [cx, cy] = elementCenter(el);
  return `<g transform="${rotation(angle, cx, cy)}">${unrotatedSvg(el, lookup, images)}</g>`;
}

/**
 * The picture of an image element's file: a `data:` URI (what the server's exports use) or a URL,
 * or undefined when it is not at hand (a placeholder is drawn instead, so an export never fails).
 */
export type ImageSource = (fileId: string) => string | undefined;

/** What an image without its picture shows: a light grey box with a small picture glyph in the middle. */
function imagePlaceholder(el: Extract<Element, { type: 'image' }>, attrs: string): string {
  const s = Math.min(el.width, el.height) * 0.3;
  const gx = el.x + (el.width - s) / 2;
  const gy = el.y + (el.height - s) / 2;
  const p = (fx: number, fy: number) => `${fmt(gx + fx * s)},${fmt(gy + fy * s)}`;
  return (
    `<g${attrs}><rect x="${fmt(el.x)}" y="${fmt(el.y)}" width="${fmt(el.width)}" height="${fmt(el.height)}" fill="#e9ecef" stroke="#ced4da" stroke-width="${fmt(Math.max(0.5, Math.min(2, s / 20)))}"/>` +
    `<polygon points="${p(0, 1)} ${p(0.35, 0.45)} ${p(0.6, 0.75)} ${p(0.75, 0.6)} ${p(1, 1)}" fill="#adb5bd"/>` +
    `<circle cx="${fmt(gx + 0.78 * s)}" cy="${fmt(gy + 0.2 * s)}" r="${fmt(0.12 * s)}" fill="#adb5bd"/></g>`
  );
}

function unrotatedSvg(el: Element, lookup: ElementLookup | undefined, images: ImageSource | undefined): string {
  const common = el.opacity < 1 ? ` opacity="${fmt(el.opacity)}"` : '';
  const stroke = `stroke="${el.strokeColor}" stroke-width="${fmt(el.strokeWidth)}" stroke-linecap="round" stroke-linejoin="round"`;
  switch (el.type) {
    case 'stroke': {
      const d = strokePath(el);
      if (!d) {
        const [px, py] = el.points[0] ?? [0, 0];
        return `<circle data-id="${escapeXml(el.id)}" cx="${fmt(el.x + px)}" cy="${fmt(el.y + py)}" r="${fmt(el.strokeWidth)}" fill="${el.strokeColor}"${common}/>`;
      }
      return `<path data-id="${escapeXml(el.id)}" transform="translate(${fmt(el.x)} ${fmt(el.y)})" d="${d}" fill="${el.strokeColor}"${common}/>`;
    }
    case 'line':
      return `<polyline data-id="${escapeXml(el.id)}" transform="translate(${fmt(el.x)} ${fmt(el.y)})" points="${polyline(el.points)}" fill="none" ${stroke}${common}/>`;
    case 'arrow': {
      // Bound ends are drawn on their shapes as they are now (bindings.ts), as the canvas draws them.
      const points = lookup ? resolvedArrowPoints(el, lookup) : el.points;
      return (
        `<g data-id="${escapeXml(el.id)}" transform="translate(${fmt(el.x)} ${fmt(el.y)})" fill="none" ${stroke}${common}>` +
        `<polyline points="${polyline(points)}"/><polyline points="${polyline(arrowHead(points, el.strokeWidth))}"/></g>`
      );
    }
    case 'rectangle':
      return `<rect data-id="${escapeXml(el.id)}" x="${fmt(el.x)}" y="${fmt(el.y)}" width="${fmt(el.width)}" height="${fmt(el.height)}" rx="${fmt(Math.min(8, el.width / 4, el.height / 4))}" fill="${fillAttr(el.fillColor)}" ${stroke}${common}/>`;
    case 'ellipse':
      return `<ellipse data-id="${escapeXml(el.id)}" cx="${fmt(el.x + el.width / 2)}" cy="${fmt(el.y + el.height / 2)}" rx="${fmt(el.width / 2)}" ry="${fmt(el.height / 2)}" fill="${fillAttr(el.fillColor)}" ${stroke}${common}/>`;
    case 'text':
      return textToSvg(layoutText(el, lookup), ` data-id="${escapeXml(el.id)}"${common}`);
    case 'note': {
      const border = el.fillColor === 'transparent' ? `stroke="${el.strokeColor}" stroke-width="${fmt(el.strokeWidth)}"` : 'stroke="none"';
      return (
        `<g data-id="${escapeXml(el.id)}"${common}>` +
        `<rect x="${fmt(el.x)}" y="${fmt(el.y)}" width="${fmt(el.width)}" height="${fmt(el.height)}" rx="${fmt(Math.min(4, el.width / 4, el.height / 4))}" fill="${fillAttr(el.fillColor)}" ${border}/>` +
        (el.text === '' ? '' : textToSvg(layoutNote({ ...el, angle: 0 }), '')) +
        `</g>`
      );
    }
    case 'image': {
      const attrs = ` data-id="${escapeXml(el.id)}"${common}`;
      const href = images?.(el.fileId);
      if (!href) return imagePlaceholder(el, attrs);
      return `<image${attrs} x="${fmt(el.x)}" y="${fmt(el.y)}" width="${fmt(el.width)}" height="${fmt(el.height)}" preserveAspectRatio="none" href="${escapeXml(href)}"/>`;
    }
    default:
      return assertNever(el);
  }
}

function fillAttr(fill: string): string {
  return fill === 'transparent' ? 'none' : fill;
}

export interface SvgOptions {
  /** Background colour; null for a transparent background. */
  background?: string | null;
  /** Space around the drawing, in world units. */
  padding?: number;
  /** Region to render; defaults to the box around all elements. */
  bounds?: Box;
  /** Longest document to produce, in characters (about bytes: the markup is ASCII); see `overflow`. */
  maxLength?: number;
  /**
   * When the document would be longer than `maxLength`: `'throw'` an `SvgTooLargeError` (the
   * default), or `'keep-top'` to draw only the topmost elements that fit (a preview).
   */
  overflow?: 'throw' | 'keep-top';
  /** The pictures of image elements by file id (see `ImageSource`); without one, placeholders are drawn. */
  images?: ImageSource;
}

/** The SVG of the elements would be longer than the `maxLength` it was given. */
export class SvgTooLargeError extends Error {
  constructor(readonly maxLength: number) {
    super(`The SVG would be longer than ${maxLength} characters`);
    this.name = 'SvgTooLargeError';
  }
}

/** The elements' fragments, in paint order, within `budget` characters (or the `SvgTooLargeError`). */
function fragments(sorted: readonly Element[], budget: number, maxLength: number, keepTop: boolean, images: ImageSource | undefined): string {
  const byId = new Map(sorted.map((el) => [el.id, el]));
  const lookup: ElementLookup = (id) => byId.get(id);
  if (budget === Infinity) return sorted.map((el) => elementToSvg(el, lookup, images)).join('');
  const parts: string[] = [];
  let used = 0;
  // Top-down for a preview, so what is dropped is what lies underneath.
  for (let k = 0; k < sorted.length; k++) {
    const part = elementToSvg(sorted[keepTop ? sorted.length - 1 - k : k]!, lookup, images);
    if (used + part.length > budget) {
      if (keepTop) break;
      throw new SvgTooLargeError(maxLength);
    }
    used += part.length;
    parts.push(part);
  }
  if (keepTop) parts.reverse();
  return parts.join('');
}

/** A standalone SVG document of the elements, in paint order. Empty boards give a small blank image. */
export function renderSvg(elements: Iterable<Element>, options: SvgOptions = {}): string {
  // A box labelled twice at once shows its first label only, as the canvas does.
  const sorted = withoutExtraLabels(sortElements(elements));
  const padding = options.padding ?? 16;
  const box = options.bounds ?? unionBounds(sorted) ?? { minX: 0, minY: 0, maxX: 320, maxY: 200 };
  const x = box.minX - padding;
  const y = box.minY - padding;
  const w = Math.max(1, box.maxX - box.minX + 2 * padding);
  const h = Math.max(1, box.maxY - box.minY + 2 * padding);
  const background = options.background === undefined ? '#ffffff' : options.background;
  const bg = background ? `<rect x="${fmt(x)}" y="${fmt(y)}" width="${fmt(w)}" height="${fmt(h)}" fill="${escapeXml(background)}"/>` : '';
  const head = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${fmt(x)} ${fmt(y)} ${fmt(w)} ${fmt(h)}" width="${Math.ceil(w)}" height="${Math.ceil(h)}">` + bg;
  const maxLength = options.maxLength ?? Infinity;
  const budget = maxLength - head.length - '</svg>'.length;
  if (budget < 0) throw new SvgTooLargeError(maxLength);
  return head + fragments(sorted, budget, maxLength, options.overflow === 'keep-top', options.images) + '</svg>';
}
