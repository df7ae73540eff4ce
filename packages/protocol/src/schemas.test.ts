import { describe, expect, it } from 'vitest';
import { chatSendInput, createBoardInput, previewInput, pushInput, renameBoardInput, subscribeInput } from './api.js';
import { applyOp } from './applyOp.js';
import { createTokenInput, signUpInput, updateProfileInput } from './auth.js';
import { normalizeElement, newId } from './builders.js';
import { DEFAULT_STYLE, ELEMENT_TYPES, elementInputSchema, elementPatchSchema, elementSchema, type Element } from './elements/index.js';
import { boardEventSchema, frameSchema } from './events.js';
import { addOpSchema, clearOpSchema, deleteOpSchema, opSchema, updateOpSchema } from './ops.js';
import { idSchema, LIMITS, MAX_COORD, nameSchema, stripControlCharacters } from './primitives.js';

const style = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };

/** One valid example of every element kind. */
const examples: Record<Element['type'], Element> = {
  stroke: { type: 'stroke', id: 's1', x: 10, y: 20, ...style, points: [[0, 0, 0.5], [5, 5], [10, 3, 1]] },
  line: { type: 'line', id: 'l1', x: 0, y: 0, ...style, points: [[0, 0], [100, 50]] },
  arrow: { type: 'arrow', id: 'a1', x: -5, y: 5, ...style, points: [[0, 0], [10, 0], [10, 10]] },
  rectangle: { type: 'rectangle', id: 'r1', x: 1, y: 2, ...style, width: 30, height: 40, fillColor: 'transparent' },
  ellipse: { type: 'ellipse', id: 'e1', x: 1, y: 2, ...style, width: 30, height: 0, fillColor: '#ff000080' },
  text: { type: 'text', id: 't1', x: 3, y: 4, ...style, text: 'hello\nworld', fontSize: 16 },
  note: { type: 'note', id: 'n1', x: 3, y: 4, ...style, width: 200, height: 200, fillColor: '#fff3bf', text: 'to do', fontSize: 20 },
  image: { type: 'image', id: 'i1', x: 3, y: 4, ...style, width: 320, height: 240, fileId: 'abababababababababababababababababababababababababababababababab', naturalWidth: 640, naturalHeight: 480 },
};

const rejects = (el: unknown) => expect(elementSchema.safeParse(el).success).toBe(false);

