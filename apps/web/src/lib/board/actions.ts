import { duplicateElements, followUpdates, newId, type Element } from '@inkboard/protocol';
import { boundsOf } from '../canvas/geometryCache.js';
import { exportPng, exportSvg } from '../canvas/exportImage.js';
import { imageDataUris } from '../canvas/images.js';
import { imageFilesOf } from './imageFiles.js';
import { unionBoxes } from '../canvas/hitTest.js';
import { clampZoom } from '../canvas/viewport.js';
import { movePatches } from '../tools/followers.js';
import { arrange, withLabels, type ArrangeMove } from './arrange.js';
import { parseClipboard, pasteOffset, serializeClipboard, textFromPaste } from './clipboard.js';
import type { Editor } from './Editor.svelte.js';

/**
 * The selection's commands: arrange, duplicate, nudge, clipboard, zoom to selection. Each edit is one
 * op of the editor (so it is live for others and one step of the user's own undo).
 */

/** Brings the selection forward/to the front or sends it backward/to the back (z changes only). */
export function arrangeSelection(editor: Editor, move: ArrangeMove): void {
  if (!editor.canEdit || !editor.selection.size) return;
  const ids = new Set(withLabels(editor.sorted, editor.selection).map((el) => el.id));
  const updates = arrange(editor.sorted, ids, move);
  if (updates.length) editor.commit({ type: 'update', opId: newId(), updates: updates.map(({ id, z }) => ({ id, patch: { z } })) });
}

/** Adds copies of `elements` moved by (dx, dy) on top of the board and selects them (Ctrl+D, Alt+drag, paste). */
export function addCopies(editor: Editor, elements: readonly Element[], dx: number, dy: number): void {
  if (!editor.canEdit || !elements.length) return;
  const copies = duplicateElements(elements, editor.elements, { offset: [dx, dy] });
  editor.commit({ type: 'add', opId: newId(), elements: copies });
  editor.select(copies.filter((c) => !(c.type === 'text' && c.containerId)).map((c) => c.id));
}

/** Ctrl+D: the selection duplicated a step down and right. */
export function duplicateSelection(editor: Editor): void {
  addCopies(editor, withLabels(editor.sorted, editor.selection), 10, 10);
}

/** Arrow keys: moves the selection by (dx, dy) world units. */
export function nudgeSelection(editor: Editor, dx: number, dy: number): void {
  if (!editor.canEdit) return;
  const elements = withLabels(editor.sorted, editor.selection);
  if (elements.length) editor.commit({ type: 'update', opId: newId(), updates: followUpdates(editor.elements, movePatches(editor.elements, elements, dx, dy)) });
}

/** The selection as clipboard text (null when nothing is selected). */
export function selectionClipboardText(editor: Editor): string | null {
  const elements = withLabels(editor.sorted, editor.selection);
  return elements.length ? serializeClipboard(elements, editor.sync.boardId) : null;
}

/** The "Copy" and "Cut" buttons (the keyboard goes through the copy and cut events instead). */
export async function copySelection(editor: Editor, cut = false): Promise<boolean> {
  const text = selectionClipboardText(editor);
  if (!text) return false;
  await navigator.clipboard.writeText(text);
  if (cut) editor.deleteSelection();
  return true;
}

/** A copy or paste meant for a field, for text selected on the page, or in a dialog: the browser's own. */
function forThePage(editor: Editor, e: ClipboardEvent): boolean {
  const t = e.target;
  if (editor.textEditing || (t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || t.closest('dialog')))) return true;
  return e.type !== 'paste' && !(document.getSelection()?.isCollapsed ?? true);
}

/** Handles the document's copy or cut event (Ctrl+C, Ctrl+X); true when the board took it. */
export function handleCopyEvent(editor: Editor, e: ClipboardEvent, cut: boolean): boolean {
  if (forThePage(editor, e)) return false;
  const text = selectionClipboardText(editor);
  if (!text || !e.clipboardData) return false;
  e.clipboardData.setData('text/plain', text);
  e.preventDefault();
  if (cut && editor.canEdit) editor.deleteSelection();
  return true;
}

