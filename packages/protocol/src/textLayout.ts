import type { Element, FontFamily, Note, Text, TextAlign } from './elements/index.js';
import { elementCenter, elementFrame, TEXT_CHAR_WIDTH, TEXT_LINE_HEIGHT, type Box } from './geometry.js';

/*
 * Text layout shared by the SVG export (svg.ts, also the server's exports and thumbnails) and the
 * canvas (apps/web/src/lib/canvas/renderScene.ts), so both wrap and place lines the same way. Widths
 * are estimated (`TEXT_CHAR_WIDTH` em a character): no DOM here, and the same estimate on both sides
 * keeps the canvas and the export alike.
 */

/** CSS font stacks of the font families (canvas `font` and SVG `font-family`). */
export const FONT_FAMILIES: Record<FontFamily, string> = {
  hand: '"Virgil", "Excalifont", "Comic Sans MS", "Segoe Print", "Bradley Hand", "Chalkboard SE", "Comic Neue", cursive',
  sans: 'ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  // DejaVu first: the server's renderer (resvg) only tries the first family of a stack, and DejaVu is
  // what it has; browsers without it go on down the list.
  mono: '"DejaVu Sans Mono", ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace',
};

/** The CSS font stack of a text's or note's family (`sans` when it has none: texts stored before issue 14). */
export function fontStack(family: FontFamily | undefined): string {
  return FONT_FAMILIES[family ?? 'sans'];
}

/** Space between a container's or note's edge and its text, in world units. */
export const LABEL_PADDING = 10;

/** Estimated width of one line. */
export function lineWidth(line: string, fontSize: number): number {
  return line.length * fontSize * TEXT_CHAR_WIDTH;
}

/**
 * `text` broken into lines at `\n` and, with a finite `maxWidth`, between words so that no line is
 * wider than `maxWidth` (a word longer than that is cut between characters).
 */
export function wrapText(text: string, fontSize: number, maxWidth: number): string[] {
  const perLine = Math.max(1, Math.floor(maxWidth / (fontSize * TEXT_CHAR_WIDTH)));
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    if (!Number.isFinite(maxWidth) || paragraph.length <= perLine) {
      out.push(paragraph);
      continue;
    }
    let line = '';
    for (const word of paragraph.split(' ')) {
      const candidate = line === '' ? word : `${line} ${word}`;
      if (candidate.length <= perLine) {
        line = candidate;
        continue;
      }
      if (line !== '') out.push(line);
      let rest = word;
      while (rest.length > perLine) {
        out.push(rest.slice(0, perLine));
        rest = rest.slice(perLine);
      }
      line = rest;
    }
    out.push(line);
  }
  return out;
}

/** One laid-out line: its text, the x of its anchor (start, middle or end per `align`) and its baseline. */
export interface LaidLine {
  text: string;
  x: number;
  baseline: number;
}

/** Where and how a text, label or note's text is drawn. */
export interface TextLayout {
  lines: LaidLine[];
  align: TextAlign;
  fontSize: number;
  fontFamily: FontFamily;
  color: string;
  /** Rotation (radians) about (cx, cy): the element's own, or a label's container's. */
  angle: number;
  cx: number;
  cy: number;
}

/** Baseline of line `i` of a text block whose top is `y`. */
export function textBaseline(y: number, fontSize: number, i: number): number {
  return y + fontSize * (0.9 + i * TEXT_LINE_HEIGHT);
}

function place(lines: string[], box: Box, fontSize: number, align: TextAlign, middle: boolean): LaidLine[] {
  const height = lines.length * fontSize * TEXT_LINE_HEIGHT;
  const top = middle ? (box.minY + box.maxY) / 2 - height / 2 : box.minY;
  const x = align === 'left' ? box.minX : align === 'right' ? box.maxX : (box.minX + box.maxX) / 2;
  return lines.map((text, i) => ({ text, x, baseline: textBaseline(top, fontSize, i) }));
}

