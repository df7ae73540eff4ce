import type { ToolName } from '../tools/types.js';
import { arrangeSelection, duplicateSelection, nudgeSelection, zoomToSelection } from './actions.js';
import { groupSelection, toggleSelectionLock, ungroupSelection } from './grouping.js';
import type { Editor } from './Editor.svelte.js';
import { editSelectedText } from './labels.js';

/** Excalidraw's tool keys: a letter and a digit each. */
export const TOOL_KEYS: Record<ToolName, { key: string; digit?: string }> = {
  select: { key: 'v', digit: '1' },
  hand: { key: 'h' },
  rectangle: { key: 'r', digit: '2' },
  ellipse: { key: 'o', digit: '4' },
  note: { key: 'n' },
  arrow: { key: 'a', digit: '5' },
  line: { key: 'l', digit: '6' },
  pen: { key: 'p', digit: '7' },
  text: { key: 't', digit: '8' },
  eraser: { key: 'e', digit: '0' },
  laser: { key: 'k' },
};

const byKey = new Map<string, ToolName>();
for (const [tool, { key, digit }] of Object.entries(TOOL_KEYS) as [ToolName, { key: string; digit?: string }][]) {
  byKey.set(key, tool);
  if (digit) byKey.set(digit, tool);
}

/** Arrow keys nudge the selection by a pixel (Shift: ten). */
const NUDGES: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

function typingInField(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

/** Handles a keydown on the board page; true when it was a shortcut (the event is then consumed). */
export function handleKeyDown(editor: Editor, e: KeyboardEvent): boolean {
  if (typingInField(e.target) || editor.textEditing) return false;
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.toLowerCase();
  if (key === ' ') {
    editor.spaceHeld = true;
    return true;
  }
  if (mod && key === 'z') {
    if (e.shiftKey) editor.redo();
    else editor.undo();
    return true;
  }
  if (mod && key === 'y') {
    editor.redo();
    return true;
  }
  if (mod && key === 'a') {
    editor.selectAll();
    return true;
  }
  if (mod && (key === '=' || key === '+')) {
    editor.zoomStep(1);
    return true;
  }
  if (mod && key === '-') {
    editor.zoomStep(-1);
    return true;
  }
  if (mod && key === '0') {
    editor.zoomTo(1);
    return true;
  }
  if (mod && key === 'd') {
    duplicateSelection(editor);
    return true;
  }
  if (mod && key === 'g') {
    if (e.shiftKey) ungroupSelection(editor);
    else groupSelection(editor);
    return true;
  }
  if (mod && e.shiftKey && key === 'l') {
    toggleSelectionLock(editor);
    return true;
  }
  // Ctrl+] / Ctrl+[ (with Shift: to the front / back); by code, as Shift changes the key on most layouts.
  if (mod && (e.code === 'BracketRight' || e.code === 'BracketLeft')) {
    const up = e.code === 'BracketRight';
    arrangeSelection(editor, e.shiftKey ? (up ? 'front' : 'back') : up ? 'forward' : 'backward');
    return true;
  }
  if (mod || e.altKey) return false;
  if (e.shiftKey && e.code === 'Digit2') {
    zoomToSelection(editor);
    return true;
  }
  const nudge = NUDGES[e.key];
  if (nudge && editor.selection.size) {
    const step = e.shiftKey ? 10 : 1;
    nudgeSelection(editor, nudge[0] * step, nudge[1] * step);
    return true;
  }
  if (key === 'q' && !e.shiftKey) {
    editor.toolLocked = !editor.toolLocked;
    return true;
  }
  if (e.shiftKey && e.code === 'Digit1') {
    editor.zoomToFit();
    return true;
  }
  if (key === 'delete' || key === 'backspace') {
    editor.deleteSelection();
    return true;
  }
  if (key === 'escape') {
    editor.activeTool?.cancel();
    editor.select([]);
    if (editor.canEdit) editor.setTool('select');
    return true;
  }
  if (key === 'enter' && editor.activeTool?.finish?.()) return true;
  if (key === 'enter' && editSelectedText(editor)) return true;
  if (key === 'enter' && editor.selected.length === 1 && editor.selected[0]?.type === 'text') {
    editor.editText(editor.selected[0]);
    return true;
  }
  // The Image tool (as Excalidraw's 9): a file picker.
  if (key === '9' && !e.shiftKey && editor.canEdit) {
    editor.imagePicker?.();
    return true;
  }
  const tool = byKey.get(key);
  if (tool && !e.shiftKey) {
    editor.setTool(tool);
    return true;
  }
  return false;
}

export function handleKeyUp(editor: Editor, e: KeyboardEvent): void {
  if (e.key === ' ') editor.spaceHeld = false;
}
