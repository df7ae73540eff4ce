import { describe, expect, it } from 'vitest';
import { versionKey, type VersionKeyState } from './keys.js';

const key = (k: string, extra: Partial<{ code: string; ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }> = {}) => ({
  key: k,
  code: extra.code ?? '',
  ctrlKey: extra.ctrlKey ?? false,
  metaKey: extra.metaKey ?? false,
  shiftKey: extra.shiftKey ?? false,
  altKey: extra.altKey ?? false,
  target: null,
});
const closed: VersionKeyState = { open: false, previewing: false, boardUsesEscape: false };
const open: VersionKeyState = { open: true, previewing: false, boardUsesEscape: false };
const previewing: VersionKeyState = { open: true, previewing: true, boardUsesEscape: false };

describe('versionKey', () => {
  it('toggles the panel with Ctrl+Shift+H (Cmd on a Mac)', () => {
    expect(versionKey(closed, key('H', { ctrlKey: true, shiftKey: true }))).toEqual({ outcome: 'taken', action: 'toggle' });
    expect(versionKey(open, key('h', { metaKey: true, shiftKey: true }))).toEqual({ outcome: 'taken', action: 'toggle' });
    expect(versionKey(closed, key('h'))).toEqual({ outcome: 'board', action: null }); // the Hand tool
  });

  it('Escape ends the preview first, then closes the panel, unless the board needs it', () => {
    expect(versionKey(previewing, key('Escape')).action).toBe('end-preview');
    expect(versionKey(open, key('Escape')).action).toBe('close');
    expect(versionKey({ ...open, boardUsesEscape: true }, key('Escape'))).toEqual({ outcome: 'board', action: null });
    expect(versionKey(closed, key('Escape'))).toEqual({ outcome: 'board', action: null });
  });

  it('lets only the camera keys reach the board during a preview', () => {
    expect(versionKey(previewing, key('z', { ctrlKey: true })).outcome).toBe('ignored');
    expect(versionKey(previewing, key('Delete')).outcome).toBe('ignored');
    expect(versionKey(previewing, key('r')).outcome).toBe('ignored');
    expect(versionKey(previewing, key('a', { ctrlKey: true })).outcome).toBe('ignored');
    expect(versionKey(previewing, key('=', { ctrlKey: true })).outcome).toBe('board');
    expect(versionKey(previewing, key('!', { shiftKey: true, code: 'Digit1' })).outcome).toBe('board');
    expect(versionKey(previewing, key(' ')).outcome).toBe('board');
    expect(versionKey(open, key('z', { ctrlKey: true })).outcome).toBe('board');
  });
});
