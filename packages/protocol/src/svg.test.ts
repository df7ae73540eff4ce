import { describe, expect, it } from 'vitest';
import type { Element } from './elements/index.js';
import { elementToSvg, escapeXml, renderSvg, SvgTooLargeError } from './svg.js';
import { FONT_FAMILIES, textBaseline } from './textLayout.js';
import { arrowHead } from './geometry.js';

const style = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const els = {
  stroke: { type: 'stroke', id: 'stroke1', x: 100, y: 50, ...style, points: [[0, 0, 0.5], [10, 5, 0.6], [20, 15, 0.7], [40, 20, 0.5]] },
  line: { type: 'line', id: 'line1', x: 10, y: 10, ...style, points: [[0, 0], [50, 25], [60, -5]] },
  arrow: { type: 'arrow', id: 'arrow1', x: -30, y: 200, ...style, points: [[0, 0], [80, 0]] },
  rectangle: { type: 'rectangle', id: 'rect1', x: 5, y: 6, ...style, width: 40, height: 30, fillColor: '#ff0000' },
  ellipse: { type: 'ellipse', id: 'ell1', x: 300, y: -40, ...style, width: 60, height: 20, fillColor: 'transparent' },
  text: { type: 'text', id: 'text1', x: 0, y: 400, ...style, text: 'a <b> & "c"\n\nlast', fontSize: 20 },
  note: { type: 'note', id: 'note1', x: 500, y: 0, ...style, width: 120, height: 100, fillColor: '#fff3bf', text: 'buy milk & <eggs>', fontSize: 16 },
  image: { type: 'image', id: 'img1', x: 700, y: 0, ...style, width: 64, height: 48, fileId: 'abababababababababababababababababababababababababababababababab', naturalWidth: 640, naturalHeight: 480 },
} satisfies Record<Element['type'], Element>;
const all: Element[] = Object.values(els);

/**
 * A small XML well-formedness check: tags balance, attributes are quoted and unique, text and
 * attribute values contain no raw `<` and only known entities. Returns the element names in order.
 */
function checkXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
  const checkText = (s: string) => {
    for (let i = s.indexOf('&'); i !== -1; i = s.indexOf('&', i + 1)) {
      entity.lastIndex = i;
      if (!entity.test(s)) throw new Error(`bare & at "${s.slice(i, i + 12)}"`);
    }
    if (s.includes('>')) throw new Error(`raw > in "${s}"`); // escapeXml escapes it; we insist on that
  };
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;
  let pos = 0;
  while (pos < xml.length) {
    const lt = xml.indexOf('<', pos);
    const text = xml.slice(pos, lt === -1 ? xml.length : lt);
    if (text) {
      if (stack.length === 0 && text.trim()) throw new Error(`text outside the root: "${text}"`);
      checkText(text);
    }
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) throw new Error(`malformed tag at ${lt}: "${xml.slice(lt, lt + 40)}"`);
    const [, closing, name, attrs, selfClosing] = m;
    const attrNames = [...attrs!.matchAll(/([\w:.-]+)="([^"]*)"/g)].map((a) => {
      checkText(a[2]!);
      return a[1]!;
    });
    if (new Set(attrNames).size !== attrNames.length) throw new Error(`duplicate attribute in <${name}>`);
    if (closing) {
      if (attrs || selfClosing) throw new Error(`bad closing tag </${name}>`);
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
    } else {
      if (stack.length === 0 && names.length > 0) throw new Error('second root element');
      names.push(name!);
      if (!selfClosing) stack.push(name!);
    }
    pos = tag.lastIndex;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return names;
}