describe('element schemas', () => {
  it('has an example for every element type', () => {
    expect(Object.keys(examples).sort()).toEqual([...ELEMENT_TYPES].sort());
  });

  describe.each(ELEMENT_TYPES)('%s', (type) => {
    const valid = examples[type];

    it('accepts a valid example unchanged', () => {
      expect(elementSchema.parse(valid)).toEqual(valid);
    });

    it.each([
      ['NaN x', { x: Number.NaN }],
      ['Infinity y', { y: Number.POSITIVE_INFINITY }],
      ['-Infinity x', { x: Number.NEGATIVE_INFINITY }],
      ['huge x', { x: MAX_COORD + 1 }],
      ['huge negative y', { y: -MAX_COORD - 1 }],
      ['string coordinate', { x: '10' }],
      ['unknown key', { rotation: 45 }],
      ['bad colour word', { strokeColor: 'red' }],
      ['short hex colour', { strokeColor: '#fff' }],
      ['hex colour without #', { strokeColor: '1e1e1e' }],
      ['non-hex colour', { strokeColor: '#gggggg' }],
      ['seven hex digits', { strokeColor: '#1e1e1e1' }],
      ['colour with trailing markup', { strokeColor: '#1e1e1e"/><script>' }],
      ['colour with leading text', { strokeColor: 'x#1e1e1e' }],
      ['id with space', { id: 'a b' }],
      ['id with slash', { id: 'a/b' }],
      ['id with unicode', { id: 'élément' }],
      ['empty id', { id: '' }],
      ['too long id', { id: 'x'.repeat(LIMITS.idLength + 1) }],
      ['empty z', { z: '' }],
      ['z with punctuation', { z: 'a-0' }],
      ['stroke width 0', { strokeWidth: 0 }],
      ['opacity above 1', { opacity: 1.5 }],
    ])('rejects %s', (_name, change) => {
      rejects({ ...valid, ...change });
    });

    it('rejects a missing required field', () => {
      const { x: _x, ...withoutX } = valid;
      rejects(withoutX);
    });

    it('accepts coordinates at the limit and the longest id', () => {
      expect(elementSchema.safeParse({ ...valid, x: MAX_COORD, y: -MAX_COORD, id: 'A'.repeat(LIMITS.idLength) }).success).toBe(true);
    });
  });

  it('accepts #rrggbbaa colours in either case', () => {
    expect(elementSchema.safeParse({ ...examples.line, strokeColor: '#AABBCCDD' }).success).toBe(true);
  });

  it('rejects an unknown element type', () => {
    rejects({ ...examples.rectangle, type: 'triangle' });
  });

  it('requires strokes to have points in range', () => {
    rejects({ ...examples.stroke, points: [] });
    rejects({ ...examples.stroke, points: [[0, Number.NaN]] });
    rejects({ ...examples.stroke, points: [[0, 0, 2]] }); // pressure above 1
    rejects({ ...examples.stroke, points: [[0, 0, 0.5, 1]] }); // too many members
    rejects({ ...examples.stroke, points: [[0]] });
    expect(elementSchema.safeParse({ ...examples.stroke, points: [[0, 0]] }).success).toBe(true);
  });

  it.each(['line', 'arrow'] as const)('requires a %s to have at least two 2D points', (type) => {
    rejects({ ...examples[type], points: [[0, 0]] });
    rejects({ ...examples[type], points: [] });
    rejects({ ...examples[type], points: [[0, 0], [1, 1, 0.5]] });
    rejects({ ...examples[type], points: Array.from({ length: LIMITS.pointsPerLine + 1 }, (_, i) => [i, i]) });
  });

  it('rejects negative and huge rectangle / ellipse sizes and bad fills', () => {
    for (const type of ['rectangle', 'ellipse'] as const) {
      rejects({ ...examples[type], width: -1 });
      rejects({ ...examples[type], height: 2 * MAX_COORD + 1 });
      rejects({ ...examples[type], fillColor: 'none' });
      rejects({ ...examples[type], fillColor: undefined });
    }
  });

  it('rejects empty, too long or badly sized text', () => {
    rejects({ ...examples.text, text: '' });
    rejects({ ...examples.text, text: 'x'.repeat(LIMITS.textLength + 1) });
    rejects({ ...examples.text, fontSize: 3 });
    rejects({ ...examples.text, fontSize: 401 });
    expect(elementSchema.safeParse({ ...examples.text, text: ' ' }).success).toBe(true);
  });

  it('does not accept fields of another kind', () => {
    rejects({ ...examples.line, fillColor: '#000000' });
    rejects({ ...examples.stroke, width: 10 });
    rejects({ ...examples.rectangle, text: 'hi' });
  });
});

describe('idSchema and newId', () => {
  it('accepts URL-safe ids only', () => {
    expect(idSchema.safeParse('abc_DEF-123').success).toBe(true);
    expect(idSchema.safeParse('abc.def').success).toBe(false);
    expect(idSchema.safeParse('abc\n').success).toBe(false);
  });

  it('newId makes valid, distinct ids of the requested length', () => {
    const ids = new Set(Array.from({ length: 200 }, () => newId()));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(idSchema.safeParse(id).success).toBe(true);
    expect(newId(8)).toHaveLength(8);
  });
});

