import { elementCenter, findBindTarget, followUpdates, isContainer, labelBox, labelPlace, newId, withoutExtraLabels, type Box, type Element, type FontFamily, type Note, type Op, type Text, type TextAlign } from '@inkboard/protocol';
import { elementAt } from '../canvas/hitTest.js';
import type { Editor } from './Editor.svelte.js';

/*
 * Text typed into a box: a label (a text with `containerId`, drawn centred in its rectangle, ellipse
 * or note and moved with it) or a sticky note's own text. The editor's text overlay is opened over the
 * box with a `TextFrame` saying where it goes and how the typed text is committed (one op each).
 */

/** How the text overlay types into a box (a label or a note). */
export interface TextFrame {
  /** The box the text wraps in (world units, before the turn). */
  box: Box;
  /** The container's or note's turn (radians) about its centre `center`: the typing turns with it. */
  angle: number;
  center: [number, number];
  /** Centred vertically in the box (a label) or from its top (a note). */
  middle: boolean;
  align: TextAlign;
  fontFamily: FontFamily;
  /** Not drawn while typing (the note being edited) ... */
  hide: string | null;
  /** ... this is drawn instead (the note without its text, or a new note not stored yet). */
  backdrop: Element | null;
  /** Commits the typed text (control characters and trailing space already removed). */
  commit(value: string): void;
}

/** The labels of a container in paint order (more than one when two people labelled it at once). */
export function labelsOf(sorted: readonly Element[], containerId: string): Text[] {
  return sorted.filter((el): el is Text => el.type === 'text' && el.containerId === containerId);
}

/** The label of a container, if it has one: its first by (z, id), the one shown (protocol `extraLabels`). */
export function labelOf(sorted: readonly Element[], containerId: string): Text | null {
  return sorted.find((el): el is Text => el.type === 'text' && el.containerId === containerId) ?? null;
}

const shownCache = new WeakMap<readonly Element[], readonly Element[]>();
/** The board as drawn: a box labelled twice at once shows its first label only (the same list while nothing changes). */
export function shownElements(sorted: readonly Element[]): readonly Element[] {
  let shown = shownCache.get(sorted);
  if (!shown) shownCache.set(sorted, (shown = withoutExtraLabels(sorted)));
  return shown;
}

/**
 * Double-click at (x, y) with the Select or Text tool: a free text is edited; a rectangle or ellipse
 * (inside its box, filled or not) gets its label edited or a new one; a note gets its text edited;
 * empty space starts a new text.
 */
export function editTextAt(editor: Editor, x: number, y: number): void {
  const tol = 4 / editor.zoom;
  const hit = elementAt(editor.sorted, x, y, tol);
  // A locked element is not edited until it is unlocked (nor is a new text started on it).
  if (hit?.locked) return;
  if (hit?.type === 'text') {
    const container = hit.containerId ? editor.elements.get(hit.containerId) : undefined;
    if (container && isContainer(container) && !container.locked) openLabel(editor, container);
    else if (!hit.containerId) editor.editText(hit);
    return;
  }
  const target = findBindTarget(editor.sorted, x, y, { tolerance: tol });
  const container = target ? editor.elements.get(target.elementId) : undefined;
  if (container?.locked) return;
  if (container?.type === 'note') openNote(editor, container, false);
  else if (container && isContainer(container)) openLabel(editor, container);
  else if (!hit) editor.editText({ x, y: y - editor.style.fontSize * 0.625 });
}

/** Enter on a lone selected box, note or label: edits the label or the note's text; false for anything else. */
export function editSelectedText(editor: Editor): boolean {
  const only = editor.selected.length === 1 ? editor.selected[0] : undefined;
  const container = only?.type === 'text' && only.containerId ? editor.elements.get(only.containerId) : only;
  if (!container || container.locked || !editor.canEdit) return false;
  if (container.type === 'note') openNote(editor, container, false);
  else if (isContainer(container)) openLabel(editor, container);
  else return false;
  return true;
}

