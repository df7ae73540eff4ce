import { describe, expect, it } from 'vitest';
import { table, terminalJson, terminalSafe } from './format.js';

const ESC = '\u001b';

describe('terminalSafe', () => {
  it.each([
    ['OSC title with BEL', `a${ESC}]0;pwned\u0007b`, 'ab'],
    ['OSC 8 link with ST', `${ESC}]8;;https://evil.example${ESC}\\click${ESC}]8;;${ESC}\\`, 'click'],
    ['OSC 52 clipboard write', `x${ESC}]52;c;ZXZpbA==\u0007y`, 'xy'],
    ['CSI clear screen', `a${ESC}[2Jb`, 'ab'],
    ['CSI colour', `${ESC}[1;31mred${ESC}[0m`, 'red'],
    ['8-bit CSI', 'a\u009b31mb', 'ab'],
    ['8-bit OSC', 'a\u009d0;t\u009cb', 'ab'],
    ['DCS', `a${ESC}Pq#0;2;0;0;0${ESC}\\b`, 'ab'],
    ['unterminated OSC runs to the end', `keep${ESC}]0;rest of it`, 'keep'],
    ['ESC with one character', `a${ESC}cb`, 'ab'],
    ['other controls', 'a\u0000\u0007\u0008\u007f\u0085b', 'ab'],
    ['bidi override', 'abc\u202edef', 'abcdef'],
    ['lone surrogate', 'a\ud800b', 'ab'],
  ])('strips %s', (_what, input, expected) => {
    expect(terminalSafe(input)).toBe(expected);
  });

  it('keeps printable Unicode; one line unless multiline', () => {
    expect(terminalSafe('Zoë 漢字 😀 مرحبا')).toBe('Zoë 漢字 😀 مرحبا');
    expect(terminalSafe('two\nlines\r\nand\ttab')).toBe('two lines and tab');
    expect(terminalSafe('two\nlines\r\nand\ttab', true)).toBe('two\nlines\nand\ttab');
  });

  it('table cells are safe and aligned by what is shown', () => {
    expect(table([['A', 'B'], [`x${ESC}[2Jy`, 'z']])).toBe('A   B\nxy  z');
  });
});

describe('terminalJson', () => {
  it('escapes DEL, C1 and bidi controls (C0 are escaped by JSON itself) and stays valid JSON', () => {
    const data = { title: `a${ESC}]0;t\u0007 \u009b31m \u007f \u202e` };
    const text = terminalJson(data, 2);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/u); // only the indentation newlines
    expect(JSON.parse(text)).toEqual(data);
  });
});