describe('elementInputSchema and normalizeElement', () => {
  it('accepts an element without id, z and style, and normalizeElement fills them', () => {
    const input = elementInputSchema.parse({ type: 'rectangle', x: 5, y: 6, width: 10, height: 20 });
    expect(input).not.toHaveProperty('id');
    const el = normalizeElement(input, { id: 'gen1', z: 'a5' });
    expect(el).toEqual({
      type: 'rectangle',
      id: 'gen1',
      z: 'a5',
      x: 5,
      y: 6,
      width: 10,
      height: 20,
      strokeColor: DEFAULT_STYLE.strokeColor,
      strokeWidth: DEFAULT_STYLE.strokeWidth,
      opacity: DEFAULT_STYLE.opacity,
      fillColor: DEFAULT_STYLE.fillColor,
    });
    expect(elementSchema.safeParse(el).success).toBe(true);
  });

  it('keeps values the input gives and adds no fill to kinds without one', () => {
    const input = elementInputSchema.parse({ type: 'line', id: 'mine', x: 0, y: 0, strokeColor: '#ff0000', points: [[0, 0], [1, 1]] });
    const el = normalizeElement(input, { id: 'ignored', z: 'a0' });
    expect(el).toMatchObject({ id: 'mine', strokeColor: '#ff0000', strokeWidth: 2, z: 'a0' });
    expect(el).not.toHaveProperty('fillColor');
  });

  it('still validates everything else', () => {
    expect(elementInputSchema.safeParse({ type: 'text', x: 0, y: 0, text: '', fontSize: 12 }).success).toBe(false);
    expect(elementInputSchema.safeParse({ type: 'text', x: 0, y: 0, fontSize: 12 }).success).toBe(false);
    expect(elementInputSchema.safeParse({ type: 'line', x: 0, y: 0, points: [[0, 0]] }).success).toBe(false);
    expect(elementInputSchema.safeParse({ type: 'rectangle', x: 0, y: 0, width: 1, height: 1, extra: 1 }).success).toBe(false);
    expect(elementInputSchema.safeParse({ type: 'rectangle', x: 0, y: 0, width: 1, height: 1, id: 'bad id' }).success).toBe(false);
  });

  it('normalizeElement throws when the defaults are invalid', () => {
    const input = elementInputSchema.parse({ type: 'ellipse', x: 0, y: 0, width: 1, height: 1 });
    expect(() => normalizeElement(input, { id: 'has space', z: 'a0' })).toThrow();
  });
});

describe('elementPatchSchema', () => {
  it('accepts a partial patch and rejects empty, unknown or frozen keys', () => {
    expect(elementPatchSchema.safeParse({ x: 1 }).success).toBe(true);
    expect(elementPatchSchema.safeParse({ text: 'new', fontSize: 20 }).success).toBe(true);
    expect(elementPatchSchema.safeParse({}).success).toBe(false);
    expect(elementPatchSchema.safeParse({ id: 'other' }).success).toBe(false);
    expect(elementPatchSchema.safeParse({ type: 'ellipse' }).success).toBe(false);
    expect(elementPatchSchema.safeParse({ rotation: 1 }).success).toBe(false);
    expect(elementPatchSchema.safeParse({ x: Number.NaN }).success).toBe(false);
  });
});

