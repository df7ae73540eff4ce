import { describe, expect, it } from 'vitest';
import { applyOp } from './applyOp.js';
import { normalizeElement } from './builders.js';
import {
  elementInputSchema,
  elementPatchSchema,
  elementSchema,
  storedElementPatchSchema,
  storedElementSchema,
  DEFAULT_STYLE,
  LIMITS,
  missingFieldValue,
  type Element,
} from './index.js';
import { record, undo } from './history.js';

/** Elements of every kind as boards stored them before issue 14: none of the new fields. */
const style = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const old: Element[] = [
  { type: 'stroke', id: 's', x: 0, y: 0, ...style, points: [[0, 0], [5, 5]] },
  { type: 'line', id: 'l', x: 0, y: 0, ...style, points: [[0, 0], [5, 5]] },
  { type: 'arrow', id: 'a', x: 0, y: 0, ...style, points: [[0, 0], [5, 5]] },
  { type: 'rectangle', id: 'r', x: 0, y: 0, ...style, width: 10, height: 10, fillColor: 'transparent' },
  { type: 'ellipse', id: 'e', x: 0, y: 0, ...style, width: 10, height: 10, fillColor: 'transparent' },
  { type: 'text', id: 't', x: 0, y: 0, ...style, text: 'hi', fontSize: 20 },
];
const board = () => new Map(old.map((el) => [el.id, el]));

describe('fields added by issue 14', () => {
  it('boards stored before them load unchanged', () => {
    for (const el of old) {
      expect(storedElementSchema.parse(el)).toEqual(el);
      expect(elementSchema.parse(el)).toEqual(el);
    }
  });

  it('every kind takes angle, groupIds and locked; bounds are checked', () => {
    for (const el of old) {
      const full = { ...el, angle: Math.PI / 4, groupIds: ['g1', 'g2'], locked: true };
      expect(elementSchema.parse(full)).toEqual(full);
      expect(elementSchema.safeParse({ ...el, angle: 7 }).success).toBe(false);
      expect(elementSchema.safeParse({ ...el, angle: Number.NaN }).success).toBe(false);
      expect(elementSchema.safeParse({ ...el, groupIds: Array.from({ length: LIMITS.groupDepth + 1 }, (_, i) => `g${i}`) }).success).toBe(false);
      expect(elementSchema.safeParse({ ...el, groupIds: ['bad id'] }).success).toBe(false);
      expect(elementSchema.safeParse({ ...el, locked: 'yes' }).success).toBe(false);
    }
  });

  it('text takes textAlign, fontFamily and containerId; other kinds do not', () => {
    const text = { ...old[5]!, textAlign: 'center', fontFamily: 'hand', containerId: 'r' };
    expect(elementSchema.parse(text)).toEqual(text);
    expect(elementSchema.safeParse({ ...text, containerId: null }).success).toBe(true);
    expect(elementSchema.safeParse({ ...text, textAlign: 'justify' }).success).toBe(false);
    expect(elementSchema.safeParse({ ...text, fontFamily: 'comic' }).success).toBe(false);
    expect(elementSchema.safeParse({ ...old[3]!, textAlign: 'left' }).success).toBe(false);
    expect(elementSchema.safeParse({ ...old[3]!, containerId: 'x' }).success).toBe(false);
  });

  it('arrows take bindings with a normalized anchor; lines do not', () => {
    const arrow = { ...old[2]!, startBinding: { elementId: 'r', fixedPoint: [0.5, 0] }, endBinding: null };
    expect(elementSchema.parse(arrow)).toEqual(arrow);
    expect(elementSchema.safeParse({ ...arrow, endBinding: { elementId: 'r', fixedPoint: [1.5, 0] } }).success).toBe(false);
    expect(elementSchema.safeParse({ ...arrow, endBinding: { elementId: 'r' } }).success).toBe(false);
    expect(elementSchema.safeParse({ ...old[1]!, startBinding: null }).success).toBe(false);
  });

  it('a note may have empty text; a text may not', () => {
    const note = { type: 'note', id: 'n', x: 0, y: 0, ...style, width: 100, height: 100, fillColor: '#fff3bf', text: '', fontSize: 20 };
    expect(elementSchema.parse(note)).toEqual(note);
    expect(elementSchema.safeParse({ ...note, text: 'a\u0007' }).success).toBe(false);
    const after = applyOp(new Map([['n', note as Element]]), { type: 'update', opId: 'o', updates: [{ id: 'n', patch: { text: '' } }] });
    expect(after.ok).toBe(true);
    expect(applyOp(board(), { type: 'update', opId: 'o', updates: [{ id: 't', patch: { text: '' } }] }).ok).toBe(false);
  });

  it('patches carry the new fields and are checked against the kind once merged', () => {
    const patch = { angle: 1, groupIds: ['g'], locked: true };
    expect(elementPatchSchema.parse(patch)).toEqual(patch);
    expect(storedElementPatchSchema.parse({ containerId: null, startBinding: null })).toEqual({ containerId: null, startBinding: null });
    const applied = applyOp(board(), { type: 'update', opId: 'o', updates: old.map((el) => ({ id: el.id, patch })) });
    expect(applied.ok).toBe(true);
    if (applied.ok) for (const el of applied.elements.values()) expect(el).toMatchObject(patch);
    expect(applyOp(board(), { type: 'update', opId: 'o', updates: [{ id: 'r', patch: { fontFamily: 'mono' } }] }).ok).toBe(false);
    expect(applyOp(board(), { type: 'update', opId: 'o', updates: [{ id: 'l', patch: { endBinding: null } }] }).ok).toBe(false);
  });

  it('undoing a change of a new field on an old element restores what its absence meant', () => {
    const before = board();
    const op = { type: 'update' as const, opId: 'o1', updates: [
      { id: 'r', patch: { angle: 1, locked: true, groupIds: ['g'] } },
      { id: 't', patch: { textAlign: 'right' as const, fontFamily: 'mono' as const, containerId: 'r' } },
      { id: 'a', patch: { endBinding: { elementId: 'r', fixedPoint: [0, 0] as [number, number] } } },
    ] };
    const after = applyOp(before, op);
    expect(after.ok).toBe(true);
    if (!after.ok) return;
    let n = 0;
    const step = undo(record({ undo: [], redo: [] }, before, op, 'inv'), after.elements, () => `u${n++}`);
    expect(step.op).not.toBeNull();
    const back = applyOp(after.elements, step.op!);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.elements.get('r')).toMatchObject({ angle: 0, locked: false, groupIds: [] });
    expect(back.elements.get('t')).toMatchObject({ textAlign: 'left', fontFamily: 'sans', containerId: null });
    expect(back.elements.get('a')).toMatchObject({ endBinding: null });
  });

  it('missingFieldValue: a label is centred; fields of other kinds have none', () => {
    expect(missingFieldValue({ ...(old[5] as Extract<Element, { type: 'text' }>), containerId: 'r' }, 'textAlign')).toBe('center');
    expect(missingFieldValue(old[5]!, 'textAlign')).toBe('left');
    expect(missingFieldValue(old[3]!, 'textAlign')).toBeUndefined();
    expect(missingFieldValue(old[3]!, 'x')).toBeUndefined();
  });
});