const viewBox = (svg: string) => {
  const m = /viewBox="(-?[\d.]+) (-?[\d.]+) ([\d.]+) ([\d.]+)"/.exec(svg);
  if (!m) throw new Error('no viewBox');
  const [x, y, w, h] = m.slice(1).map(Number) as [number, number, number, number];
  return { minX: x, minY: y, maxX: x + w, maxY: y + h };
};
/** Every coordinate pair in an attribute value, shifted by a translate. */
const pairs = (s: string, dx = 0, dy = 0) => [...s.matchAll(/(-?[\d.]+),(-?[\d.]+)/g)].map((m) => [Number(m[1]) + dx, Number(m[2]) + dy] as const);

describe('checkXml (the test helper itself)', () => {
  it.each(['<a><b></a></b>', '<a>', '<a x="1" x="2"/>', '<a>x & y</a>', '<a>1 < 2</a>', '<a/><b/>', '<a x=1/>'])('rejects %s', (bad) => {
    expect(() => checkXml(bad)).toThrow();
  });
  it('accepts nested, self-closing and escaped content', () => {
    expect(checkXml('<a k="&quot;"><b/><c>&lt;&amp;&gt;</c></a>')).toEqual(['a', 'b', 'c']);
  });
});

describe('renderSvg', () => {
  it('is well-formed XML with an svg root for every element kind', () => {
    const svg = renderSvg(all);
    const names = checkXml(svg);
    expect(names[0]).toBe('svg');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /);
    expect(svg.endsWith('</svg>')).toBe(true);
  });

  it('draws a stroke as a filled path', () => {
    const svg = elementToSvg(els.stroke);
    expect(svg).toMatch(/^<path data-id="stroke1" transform="translate\(100 50\)" d="M[-\d.,]+ Q.* T.*Z" fill="#1e1e1e"\/>$/);
  });

  it('draws a one-point stroke as a dot', () => {
    const dot = elementToSvg({ ...els.stroke, points: [[3, 4]] });
    expect(checkXml(dot)[0]).toMatch(/^(path|circle)$/);
  });

  it('draws a line as a polyline through its points', () => {
    const svg = elementToSvg(els.line);
    expect(svg).toContain('<polyline data-id="line1" transform="translate(10 10)" points="0,0 50,25 60,-5" fill="none"');
    expect(svg).toContain('stroke="#1e1e1e" stroke-width="2"');
  });

  it('draws an arrow as its shaft plus an arrowhead at the last point', () => {
    const svg = elementToSvg(els.arrow);
    expect(checkXml(svg)).toEqual(['g', 'polyline', 'polyline']);
    expect(svg).toContain('<polyline points="0,0 80,0"/>');
    const [left, tip, right] = arrowHead(els.arrow.points, 2) as [[number, number], [number, number], [number, number]];
    const head = [left, tip, right];
    expect(tip).toEqual([80, 0]);
    // Barbs point back from the tip, symmetric about the shaft.
    expect(left[0]).toBeLessThan(80);
    expect(left[0]).toBeCloseTo(right[0]);
    expect(left[1]).toBeCloseTo(-right[1]);
    expect(Math.abs(left[1])).toBeGreaterThan(1);
    const second = [...svg.matchAll(/<polyline points="([^"]+)"/g)][1]![1]!;
    expect(pairs(second)).toEqual(head.map(([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100]));
  });

  it('draws rectangles and ellipses with their fill', () => {
    expect(elementToSvg(els.rectangle)).toMatch(/^<rect data-id="rect1" x="5" y="6" width="40" height="30" rx="[\d.]+" fill="#ff0000" stroke="#1e1e1e"/);
    expect(elementToSvg(els.ellipse)).toMatch(/^<ellipse data-id="ell1" cx="330" cy="-30" rx="30" ry="10" fill="none" /);
  });

  it('draws text as one tspan per line with XML special characters escaped', () => {
    const svg = elementToSvg(els.text);
    checkXml(svg);
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
    expect(svg).not.toContain('<b>');
    const tspans = [...svg.matchAll(/<tspan x="0" y="([\d.]+)">([^<]*)<\/tspan>/g)];
    expect(tspans.map((t) => t[2])).toEqual(['a &lt;b&gt; &amp; &quot;c&quot;', ' ', 'last']);
    expect(tspans.map((t) => Number(t[1]))).toEqual([0, 1, 2].map((i) => textBaseline(400, 20, i)));
    expect(svg).toContain('font-size="20"');
  });

  it('adds opacity only when below 1', () => {
    expect(elementToSvg({ ...els.rectangle, opacity: 0.5 })).toContain('opacity="0.5"');
    expect(elementToSvg(els.rectangle)).not.toContain('opacity');
  });

  it('has a viewBox that covers every element', () => {
    const svg = renderSvg(all);
    const box = viewBox(svg);
    const inside = ([x, y]: readonly [number, number]) => {
      expect(x).toBeGreaterThanOrEqual(box.minX);
      expect(x).toBeLessThanOrEqual(box.maxX);
      expect(y).toBeGreaterThanOrEqual(box.minY);
      expect(y).toBeLessThanOrEqual(box.maxY);
    };
    const r = els.rectangle;
    [[r.x, r.y], [r.x + r.width, r.y + r.height]].forEach(([x, y]) => inside([x!, y!]));
    const e = els.ellipse;
    [[e.x, e.y], [e.x + e.width, e.y + e.height]].forEach(([x, y]) => inside([x!, y!]));
    els.line.points.forEach(([x, y]) => inside([els.line.x + x, els.line.y + y]));
    arrowHead(els.arrow.points, 2).forEach(([x, y]) => inside([els.arrow.x + x, els.arrow.y + y]));
    const d = /<path data-id="stroke1"[^>]* d="([^"]+)"/.exec(svg)![1]!;
    pairs(d, els.stroke.x, els.stroke.y).forEach(inside);
    const t = els.text;
    inside([t.x, t.y]);
    inside([t.x + 'a <b> & "c"'.length * t.fontSize * 0.5, textBaseline(t.y, t.fontSize, 2)]);
    const width = Number(/ width="(\d+)"/.exec(svg)![1]);
    expect(width).toBe(Math.ceil(box.maxX - box.minX));
  });

  it('uses the given bounds and padding', () => {
    const svg = renderSvg([els.rectangle], { bounds: { minX: 0, minY: 0, maxX: 100, maxY: 50 }, padding: 10 });
    expect(svg).toContain('viewBox="-10 -10 120 70" width="120" height="70"');
  });

  it('paints in z order (later z painted later), equal z by id', () => {
    const a = { ...els.rectangle, id: 'A', z: 'a2' };
    const b = { ...els.ellipse, id: 'B', z: 'a0' };
    const c = { ...els.line, id: 'C', z: 'a1' };
    const d = { ...els.text, id: 'D', z: 'a1' };
    const order = (svg: string) => [...svg.matchAll(/data-id="([^"]+)"/g)].map((m) => m[1]);
    expect(order(renderSvg([a, b, d, c]))).toEqual(['B', 'C', 'D', 'A']);
    expect(order(renderSvg([c, a, b, d]))).toEqual(['B', 'C', 'D', 'A']);
    expect(order(renderSvg([{ ...a, z: 'Zz' }, b]))).toEqual(['A', 'B']); // fractional indexes compare as plain strings
  });

  it('gives an empty board a valid small blank image', () => {
    const svg = renderSvg([]);
    expect(checkXml(svg)).toEqual(['svg', 'rect']);
    const box = viewBox(svg);
    expect(box.maxX - box.minX).toBeGreaterThan(0);
    expect(box.maxX - box.minX).toBeLessThanOrEqual(1000);
    expect(box.maxY - box.minY).toBeLessThanOrEqual(1000);
    expect(svg).toContain('fill="#ffffff"');
  });

  it('leaves out the background when asked and escapes a given one', () => {
    const none = renderSvg([els.rectangle], { background: null });
    expect(checkXml(none)).toEqual(['svg', 'rect']);
    expect(none).not.toContain('#ffffff');
    const weird = renderSvg([], { background: '"/><script>' });
    expect(checkXml(weird)).toEqual(['svg', 'rect']);
    expect(weird).toContain('fill="&quot;/&gt;&lt;script&gt;"');
  });

  it('stays well-formed for a text made only of special characters and newlines', () => {
    const svg = renderSvg([{ ...els.text, text: `<>&'"\n<` }]);
    checkXml(svg);
    expect(svg).toContain('&lt;&gt;&amp;&apos;&quot;');
  });
});