describe('op schemas', () => {
  it('accepts each op kind', () => {
    expect(opSchema.parse({ type: 'add', opId: 'o1', elements: [examples.rectangle, examples.text] }).type).toBe('add');
    expect(opSchema.parse({ type: 'update', opId: 'o2', updates: [{ id: 'r1', patch: { x: 3 } }] }).type).toBe('update');
    expect(opSchema.parse({ type: 'delete', opId: 'o3', ids: ['r1', 'gone'] }).type).toBe('delete');
    expect(opSchema.parse({ type: 'clear', opId: 'o4' }).type).toBe('clear');
  });

  it.each([
    ['add without elements', addOpSchema, { type: 'add', opId: 'o', elements: [] }],
    ['add with an invalid element', addOpSchema, { type: 'add', opId: 'o', elements: [{ ...examples.line, points: [[0, 0]] }] }],
    ['add without opId', addOpSchema, { type: 'add', elements: [examples.line] }],
    ['add with a bad opId', addOpSchema, { type: 'add', opId: 'o p', elements: [examples.line] }],
    ['update without updates', updateOpSchema, { type: 'update', opId: 'o', updates: [] }],
    ['update with an empty patch', updateOpSchema, { type: 'update', opId: 'o', updates: [{ id: 'r1', patch: {} }] }],
    ['update changing the id', updateOpSchema, { type: 'update', opId: 'o', updates: [{ id: 'r1', patch: { id: 'r2' } }] }],
    ['update with unknown key', updateOpSchema, { type: 'update', opId: 'o', updates: [{ id: 'r1', patch: { x: 1 }, extra: 1 }] }],
    ['delete without ids', deleteOpSchema, { type: 'delete', opId: 'o', ids: [] }],
    ['delete with bad id', deleteOpSchema, { type: 'delete', opId: 'o', ids: ['a b'] }],
    ['clear with extra key', clearOpSchema, { type: 'clear', opId: 'o', ids: ['x'] }],
  ] as const)('rejects %s', (_name, schema, value) => {
    expect(schema.safeParse(value).success).toBe(false);
    expect(opSchema.safeParse(value).success).toBe(false);
  });

  it('limits the number of elements per add', () => {
    const elements = Array.from({ length: LIMITS.elementsPerOp + 1 }, (_, i) => ({ ...examples.line, id: `l${i}` }));
    expect(addOpSchema.safeParse({ type: 'add', opId: 'o', elements }).success).toBe(false);
    expect(addOpSchema.safeParse({ type: 'add', opId: 'o', elements: elements.slice(1) }).success).toBe(true);
  });
});

describe('procedure inputs', () => {
  const op = { type: 'clear', opId: 'o1' };

  it('pushInput', () => {
    expect(pushInput.safeParse({ boardId: 'b1', ops: [op] }).success).toBe(true);
    expect(pushInput.safeParse({ boardId: 'b1', ops: [] }).success).toBe(false);
    expect(pushInput.safeParse({ boardId: 'b 1', ops: [op] }).success).toBe(false);
    expect(pushInput.safeParse({ boardId: 'b1', ops: [op], extra: true }).success).toBe(false);
    expect(pushInput.safeParse({ boardId: 'b1', ops: [{ type: 'clear' }] }).success).toBe(false);
    const many = Array.from({ length: LIMITS.opsPerPush + 1 }, (_, i) => ({ type: 'clear', opId: `o${i}` }));
    expect(pushInput.safeParse({ boardId: 'b1', ops: many }).success).toBe(false);
    expect(pushInput.safeParse({ boardId: 'b1', ops: many.slice(1) }).success).toBe(true);
  });

  it('subscribeInput', () => {
    expect(subscribeInput.safeParse({ boardId: 'b1' }).success).toBe(true);
    expect(subscribeInput.safeParse({ boardId: 'b1', lastEventId: null }).success).toBe(true);
    expect(subscribeInput.safeParse({ boardId: 'b1', lastEventId: '42' }).success).toBe(true);
    expect(subscribeInput.safeParse({ boardId: 'b1', lastEventId: 42 }).success).toBe(false);
    expect(subscribeInput.safeParse({ boardId: 'b1', lastEventId: '-1' }).success).toBe(false);
    expect(subscribeInput.safeParse({ boardId: 'b1', lastEventId: '4.2' }).success).toBe(false);
    expect(subscribeInput.safeParse({ boardId: 'b1', lastEventId: '' }).success).toBe(false);
    expect(subscribeInput.safeParse({ boardId: 'b1', lastEventId: '1'.repeat(16) }).success).toBe(false);
  });

  it('previewInput', () => {
    expect(previewInput.safeParse({ boardId: 'b1', elementId: 's1', element: examples.stroke }).success).toBe(true);
    expect(previewInput.safeParse({ boardId: 'b1', elementId: 's1', append: [[1, 2], [3, 4, 0.5]] }).success).toBe(true);
    expect(previewInput.safeParse({ boardId: 'b1', elementId: 's1', done: true }).success).toBe(true);
    expect(previewInput.safeParse({ boardId: 'b1', elementId: 's1' }).success).toBe(false);
    expect(previewInput.safeParse({ boardId: 'b1', elementId: 's1', done: false }).success).toBe(false);
    expect(previewInput.safeParse({ boardId: 'b1', elementId: 's1', append: [[Number.NaN, 0]] }).success).toBe(false);
    expect(previewInput.safeParse({ boardId: 'b1', elementId: 's 1', done: true }).success).toBe(false);
    expect(previewInput.safeParse({ boardId: 'b1', elementId: 's1', element: { ...examples.stroke, points: [] } }).success).toBe(false);
  });

  it('chatSendInput trims and bounds the text', () => {
    expect(chatSendInput.parse({ boardId: 'b1', text: '  hi  ' }).text).toBe('hi');
    expect(chatSendInput.safeParse({ boardId: 'b1', text: '   ' }).success).toBe(false);
    expect(chatSendInput.safeParse({ boardId: 'b1', text: '' }).success).toBe(false);
    expect(chatSendInput.safeParse({ boardId: 'b1', text: 'x'.repeat(LIMITS.chatLength) }).success).toBe(true);
    expect(chatSendInput.safeParse({ boardId: 'b1', text: 'x'.repeat(LIMITS.chatLength + 1) }).success).toBe(false);
    expect(chatSendInput.safeParse({ boardId: 'b1', text: 'hi', user: 'me' }).success).toBe(false);
  });
});