describe('inputs fill every style field', () => {
  it('a text without fontSize gets the default', () => {
    const el = normalizeElement(elementInputSchema.parse({ type: 'text', x: 1, y: 2, text: 'hi' }), { id: 'i', z: 'a0' });
    expect(el).toMatchObject({ type: 'text', fontSize: DEFAULT_STYLE.fontSize, strokeColor: DEFAULT_STYLE.strokeColor });
  });

  it('a note needs only its place and size', () => {
    const el = normalizeElement(elementInputSchema.parse({ type: 'note', x: 1, y: 2, width: 150, height: 150 }), { id: 'i', z: 'a0' });
    expect(el).toEqual({
      type: 'note', id: 'i', z: 'a0', x: 1, y: 2, width: 150, height: 150, text: '', fontSize: DEFAULT_STYLE.fontSize,
      fillColor: DEFAULT_STYLE.noteColor, strokeColor: DEFAULT_STYLE.strokeColor, strokeWidth: DEFAULT_STYLE.strokeWidth, opacity: DEFAULT_STYLE.opacity,
    });
  });

  it('new fields pass through an input', () => {
    const el = normalizeElement(
      elementInputSchema.parse({ type: 'text', x: 0, y: 0, text: 'x', angle: 0.5, textAlign: 'center', fontFamily: 'hand', groupIds: ['g'], locked: true }),
      { id: 'i', z: 'a0' },
    );
    expect(el).toMatchObject({ angle: 0.5, textAlign: 'center', fontFamily: 'hand', groupIds: ['g'], locked: true });
  });
});