describe('escapeXml', () => {
  it('escapes the five XML special characters and nothing else', () => {
    expect(escapeXml(`<a href="x">Tom & Jerry's</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;');
    expect(escapeXml('plain ünïcode')).toBe('plain ünïcode');
    expect(escapeXml('&amp;')).toBe('&amp;amp;');
  });
});

describe('characters XML cannot hold (stored before the schema refused them)', () => {
  const controls = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('');

  it('drops C0 controls other than tab, newline and carriage return, U+FFFE/U+FFFF and lone surrogates', () => {
    expect(escapeXml(`a${controls}b`)).toBe('a\t\n\rb');
    expect(escapeXml('x\uFFFEy\uFFFFz')).toBe('xyz');
    expect(escapeXml('lone \uD800 and \uDC00 end')).toBe('lone  and  end');
    expect(escapeXml('pair \uD83D\uDE00 kept')).toBe('pair \uD83D\uDE00 kept');
  });

  it('keeps the document well-formed for a text with \\u0001 and other controls', () => {
    const svg = renderSvg([{ ...els.text, text: `before\u0001${controls}\nafter\u0000` }]);
    checkXml(svg);
    expect(svg).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
    expect(svg).toContain('>before\t');
    expect(svg).toContain('>after</tspan>');
  });
});

describe('renderSvg with maxLength', () => {
  const many: Element[] = Array.from({ length: 50 }, (_, i) => ({ ...els.rectangle, id: `r${i}`, z: `a${String(i).padStart(2, '0')}` }));
  const full = renderSvg(many);

  it('renders as usual when the document fits', () => {
    expect(renderSvg(many, { maxLength: full.length })).toBe(full);
  });

  it('throws SvgTooLargeError when it does not fit', () => {
    expect(() => renderSvg(many, { maxLength: full.length - 1 })).toThrow(SvgTooLargeError);
    expect(() => renderSvg(many, { maxLength: 10 })).toThrow(SvgTooLargeError);
  });

  it("'keep-top' draws the topmost elements that fit, in paint order, within the length", () => {
    const half = Math.floor(full.length / 2);
    const svg = renderSvg(many, { maxLength: half, overflow: 'keep-top' });
    expect(svg.length).toBeLessThanOrEqual(half);
    checkXml(svg);
    const ids = [...svg.matchAll(/data-id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(10);
    expect(ids.length).toBeLessThan(50);
    expect(ids).toEqual(many.slice(50 - ids.length).map((e) => e.id));
    // The view still covers the whole board.
    expect(viewBox(svg)).toEqual(viewBox(full));
  });
});

describe('issue 14: rotation, alignment, fonts, labels, notes, bindings', () => {
  it('turns a rotated element about its centre', () => {
    const svg = elementToSvg({ ...els.rectangle, angle: Math.PI / 2 });
    checkXml(svg);
    expect(svg).toMatch(/^<g transform="rotate\(90 25 21\)"><rect data-id="rect1" /);
    const line = elementToSvg({ ...els.line, angle: Math.PI });
    expect(line).toMatch(/^<g transform="rotate\(180 40 20\)"><polyline /);
    const text = elementToSvg({ ...els.text, angle: -Math.PI / 4 });
    expect(text).toMatch(/<text data-id="text1" [^>]*transform="rotate\(-45 /);
    expect(elementToSvg(els.rectangle)).not.toContain('rotate');
  });

  it('aligns text lines and uses the font family', () => {
    const right = elementToSvg({ ...els.text, text: 'ab\nabcd', textAlign: 'right', fontFamily: 'mono' });
    expect(right).toContain('text-anchor="end"');
    expect(right).toContain(`font-family="${escapeXml(FONT_FAMILIES.mono)}"`);
    // Right-aligned within the block as wide as the longest line (4 characters of 0.6 em).
    expect([...right.matchAll(/<tspan x="([\d.]+)"/g)].map((m) => Number(m[1]))).toEqual([48, 48]);
    const centre = elementToSvg({ ...els.text, text: 'ab', textAlign: 'center', fontFamily: 'hand' });
    expect(centre).toContain('text-anchor="middle"');
    expect(centre).toContain('cursive');
    expect(elementToSvg(els.text)).not.toContain('text-anchor');
  });

  it('centres a label in its container, wrapped to its width, turned with it', () => {
    const box: Element = { ...els.rectangle, x: 0, y: 0, width: 120, height: 100, angle: Math.PI / 6 };
    const label: Element = { ...els.text, id: 'lab', x: 999, y: 999, text: 'one two three four five', fontSize: 10, containerId: box.id };
    const svg = renderSvg([box, label]);
    checkXml(svg);
    const text = /<text data-id="lab"[^>]*>.*?<\/text>/.exec(svg)![0];
    expect(text).toContain('text-anchor="middle"');
    expect(text).toContain('transform="rotate(30 60 50)"');
    const lines = [...text.matchAll(/<tspan x="([\d.]+)" y="([\d.]+)">([^<]*)</g)];
    expect(lines.length).toBeGreaterThan(1); // wrapped
    for (const l of lines) {
      expect(Number(l[1])).toBe(60);
      expect(l[3]!.length * 10 * 0.6).toBeLessThanOrEqual(120 - 2 * 11);
    }
    // Vertically centred: the block's middle is the box's.
    const first = Number(lines[0]![2]) - 9;
    const height = lines.length * 12.5;
    expect(first + height / 2).toBeCloseTo(50);
    // Without its container it is a free text at its own place.
    expect(renderSvg([label])).toContain('<tspan x="999"');
  });

  it('draws a note as a filled box with its text wrapped inside', () => {
    const svg = elementToSvg(els.note);
    expect(checkXml(svg)).toEqual(['g', 'rect', 'text', 'tspan', 'tspan']);
    expect(svg).toContain('fill="#fff3bf" stroke="none"');
    expect(svg).toContain('buy milk &amp;');
    expect(svg).toContain('&lt;eggs&gt;');
    expect(elementToSvg({ ...els.note, text: '' })).not.toContain('<text');
    expect(elementToSvg({ ...els.note, angle: 1 })).toMatch(/^<g transform="rotate\(57.3 560 50\)"><g data-id="note1"/);
  });

  it('draws a bound arrow end on its shape as it is now, with the head along the last segment', () => {
    const box: Element = { ...els.rectangle, x: 300, y: 0, width: 100, height: 100 };
    const arrow: Element = { ...els.arrow, x: 0, y: 0, points: [[0, 0], [50, 50], [200, 50], [200, 50]], endBinding: { elementId: box.id, fixedPoint: [0, 0.5] } };
    const svg = renderSvg([box, arrow]);
    expect(svg).toContain('<polyline points="0,0 50,50 200,50 300,50"/>');
    // Without the shape the stored points are drawn, and a repeated last point still gets a head.
    const alone = elementToSvg(arrow);
    const head = [...alone.matchAll(/<polyline points="([^"]+)"/g)][1]![1]!;
    const [l, tip, r] = pairs(head);
    expect(tip).toEqual([200, 50]);
    expect(l![0]).toBeLessThan(200);
    expect(l![1]).toBeCloseTo(100 - r![1]!);
  });
});