describe('boardEventSchema and frameSchema', () => {
  const user = { id: 'u1', name: 'Alice', color: '#ff0000' };
  const sample = {
    seq: 3,
    events: [
      { type: 'snapshot', seq: 1, elements: [examples.rectangle] },
      { type: 'op', seq: 2, author: { id: 'u1', name: 'Alice' }, op: { type: 'add', opId: 'o1', elements: [examples.line] } },
      { type: 'op', seq: 3, author: { id: 'u1', name: 'Alice' }, op: { type: 'delete', opId: 'o2', ids: ['r1'] } },
      { type: 'presence', clients: [{ clientId: 'c1', user }] },
      { type: 'join', client: { clientId: 'c2', user: { ...user, id: 'u2', name: 'Bob' } } },
      { type: 'leave', clientId: 'c2' },
      { type: 'cursor', clientId: 'c1', x: 10, y: -20 },
      { type: 'preview', clientId: 'c1', elementId: 's9', append: [[1, 1]] },
      { type: 'chat', message: { id: 1, boardId: 'b1', user, text: 'hi', createdAt: 1_700_000_000_000 } },
      { type: 'typing', clientId: 'c1', user },
    ],
  };

  it('parses a sample frame with every event type', () => {
    const frame = frameSchema.parse(sample);
    expect(frame.seq).toBe(3);
    expect(frame.events.map((e) => e.type)).toEqual(sample.events.map((e) => e.type));
    expect(frame).toEqual(sample);
  });

  it('rejects broken events and frames', () => {
    expect(boardEventSchema.safeParse({ type: 'explode' }).success).toBe(false);
    expect(boardEventSchema.safeParse({ type: 'op', seq: 0, author: { id: 'u', name: 'A' }, op: { type: 'clear', opId: 'o' } }).success).toBe(false);
    expect(boardEventSchema.safeParse({ type: 'cursor', clientId: 'c', x: Number.POSITIVE_INFINITY, y: 0 }).success).toBe(false);
    expect(boardEventSchema.safeParse({ type: 'snapshot', seq: 1, elements: [{ ...examples.text, text: '' }] }).success).toBe(false);
    expect(boardEventSchema.safeParse({ type: 'join', client: { clientId: 'c', user: { ...user, color: 'blue' } } }).success).toBe(false);
    expect(frameSchema.safeParse({ seq: -1, events: [] }).success).toBe(false);
    expect(frameSchema.safeParse({ seq: 1.5, events: [] }).success).toBe(false);
    expect(frameSchema.safeParse({ seq: 1 }).success).toBe(false);
    expect(frameSchema.safeParse({ seq: 0, events: [] }).success).toBe(true);
  });
});