/** The inner box of a container or note, where its text goes. */
export function labelBox(container: Element): Box {
  const f = elementFrame(container);
  const pad = LABEL_PADDING + container.strokeWidth / 2;
  const inset = container.type === 'ellipse' ? 0.1464 : 0; // (1 - 1/sqrt 2) / 2: the rectangle inside an ellipse
  const ix = Math.min((f.maxX - f.minX) / 2, pad + (f.maxX - f.minX) * inset);
  const iy = Math.min((f.maxY - f.minY) / 2, pad + (f.maxY - f.minY) * inset);
  return { minX: f.minX + ix, minY: f.minY + iy, maxX: f.maxX - ix, maxY: f.maxY - iy };
}

/** Whether an element can hold a label (a text with `containerId`). */
export function isContainer(el: Element): el is Extract<Element, { type: 'rectangle' | 'ellipse' | 'note' }> {
  return el.type === 'rectangle' || el.type === 'ellipse' || el.type === 'note';
}

/**
 * Ids of labels not shown: when two people label one box at once, each adds its own label text; the
 * box shows (and the editor edits) only its first label by paint order (z, then id), the same on
 * every client and in exports, and the next edit of the label merges the others into it (the web
 * editor deletes them in the same undo step). `sorted` is in paint order. Labels whose container is
 * not among the elements are left alone (drawn as free texts).
 */
export function extraLabels(sorted: readonly Element[]): Set<string> {
  const first = new Map<string, string>();
  const extra = new Set<string>();
  for (const el of sorted) {
    if (el.type !== 'text' || !el.containerId) continue;
    if (first.has(el.containerId)) extra.add(el.id);
    else first.set(el.containerId, el.id);
  }
  if (!extra.size) return extra;
  const containers = new Set(sorted.filter(isContainer).map((el) => el.id));
  for (const el of sorted) if (extra.has(el.id) && el.type === 'text' && !containers.has(el.containerId!)) extra.delete(el.id);
  return extra;
}

/** `sorted` without the labels `extraLabels` leaves out (the same array when there are none). */
export function withoutExtraLabels<E extends readonly Element[]>(sorted: E): E | Element[] {
  const extra = extraLabels(sorted);
  return extra.size ? sorted.filter((el) => !extra.has(el.id)) : sorted;
}

/**
 * Layout of a text. A label (`containerId` naming a rectangle, ellipse or note found by `lookup`) is
 * wrapped to the container's inner box, centred vertically, aligned by `textAlign` (default centre),
 * and turns with the container. A free text starts at `x`, `y`; centre and right alignment are
 * within its own block (as wide as its longest line).
 */
export function layoutText(el: Text, lookup?: (id: string) => Element | undefined): TextLayout {
  const container = el.containerId ? lookup?.(el.containerId) : undefined;
  const fontFamily = el.fontFamily ?? 'sans';
  if (container && isContainer(container)) {
    const box = labelBox(container);
    const align = el.textAlign ?? 'center';
    const lines = wrapText(el.text, el.fontSize, box.maxX - box.minX);
    const [cx, cy] = elementCenter(container);
    return { lines: place(lines, box, el.fontSize, align, true), align, fontSize: el.fontSize, fontFamily, color: el.strokeColor, angle: container.angle ?? 0, cx, cy };
  }
  const align = el.textAlign ?? 'left';
  const lines = el.text.split('\n');
  const f = elementFrame(el);
  const [cx, cy] = elementCenter(el);
  return { lines: place(lines, f, el.fontSize, align, false), align, fontSize: el.fontSize, fontFamily, color: el.strokeColor, angle: el.angle ?? 0, cx, cy };
}

/** Layout of a note's text: wrapped to its inner box, from the top, aligned by `textAlign` (default left). */
export function layoutNote(el: Note): TextLayout {
  const box = labelBox(el);
  const align = el.textAlign ?? 'left';
  const lines = el.text === '' ? [] : wrapText(el.text, el.fontSize, box.maxX - box.minX);
  const [cx, cy] = elementCenter(el);
  return { lines: place(lines, box, el.fontSize, align, false), align, fontSize: el.fontSize, fontFamily: el.fontFamily ?? 'sans', color: el.strokeColor, angle: el.angle ?? 0, cx, cy };
}