/** Handles the document's paste event (Ctrl+V): copied elements, else pictures (a screenshot), else text. */
export function handlePasteEvent(editor: Editor, e: ClipboardEvent): boolean {
  if (forThePage(editor, e)) return false;
  const text = e.clipboardData?.getData('text/plain') ?? '';
  const files = imageFilesOf(e.clipboardData);
  if (!editor.canEdit || (!text && !files.length)) return false;
  e.preventDefault();
  if (files.length && parseClipboard(text)?.kind !== 'elements') void editor.uploads.add(files, editor.pointer);
  else pasteText(editor, text, editor.pointer);
  return true;
}

/** The "Paste" button: reads the system clipboard (the browser may ask the user first); pictures in it are uploaded. */
export async function pasteFromClipboard(editor: Editor): Promise<void> {
  const items = typeof navigator.clipboard.read === 'function' ? await navigator.clipboard.read().catch(() => []) : [];
  const files: File[] = [];
  for (const item of items) {
    const type = item.types.find((t) => t.startsWith('image/'));
    if (type && !item.types.includes('text/plain')) files.push(new File([await item.getType(type)], `pasted.${type.slice(6)}`, { type }));
  }
  if (files.length) return editor.uploads.add(files, null);
  const text = await navigator.clipboard.readText();
  pasteText(editor, text, null);
}

/** Pastes clipboard text at `at` (world; null: the middle of the screen): copied elements, or a text. */
export function pasteText(editor: Editor, text: string, at: { x: number; y: number } | null): void {
  if (!editor.canEdit) return;
  const content = parseClipboard(text);
  if (!content) return;
  const [cx, cy] = editor.toWorld(editor.size.width / 2, editor.size.height / 2);
  if (content.kind === 'elements') {
    const [dx, dy] = pasteOffset(content.elements, at ?? { x: cx, y: cy });
    if (content.source && content.source !== editor.sync.boardId && content.elements.some((el) => el.type === 'image')) {
      // Images copied on another board: their files are copied here first, then everything is added at once.
      void editor.uploads.copyImages(content.source, content.elements).then((elements) => {
        if (!elements) return;
        addCopies(editor, elements, dx, dy);
        editor.setTool('select');
      });
      return;
    }
    addCopies(editor, content.elements, dx, dy);
    editor.setTool('select');
    return;
  }
  const el = textFromPaste(content.text, at ?? { x: cx, y: cy }, editor.style, { id: newId(), z: editor.nextZ() });
  if (!el) return;
  editor.commit({ type: 'add', opId: newId(), elements: [el] });
  editor.setTool('select');
  editor.select([el.id]);
}

/** "Copy as SVG": the selection's SVG (the export's renderer) as text. */
export async function copySelectionAsSvg(editor: Editor): Promise<void> {
  const elements = withLabels(editor.sorted, editor.selection);
  if (elements.length) await navigator.clipboard.writeText(exportSvg(elements, await imageDataUris(editor.images, elements)));
}

/** "Copy as PNG": the selection as an image (twice the resolution, as the export's default). */
export async function copySelectionAsPng(editor: Editor): Promise<void> {
  const elements = withLabels(editor.sorted, editor.selection);
  if (!elements.length) return;
  // The item is made at once, with the image to come, so the browser still sees the user's click.
  const png = imageDataUris(editor.images, elements).then((images) => exportPng(elements, 2, images));
  await navigator.clipboard.write([new ClipboardItem({ 'image/png': png })]);
}

/** Zooming to a selection stops here (a dot would otherwise fill the screen). */
const MAX_SELECTION_ZOOM = 8;

/** Shift+2: zooms (in or out) and pans so the selection fills the screen (nothing selected: nothing happens). */
export function zoomToSelection(editor: Editor, padding = 48): void {
  const box = unionBoxes(editor.selected.map(boundsOf));
  const { width, height } = editor.size;
  if (!box || !width) return;
  const w = Math.max(1, box.maxX - box.minX);
  const h = Math.max(1, box.maxY - box.minY);
  const zoom = clampZoom(Math.min(MAX_SELECTION_ZOOM, (width - 2 * padding) / w, (height - 2 * padding) / h));
  const cx = (box.minX + box.maxX) / 2;
  const cy = (box.minY + box.maxY) / 2;
  editor.setViewport({ x: cx - width / 2 / zoom, y: cy - height / 2 / zoom, zoom });
}
