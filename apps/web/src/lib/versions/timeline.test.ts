import type { Element, Rectangle, Version } from '@inkboard/protocol';
import { describe, expect, it } from 'vitest';
import { appendOlder, authorColor, authorsLine, highlightedElements, mergeNewest, screenOutline } from './timeline.js';

const version = (fromSeq: number, toSeq: number, authorId = 'u1'): Version => ({
  fromSeq,
  toSeq,
  authorId,
  authorName: authorId,
  startedAt: fromSeq * 1000,
  endedAt: toSeq * 1000,
  opCount: toSeq - fromSeq + 1,
  summary: { text: 'added 1 stroke', counts: [] },
  changedIds: [],
  names: [],
});
const seqs = (vs: Version[]) => vs.map((v) => `${v.fromSeq}-${v.toSeq}`);
const rect = (id: string, extra: Partial<Rectangle> = {}): Rectangle => ({
  type: 'rectangle', id, z: 'a0', x: 10, y: 20, width: 100, height: 50, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, fillColor: 'transparent', ...extra,
});

describe('timeline pages', () => {
  it('a fresh first page replaces the newest versions and keeps the older pages', () => {
    const loaded = [version(8, 10, 'b'), version(4, 7, 'a'), version(1, 3, 'b')];
    // b went on drawing (8..12) and a drew after (13..14).
    expect(seqs(mergeNewest(loaded, [version(13, 14, 'a'), version(8, 12, 'b')], false)!)).toEqual(['13-14', '8-12', '4-7', '1-3']);
    expect(seqs(mergeNewest(loaded, [version(8, 10, 'b'), version(4, 7, 'a'), version(1, 3, 'b')], true)!)).toEqual(['8-10', '4-7', '1-3']);
    // A page of only new versions that ends right after the loaded ones.
    expect(seqs(mergeNewest(loaded, [version(12, 12, 'a'), version(11, 11, 'b')], false)!)).toEqual(['12-12', '11-11', '8-10', '4-7', '1-3']);
    expect(mergeNewest(loaded, [], true)).toEqual([]);
  });

  it('drops the loaded versions when more than a page came since (the ones between are unknown)', () => {
    const loaded = [version(8, 10, 'b'), version(4, 7, 'a')];
    expect(mergeNewest(loaded, [version(40, 40, 'a'), version(39, 39, 'b')], false)).toBeNull();
    // The last page reaches the start of the board: nothing is missing.
    expect(seqs(mergeNewest(loaded, [version(40, 40, 'a'), version(39, 39, 'b')], true)!)).toEqual(['40-40', '39-39', '8-10', '4-7']);
  });

  it('an older page is appended without repeats', () => {
    const loaded = [version(8, 10), version(4, 7, 'b')];
    expect(seqs(appendOlder(loaded, [version(4, 7, 'b'), version(1, 3)]))).toEqual(['8-10', '4-7', '1-3']);
    expect(seqs(appendOlder([], [version(1, 3)]))).toEqual(['1-3']);
  });
});

describe('authorColor', () => {
  it('is the person’s own colour when known, else a stable one', () => {
    expect(authorColor('u1', new Map([['u1', '#123456']]))).toBe('#123456');
    const made = authorColor('someone', new Map());
    expect(made).toMatch(/^#[0-9a-f]{6}$/);
    expect(authorColor('someone', new Map())).toBe(made);
  });
});

describe('highlightedElements', () => {
  it('outlines the changed elements that exist at the version’s end, once each', () => {
    const state = new Map<string, Element>([['a', rect('a')], ['b', rect('b')]]);
    expect(highlightedElements(['a', 'gone', 'a', 'b'], state).map((el) => el.id)).toEqual(['a', 'b']);
    expect(highlightedElements([], state)).toEqual([]);
  });
});

describe('screenOutline', () => {
  it('is the element’s box on screen, padded', () => {
    // Camera at (0, 10), zoom 2: the box (10, 20)-(110, 70) is (20, 20)-(220, 120) on screen; 4 px around.
    expect(screenOutline(rect('a'), { x: 0, y: 10, zoom: 2 })).toBe('16,16 224,16 224,124 16,124');
  });
});

describe('authorsLine', () => {
  const now = 10_000_000;
  it('says who created and who last changed an element', () => {
    expect(authorsLine({ createdBy: { id: 'u1', name: 'alice', at: now - 3 * 60_000, seq: 3 }, changedBy: { id: 'u2', name: 'bob', at: now - 5_000, seq: 9 } }, now)).toBe(
      'Created by alice, 3 minutes ago · Changed by bob, just now',
    );
  });
  it('leaves out a change that was the creation, and a creation no longer in the history', () => {
    const created = { id: 'u1', name: 'alice', at: now, seq: 3 };
    expect(authorsLine({ createdBy: created, changedBy: created }, now)).toBe('Created by alice, just now');
    expect(authorsLine({ changedBy: { ...created, seq: 7 } }, now)).toBe('Changed by alice, just now');
    expect(authorsLine({}, now)).toBe('');
  });
});
