import { DEFAULT_STYLE, newId, type Note } from '@inkboard/protocol';
import { round2, type Tool, type ToolHost } from './types.js';

/** The side of a new sticky note, in world units. */
export const NOTE_SIZE = 200;

/**
 * Sticky note: a click places a pale yellow square note centred on the pointer and opens the text
 * overlay on it (`open`); it is stored with its text when typing ends, and previewed to others meanwhile.
 */
export function noteTool(host: ToolHost, open: (note: Note) => void): Tool {
  return {
    down() {},
    move() {},
    up(p) {
      const { strokeColor, fontSize, textAlign, fontFamily } = host.style;
      const note: Note = {
        type: 'note',
        id: newId(),
        z: host.nextZ(),
        x: round2(p.x - NOTE_SIZE / 2),
        y: round2(p.y - NOTE_SIZE / 2),
        width: NOTE_SIZE,
        height: NOTE_SIZE,
        strokeColor,
        strokeWidth: 1,
        opacity: 1,
        fillColor: DEFAULT_STYLE.noteColor,
        text: '',
        fontSize,
      };
      if (textAlign !== 'left') note.textAlign = textAlign;
      if (fontFamily !== 'sans') note.fontFamily = fontFamily;
      host.preview.update(note);
      open(note);
    },
    cancel() {},
  };
}
