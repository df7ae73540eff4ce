import { assertNever, type Element } from '@inkboard/protocol';

const NOUNS: Record<Element['type'], [string, string]> = {
  stroke: ['freehand stroke', 'freehand strokes'],
  line: ['line', 'lines'],
  arrow: ['arrow', 'arrows'],
  rectangle: ['rectangle', 'rectangles'],
  ellipse: ['ellipse', 'ellipses'],
  text: ['text', 'texts'],
  note: ['sticky note', 'sticky notes'],
  image: ['image', 'images'],
};

/**
 * A sentence for screen readers saying what the canvas shows, e.g. "4 elements: 2 freehand strokes,
 * 1 rectangle, 1 text: “Hello”". The canvas itself is opaque to assistive technology.
 */
export function describeBoard(elements: readonly Element[], maxTexts = 10): string {
  if (!elements.length) return 'The board is empty.';
  const counts = new Map<Element['type'], number>();
  const texts: string[] = [];
  for (const el of elements) {
    counts.set(el.type, (counts.get(el.type) ?? 0) + 1);
    switch (el.type) {
      case 'text':
      case 'note':
        if (el.text !== '' && texts.length < maxTexts) texts.push(`“${el.text.length > 60 ? `${el.text.slice(0, 60)}…` : el.text}”`);
        break;
      case 'stroke':
      case 'line':
      case 'arrow':
      case 'rectangle':
      case 'ellipse':
      case 'image':
        break;
      default:
        assertNever(el);
    }
  }
  const parts = [...counts].map(([type, n]) => `${n} ${NOUNS[type][n === 1 ? 0 : 1]}`);
  const n = elements.length;
  return `${n} ${n === 1 ? 'element' : 'elements'}: ${parts.join(', ')}${texts.length ? `. Texts: ${texts.join(', ')}` : ''}.`;
}