/** Opens the text overlay on a rectangle's, ellipse's or note's label (its own or a new one). */
export function openLabel(editor: Editor, container: Element): void {
  if (!editor.canEdit) return;
  const [existing = null, ...extras] = labelsOf(editor.sorted, container.id);
  // Labels typed by others at the same time are merged into the first (none of the typing is lost).
  const merged = [...new Set([existing, ...extras].map((l) => l?.text.trim() ?? '').filter((t) => t !== ''))].join('\n');
  const extraIds = extras.map((l) => l.id);
  const box = labelBox(container);
  const id = existing?.id ?? newId();
  const fontSize = existing?.fontSize ?? editor.style.fontSize;
  const color = existing?.strokeColor ?? editor.style.strokeColor;
  const fontFamily = existing ? (existing.fontFamily ?? 'sans') : editor.style.fontFamily;
  editor.textEditing = {
    id,
    x: box.minX,
    y: box.minY,
    fontSize,
    color,
    initial: extras.length ? merged : (existing?.text ?? ''),
    existing,
    frame: {
      box,
      angle: container.angle ?? 0,
      center: elementCenter(container),
      middle: true,
      align: existing?.textAlign ?? 'center',
      fontFamily,
      hide: null,
      backdrop: null,
      commit: (value) => commitLabel(editor, container.id, id, value, { fontSize, color, fontFamily }, extraIds),
    },
  };
  editor.select([container.id]);
}

function commitLabel(editor: Editor, containerId: string, id: string, value: string, style: { fontSize: number; color: string; fontFamily: FontFamily }, extraIds: readonly string[] = []): void {
  const container = editor.elements.get(containerId);
  const current = editor.elements.get(id);
  if (!container) return; // deleted meanwhile (by someone else): nothing to label
  if (current?.type === 'text') {
    // The other labels of the box (merged into this one when it was opened) go in the same undo step.
    const extras = extraIds.filter((x) => editor.elements.has(x));
    const ops: Op[] = [];
    if (value.trim() === '') ops.push({ type: 'delete', opId: newId(), ids: [id, ...extras] });
    else {
      // The text changes its size: the label is placed again in the middle of its box (same op).
      if (current.text !== value) ops.push({ type: 'update', opId: newId(), updates: followUpdates(editor.elements, [{ id, patch: { text: value } }]) });
      if (extras.length) ops.push({ type: 'delete', opId: newId(), ids: extras });
    }
    if (ops.length > 1) editor.commitAll(ops);
    else if (ops[0]) editor.commit(ops[0]);
    return;
  }
  if (value.trim() === '') return;
  const label: Text = { type: 'text', id, x: 0, y: 0, z: editor.nextZ(), strokeColor: style.color, strokeWidth: 2, opacity: 1, text: value, fontSize: style.fontSize, containerId };
  if (style.fontFamily !== 'sans') label.fontFamily = style.fontFamily;
  const place = labelPlace(label, container);
  editor.commit({ type: 'add', opId: newId(), elements: [{ ...label, ...place }] });
}

/**
 * Opens the text overlay on a note: an existing one (its text is changed by one update op), or a
 * new one just placed by the Sticky note tool (added with its text by one op when typing ends; others
 * see it meanwhile through its preview).
 */
export function openNote(editor: Editor, note: Note, isNew: boolean): void {
  if (!editor.canEdit) return;
  const box = labelBox(note);
  editor.textEditing = {
    id: note.id,
    x: box.minX,
    y: box.minY,
    fontSize: note.fontSize,
    color: note.strokeColor,
    initial: note.text,
    existing: null,
    frame: {
      box,
      angle: note.angle ?? 0,
      center: elementCenter(note),
      middle: false,
      align: note.textAlign ?? 'left',
      fontFamily: note.fontFamily ?? 'sans',
      hide: isNew ? null : note.id,
      backdrop: { ...note, text: '' },
      commit: (value) => {
        if (isNew) {
          editor.commit({ type: 'add', opId: newId(), elements: [{ ...note, text: value }] });
          editor.preview.end(note.id);
          if (!editor.toolLocked) editor.select([note.id]);
          return;
        }
        const current = editor.elements.get(note.id);
        if (current?.type === 'note' && current.text !== value) editor.commit({ type: 'update', opId: newId(), updates: [{ id: note.id, patch: { text: value } }] });
      },
    },
  };
  if (!isNew) editor.select([note.id]);
}
