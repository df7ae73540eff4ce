import { type Rectangle } from '@inkboard/protocol';
import { describe, expect, it } from 'vitest';
import { CLIPBOARD_TYPE, parseClipboard, pasteOffset, serializeClipboard, textFromPaste } from './clipboard.js';

const rect: Rectangle = { type: 'rectangle', id: 'r1', z: 'a0', x: 100, y: 50, width: 40, height: 20, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, fillColor: 'transparent' };

describe('clipboard', () => {
  it('round-trips elements through the wrapper', () => {
    const text = serializeClipboard([rect]);
    expect(JSON.parse(text)).toMatchObject({ type: CLIPBOARD_TYPE, version: 1 });
    expect(parseClipboard(text)).toEqual({ kind: 'elements', elements: [rect] });
  });
  it('leaves out elements the schema refuses, and gives nothing when none is left', () => {
    const bad = { ...rect, id: 'r2', width: 'wide' };
    expect(parseClipboard(JSON.stringify({ type: CLIPBOARD_TYPE, elements: [rect, bad] }))).toEqual({ kind: 'elements', elements: [rect] });
    expect(parseClipboard(JSON.stringify({ type: CLIPBOARD_TYPE, elements: [bad] }))).toBeNull();
  });
  it('says which board the elements were copied on (their images are read from it), when it is a board id', () => {
    expect(parseClipboard(serializeClipboard([rect], 'board_1'))).toEqual({ kind: 'elements', elements: [rect], source: 'board_1' });
    expect(parseClipboard(JSON.stringify({ type: CLIPBOARD_TYPE, source: '../../api', elements: [rect] }))).toEqual({ kind: 'elements', elements: [rect] });
  });
  it('reads anything else as text', () => {
    expect(parseClipboard('hello\nworld')).toEqual({ kind: 'text', text: 'hello\nworld' });
    expect(parseClipboard('{"type": "inkboard/clipboard", broken')).toMatchObject({ kind: 'text' });
    expect(parseClipboard('{"type":"excalidraw/clipboard"}')).toMatchObject({ kind: 'text' });
    expect(parseClipboard('   ')).toBeNull();
  });
  it('centres a paste on the pointer, or steps it down and right', () => {
    const [dx, dy] = pasteOffset([rect], { x: 0, y: 0 });
    expect(rect.x + rect.width / 2 + dx).toBeCloseTo(0, 0);
    expect(rect.y + rect.height / 2 + dy).toBeCloseTo(0, 0);
    expect(pasteOffset([rect], null)).toEqual([20, 20]);
  });
  it('makes a text element of plain text, without control characters', () => {
    const el = textFromPaste('Hi\u0007 there\r\nsecond line  \n', { x: 1.4, y: 2.6 }, { strokeColor: '#e03131', fontSize: 28 }, { id: 't1', z: 'a5' });
    expect(el).toMatchObject({ type: 'text', id: 't1', z: 'a5', x: 1, y: 3, text: 'Hi there\nsecond line', fontSize: 28, strokeColor: '#e03131' });
    expect(textFromPaste(' \n ', { x: 0, y: 0 }, { strokeColor: '#000000', fontSize: 20 }, { id: 't2', z: 'a6' })).toBeNull();
  });
});