describe('control characters', () => {
  /** C0 controls but tab and newline, DEL, C1 controls, lone surrogates, and terminal escapes built from them. */
  const controls = ['\u0000', '\u0001', '\u0007', '\r', '\u000b', '\u000c', '\u001b', '\u001b]0;pwned\u0007', '\u001b[2J', '\u007f', '\u0080', '\u009b', '\u009f', '\ud800', '\udfff', 'a\ud83d'];
  const firstIssue = (r: { success: boolean; error?: { issues: { message: string; path: PropertyKey[] }[] } }) => r.error?.issues[0];
  const textOf = (text: string) => ({ ...examples.text, text });

  it.each(controls.map((c) => [JSON.stringify(c), c]))('refuses %s in every free-text field, saying why', (_label, c) => {
    const inputs: [string, { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string; path: PropertyKey[] }[] } } }, unknown][] = [
      ['text element', elementSchema, textOf(`say ${c} hi`)],
      ['text patch', elementPatchSchema, { text: `say ${c} hi` }],
      ['pushed text', pushInput, { boardId: 'b1', ops: [{ type: 'add', opId: 'o1', elements: [textOf(`say ${c} hi`)] }] }],
      ['previewed text', previewInput, { boardId: 'b1', elementId: 't1', element: textOf(`say ${c} hi`) }],
      ['chat', chatSendInput, { boardId: 'b1', text: `say ${c} hi` }],
      ['new board title', createBoardInput, { title: `Plan ${c} B` }],
      ['renamed title', renameBoardInput, { boardId: 'b1', title: `Plan ${c} B` }],
      ['display name', nameSchema, `Ann ${c} Lee`],
      ['sign-up name', signUpInput, { username: 'ann', password: 'long enough', name: `Ann ${c} Lee` }],
      ['profile name', updateProfileInput, { name: `Ann ${c} Lee` }],
      ['token name', createTokenInput, { name: `ci ${c} token` }],
    ];
    for (const [what, schema, input] of inputs) {
      const result = schema.safeParse(input);
      expect(result.success, what).toBe(false);
      expect(firstIssue(result)?.message, what).toMatch(/^must not contain control characters \(U\+[0-9A-F]{4} at position \d+\); remove it/);
    }
  });

  it('points at the field and the character', () => {
    const result = pushInput.safeParse({ boardId: 'b1', ops: [{ type: 'add', opId: 'o1', elements: [textOf('ok\u0001')] }] });
    expect(firstIssue(result)?.path).toEqual(['ops', 0, 'elements', 0, 'text']);
    expect(firstIssue(result)?.message).toContain('U+0001 at position 3');
  });

  it('accepts newlines and tabs in texts and chat, and any printable Unicode everywhere', () => {
    expect(elementSchema.safeParse(textOf('line one\n\tindented\nüñí 漢字 😀 مرحبا \u202e')).success).toBe(true);
    expect(chatSendInput.safeParse({ boardId: 'b1', text: 'two\nlines\twith a tab 😀' }).success).toBe(true);
    expect(nameSchema.safeParse('Zoë 😀 漢字').success).toBe(true);
    expect(createBoardInput.safeParse({ title: 'Plan «B» — 2027 😀' }).success).toBe(true);
  });

  it('refuses line breaks, tabs and bidi overrides in names and titles (one line), but trims them at the ends', () => {
    for (const bad of ['Ann\nLee', 'Ann\tLee', 'Ann\u2028Lee', 'Ann\u202eeeL', 'Ann\u2066Lee']) {
      const result = nameSchema.safeParse(bad);
      expect(result.success, JSON.stringify(bad)).toBe(false);
      expect(firstIssue(result)?.message).toMatch(/^must be one line without (line breaks or tabs|bidirectional text controls) \(U\+/);
      expect(createBoardInput.safeParse({ title: bad }).success, JSON.stringify(bad)).toBe(false);
    }
    expect(nameSchema.parse('\n Ann \t')).toBe('Ann');
  });

  it('still reads stored data that predates the rules: snapshots, op events, chat and names', () => {
    const old = textOf('old \u0001 text');
    const frame = {
      seq: 3,
      events: [
        { type: 'snapshot', seq: 1, elements: [old] },
        { type: 'op', seq: 2, author: { id: 'u1', name: 'Ann\u001b[2J' }, op: { type: 'add', opId: 'o1', elements: [{ ...old, id: 't2' }] } },
        { type: 'op', seq: 3, author: { id: 'u1', name: 'Ann' }, op: { type: 'update', opId: 'o2', updates: [{ id: 't1', patch: { text: 'x\u0007' } }] } },
        { type: 'chat', message: { id: 1, boardId: 'b1', user: { id: 'u1', name: 'Ann\u0007', color: '#ff0000' }, text: 'bell\u0007', createdAt: 1 } },
      ],
    };
    expect(frameSchema.parse(frame)).toEqual(frame);
  });

  it('an old text element stays editable: moving it merges, a new control character in a patch is refused at the input', () => {
    const elements = new Map([['t1', textOf('old \u0001 text') as Element]]);
    const moved = applyOp(elements, { type: 'update', opId: 'o1', updates: [{ id: 't1', patch: { x: 50 } }] });
    expect(moved.ok).toBe(true);
    if (moved.ok) expect(moved.elements.get('t1')).toMatchObject({ x: 50, text: 'old \u0001 text' });
    const fixed = applyOp(elements, { type: 'update', opId: 'o2', updates: [{ id: 't1', patch: { text: 'new text' } }] });
    expect(fixed.ok && fixed.elements.get('t1')).toMatchObject({ text: 'new text' });
    expect(elementPatchSchema.safeParse({ text: 'again \u0001' }).success).toBe(false);
  });
});

describe('stripControlCharacters', () => {
  it('removes exactly what the rules refuse, so the result passes them', () => {
    const dirty = 'a\u0001b\r\nc\u001b[2J\u007f\u0085\ud800 d\te\u202ef';
    expect(stripControlCharacters(dirty)).toBe('ab\nc[2J d\te\u202ef');
    expect(stripControlCharacters(dirty, true)).toBe('ab c[2J d ef');
    expect(elementSchema.safeParse({ ...examples.text, text: stripControlCharacters(dirty) }).success).toBe(true);
    expect(nameSchema.safeParse(stripControlCharacters('Ann\u0000\nLee\u2066', true)).success).toBe(true);
    expect(stripControlCharacters('Zoë 😀 漢字\nok')).toBe('Zoë 😀 漢字\nok');
  });
});

describe('event users', () => {
  it('never carry a username: the user and op author schemas are strict', () => {
    const withUsername = { id: 'u1', name: 'Ann', color: '#ff0000', username: 'ann.lee' };
    expect(boardEventSchema.safeParse({ type: 'typing', clientId: 'c1', user: withUsername }).success).toBe(false);
    expect(boardEventSchema.safeParse({ type: 'join', client: { clientId: 'c1', user: withUsername } }).success).toBe(false);
    expect(boardEventSchema.safeParse({ type: 'op', seq: 1, author: { id: 'u1', name: 'Ann', username: 'ann.lee' }, op: { type: 'clear', opId: 'o1' } }).success).toBe(false);
    expect(boardEventSchema.safeParse({ type: 'op', seq: 1, author: { id: 'u1', name: 'Ann' }, op: { type: 'clear', opId: 'o1' } }).success).toBe(true);
  });
});
