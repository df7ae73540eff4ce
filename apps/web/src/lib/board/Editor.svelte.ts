import { fontFamilySchema, LIMITS, newId, selectionFrame, stripControlCharacters, textAlignSchema, type Box, type Element, type Op, type SelectionFrame, type Text } from '@inkboard/protocol';
import { boundsOf } from '../canvas/geometryCache.js';
import { outlineOf, showsHandles } from '../canvas/handles.js';
import { unionBoxes } from '../canvas/hitTest.js';
import type { Overlay, Scene } from '../canvas/renderScene.js';
import { fitBox, initialViewport, panBy, steppedZoom, toWorld, zoomAt, type Viewport } from '../canvas/viewport.js';
import type { BoardSync } from '../sync/BoardSync.svelte.js';
import { ImageCache } from '../canvas/images.js';
import { ImageUploads } from './imageUpload.svelte.js';
import { withLabels } from './arrange.js';
import { openNote, shownElements, type TextFrame } from './labels.js';
import { eraserTool } from '../tools/eraser.js';
import { laserTool } from '../tools/laser.js';
import { lineTool } from '../tools/line.js';
import { noteTool } from '../tools/note.js';
import { penTool } from '../tools/pen.js';
import { selectTool } from '../tools/select.js';
import { shapeTool } from '../tools/shape.js';
import { textTool } from '../tools/text.js';
import { transformTool, type TransformHost } from '../tools/transform.js';
import type { Style, Tool, ToolName } from '../tools/types.js';

/** A text being typed in the overlay: a new one, or an existing element being edited. */
export interface TextEditing {
  id: string;
  x: number;
  y: number;
  fontSize: number;
  color: string;
  initial: string;
  existing: Text | null;
  /** Typed into a box: a label of a rectangle, ellipse or note, or a note's own text (labels.ts). */
  frame?: TextFrame;
}

/** A past version of the board shown instead of it (the History panel's preview). */
export interface VersionPreview {
  /** The version's elements in paint order: drawn read-only while the live board keeps changing underneath. */
  elements: readonly Element[];
}

export const DEFAULT_STYLE: Style = { strokeColor: '#1e1e1e', strokeWidth: 2, fillColor: 'transparent', fontSize: 20, textAlign: 'left', fontFamily: 'sans' };

const STYLE_KEY = 'inkboard:style';
const viewportKey = (boardId: string) => `inkboard:viewport:${boardId}`;

/**
 * The editing state of one open board: tool, style, camera, selection and the gesture in progress.
 * Tools talk to it through `ToolHost`; the canvas draws its `scene`.
 */
export class Editor implements TransformHost {
  readonly sync: BoardSync;
  readonly canEdit: boolean;
  tool = $state<ToolName>('select');
  style = $state<Style>(readStyle());
  viewport = $state.raw<Viewport>(initialViewport);
  size = $state.raw({ width: 0, height: 0 });
  selection = $state.raw<ReadonlySet<string>>(new Set());
  draft = $state.raw<Element | null>(null);
  moving = $state.raw<Scene['moving']>(null);
  marquee = $state.raw<Box | null>(null);
  faded = $state.raw<ReadonlySet<string>>(new Set());
  textEditing = $state.raw<TextEditing | null>(null);
  /** The outline of the shape an arrow end is about to bind to. */
  highlight = $state.raw<Element | null>(null);
  /** Space is held: dragging pans. */
  spaceHeld = $state(false);
  panning = $state(false);
  /** The pointer is over an element (Select tool): shows the move cursor. */
  hovering = $state(false);
  /** Tool lock (Q): a drawing tool stays active after drawing instead of going back to Select. */
  toolLocked = $state(false);
  /** Where the pointer is over the canvas (world coordinates; null when it is elsewhere): pastes go there. */
  pointer: { x: number; y: number } | null = null;
  /** The frame drawn while the selection is resized or turned (null: the selection's own). */
  transformFrame = $state.raw<SelectionFrame | null>(null);
  /** The cursor over a transform handle (null: not over one). */
  handleCursor = $state<string | null>(null);
  /** The group entered by a double-click (grouping.ts `enterGroupAt`): clicks select inside it. */
  editingGroup = $state<string | null>(null);
  /** A past version the canvas draws instead of the board (null: the live board); tools and edits are off meanwhile. */
  versionPreview = $state.raw<VersionPreview | null>(null);
  /** The board's decoded images (the canvas draws from it) and its uploads in progress. */
  readonly images: ImageCache;
  readonly uploads: ImageUploads;
  /** Opens the Image tool's file picker (set by the toolbar; key 9). */
  imagePicker: (() => void) | null = null;

  selected = $derived.by(() => this.sync.sorted.filter((el) => this.selection.has(el.id)));
  scene = $derived.by((): Scene => this.buildScene());
  /** The selection's frame (turned with a lone turned element); handles show when it can be transformed. */
  frame = $derived.by(() => selectionFrame(this.selected));
  handleFrame = $derived.by(() => (this.canEdit && this.tool === 'select' && !this.textEditing && showsHandles(this.selected) ? this.frame : null));

  private readonly tools: Record<Exclude<ToolName, 'hand'>, Tool>;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private restoredViewport = false;

  constructor(sync: BoardSync, canEdit: boolean, notify: (text: string, kind?: 'info' | 'error') => void = () => {}) {
    this.sync = sync;
    this.canEdit = canEdit;
    this.images = new ImageCache(sync.boardId);
    const editor = this;
    this.uploads = new ImageUploads({
      boardId: sync.boardId,
      userId: sync.userId,
      canEdit,
      get connected() {
        return sync.status === 'live';
      },
      get zoom() {
        return editor.viewport.zoom;
      },
      viewBox: () => ({ x: this.viewport.x, y: this.viewport.y, width: this.size.width / this.viewport.zoom, height: this.size.height / this.viewport.zoom }),
      nextZ: () => this.nextZ(),
      commit: (op) => this.commit(op),
      has: (id) => this.sync.elements.has(id),
      select: (ids) => {
        this.setTool('select');
        this.select(ids);
      },
      notify,
    });
    this.tools = {
      select: transformTool(this, selectTool(this)),
      pen: penTool(this),
      line: lineTool(this, 'line'),
      arrow: lineTool(this, 'arrow'),
      note: noteTool(this, (note) => openNote(this, note, true)),
      rectangle: shapeTool(this, 'rectangle'),
      ellipse: shapeTool(this, 'ellipse'),
      text: textTool(this),
      eraser: eraserTool(this),
      laser: laserTool(sync),
    };
    if (!canEdit) this.tool = 'hand';
    const saved = readViewport(sync.boardId);
    if (saved) {
      this.viewport = saved;
      this.restoredViewport = true;
    }
  }

  // ToolHost
  get sorted() {
    return this.sync.sorted;
  }
  get elements() {
    return this.sync.elements;
  }
  get zoom() {
    return this.viewport.zoom;
  }
  get preview() {
    return this.sync.preview;
  }
  nextZ(): string {
    return this.sync.nextZ();
  }
  select(ids: Iterable<string>): void {
    this.selection = new Set(ids);
    if (this.selection.size === 0) this.editingGroup = null;
  }
  setEditingGroup(groupId: string | null): void {
    this.editingGroup = groupId;
  }
  setDraft(element: Element | null): void {
    this.draft = element;
  }
  setMoving(moving: Scene['moving']): void {
    this.moving = moving;
  }
  setMarquee(box: Box | null): void {
    this.marquee = box;
  }
  setFaded(ids: ReadonlySet<string>): void {
    this.faded = ids;
  }
  setHighlight(element: Element | null): void {
    this.highlight = element;
  }
  setTransformFrame(frame: SelectionFrame | null): void {
    this.transformFrame = frame;
  }

  /** Commits an own op; big adds, updates and deletes are split to fit the protocol's limits. */
  commit(op: Op): void {
    if (!this.canEdit || this.versionPreview) return;
    if (op.type === 'update' && op.updates.length > LIMITS.updatesPerOp) {
      for (let i = 0; i < op.updates.length; i += LIMITS.updatesPerOp) this.sync.commit({ ...op, opId: newId(), updates: op.updates.slice(i, i + LIMITS.updatesPerOp) });
    } else if (op.type === 'delete' && op.ids.length > LIMITS.updatesPerOp) {
      for (let i = 0; i < op.ids.length; i += LIMITS.updatesPerOp) this.sync.commit({ ...op, opId: newId(), ids: op.ids.slice(i, i + LIMITS.updatesPerOp) });
    } else if (op.type === 'add' && op.elements.length > LIMITS.elementsPerOp) {
      for (let i = 0; i < op.elements.length; i += LIMITS.elementsPerOp) this.sync.commit({ ...op, opId: newId(), elements: op.elements.slice(i, i + LIMITS.elementsPerOp) });
    } else this.sync.commit(op);
  }

  /** Commits several ops (within the protocol's limits each) as one undo step: a restore of a version. */
  commitAll(ops: readonly Op[]): void {
    if (!this.canEdit || this.versionPreview || !ops.length) return;
    this.sync.commitAll(ops);
  }

  /** The tool handling pointer gestures now (null: the hand, which pans). */
  get activeTool(): Tool | null {
    if (this.tool === 'hand' || this.versionPreview) return null;
    // Viewers may point with the laser (nothing stored), not draw.
    if (!this.canEdit) return this.tool === 'laser' ? this.tools.laser : null;
    return this.tools[this.tool];
  }

  setTool(tool: ToolName): void {
    if (!this.canEdit && tool !== 'hand' && tool !== 'laser') return;
    this.activeTool?.cancel();
    this.tool = tool;
    if (tool !== 'select') this.selection = new Set();
  }

  /** Opens the text overlay on an existing text, or at a point for a new one. */
  editText(target: { x: number; y: number } | Text): void {
    if (!this.canEdit || this.versionPreview) return;
    if ('type' in target) {
      this.textEditing = { id: target.id, x: target.x, y: target.y, fontSize: target.fontSize, color: target.strokeColor, initial: target.text, existing: target };
      this.selection = new Set([target.id]);
    } else {
      this.textEditing = { id: newId(), x: target.x, y: target.y, fontSize: this.style.fontSize, color: this.style.strokeColor, initial: '', existing: null };
    }
  }

  /** Ends text editing: adds, changes or (when emptied) deletes the text. */
  commitText(text: string): void {
    const t = this.textEditing;
    if (!t) return;
    this.textEditing = null;
    // Pasted control characters (or ones an old text kept) would get the edit refused: drop them.
    const value = stripControlCharacters(text).replace(/\s+$/, '').slice(0, LIMITS.textLength);
    const empty = value.trim() === '';
    const current = t.existing ? this.elements.get(t.id) : undefined;
    if (t.frame) t.frame.commit(value);
    else if (t.existing) {
      if (!current) return;
      if (empty) this.commit({ type: 'delete', opId: newId(), ids: [t.id] });
      else if (current.type === 'text' && current.text !== value) this.commit({ type: 'update', opId: newId(), updates: [{ id: t.id, patch: { text: value } }] });
    } else if (!empty) {
      const el: Text = { type: 'text', id: t.id, x: t.x, y: t.y, z: this.nextZ(), strokeColor: t.color, strokeWidth: 2, opacity: 1, text: value, fontSize: t.fontSize };
      // The style's alignment and font, written only when not the defaults (older texts have neither).
      if (this.style.textAlign !== 'left') el.textAlign = this.style.textAlign;
      if (this.style.fontFamily !== 'sans') el.fontFamily = this.style.fontFamily;
      this.commit({ type: 'add', opId: newId(), elements: [el] });
      this.selection = new Set([el.id]);
    }
    if ((this.tool === 'text' || this.tool === 'note') && !this.toolLocked) this.tool = 'select';
  }

  deleteSelection(): void {
    // A box's label goes with it.
    const ids = withLabels(this.sync.sorted, this.selection).map((el) => el.id);
    if (ids.length) this.commit({ type: 'delete', opId: newId(), ids });
    this.selection = new Set();
  }

  selectAll(): void {
    this.tool = 'select';
    // Locked elements are left out (as a click or a marquee leaves them out).
    this.selection = new Set(this.sync.sorted.filter((el) => !el.locked).map((el) => el.id));
  }

  clearBoard(): void {
    if (this.sync.elements.size) this.commit({ type: 'clear', opId: newId() });
    this.selection = new Set();
  }

  undo(): void {
    if (this.versionPreview) return;
    this.activeTool?.cancel();
    this.sync.undo();
  }

  redo(): void {
    if (this.versionPreview) return;
    this.activeTool?.cancel();
    this.sync.redo();
  }

  /** Changes the style for new elements and applies it to the selected ones. */
  applyStyle(patch: Partial<Style>): void {
    this.style = { ...this.style, ...patch };
    localStorage.setItem(STYLE_KEY, JSON.stringify(this.style));
    if (!this.canEdit || !this.selected.length) return;
    const updates = this.selected.flatMap((el) => {
      const p: Record<string, string | number> = {};
      if (patch.strokeColor !== undefined) p.strokeColor = patch.strokeColor;
      if (patch.strokeWidth !== undefined && el.type !== 'text') p.strokeWidth = patch.strokeWidth;
      if (patch.fillColor !== undefined && (el.type === 'rectangle' || el.type === 'ellipse' || el.type === 'note')) p.fillColor = patch.fillColor;
      if (patch.fontSize !== undefined && (el.type === 'text' || el.type === 'note')) p.fontSize = patch.fontSize;
      if (patch.textAlign !== undefined && (el.type === 'text' || el.type === 'note')) p.textAlign = patch.textAlign;
      if (patch.fontFamily !== undefined && (el.type === 'text' || el.type === 'note')) p.fontFamily = patch.fontFamily;
      return Object.keys(p).length ? [{ id: el.id, patch: p }] : [];
    });
    if (updates.length) this.commit({ type: 'update', opId: newId(), updates });
  }

  // Camera
  setViewport(viewport: Viewport): void {
    this.viewport = viewport;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => localStorage.setItem(viewportKey(this.sync.boardId), JSON.stringify(this.viewport)), 300);
  }

  toWorld(sx: number, sy: number): [number, number] {
    return toWorld(this.viewport, sx, sy);
  }

  pan(dx: number, dy: number): void {
    this.setViewport(panBy(this.viewport, dx, dy));
  }

  zoomTo(zoom: number, sx = this.size.width / 2, sy = this.size.height / 2): void {
    this.setViewport(zoomAt(this.viewport, zoom, sx, sy));
  }

  zoomStep(direction: 1 | -1): void {
    this.zoomTo(steppedZoom(this.viewport.zoom, direction));
  }

  /** Shows everything (or the selection when there is one). */
  zoomToFit(): void {
    const els = this.selected.length ? this.selected : this.sync.sorted;
    const box = unionBoxes(els.map(boundsOf));
    if (!box || !this.size.width) return;
    this.setViewport(fitBox(box, this.size.width, this.size.height));
  }

  /** Called once the first snapshot is in: a board opened for the first time is fitted to the screen. */
  boardLoaded(): void {
    if (this.restoredViewport) return;
    this.restoredViewport = true;
    if (this.sync.elements.size) this.zoomToFit();
    // Remembered either way, so a reload shows the board exactly as it was.
    this.setViewport(this.viewport);
  }

  private buildScene(): Scene {
    const past = this.versionPreview;
    if (past) {
      // Only the version, as it was: no previews, drafts or selection of the live board.
      const none = new Set<string>();
      return { ...this.buildLiveScene(), elements: past.elements, hidden: none, overlays: [], faded: none, moving: null, selection: [], frame: null, marquee: null };
    }
    return this.buildLiveScene();
  }

  private buildLiveScene(): Scene {
    const hidden = new Set<string>();
    const overlays: Overlay[] = [];
    for (const [id, p] of this.sync.previews) {
      if (this.sync.elements.has(id)) hidden.add(id);
      overlays.push({ element: p.element, live: p.doneAt === null && p.element.type === 'stroke' });
    }
    if (this.textEditing?.existing) hidden.add(this.textEditing.id);
    if (this.textEditing?.frame?.hide) hidden.add(this.textEditing.frame.hide);
    if (this.textEditing?.frame?.backdrop) overlays.push({ element: this.textEditing.frame.backdrop, live: false });
    // A draft of a stored element (a line whose point is dragged) stands in for it.
    if (this.draft && this.sync.elements.has(this.draft.id)) hidden.add(this.draft.id);
    if (this.draft) overlays.push({ element: this.draft, live: this.draft.type === 'stroke' });
    if (this.highlight) overlays.push({ element: this.highlight, live: false });
    const shown = this.selected.filter((el) => !hidden.has(el.id));
    const frame = this.transformFrame ?? (shown.length ? this.frame : null);
    return {
      // A box labelled twice at once shows its first label (labels.ts).
      elements: shownElements(this.sync.sorted),
      hidden,
      overlays,
      faded: this.faded,
      moving: this.moving,
      // While resized or turned only the frame is drawn (as in Excalidraw), not each element's outline.
      selection: this.moving?.replaced ? [] : shown.map(outlineOf),
      frame: frame && { frame, handles: this.handleFrame !== null },
      marquee: this.marquee,
      viewport: this.viewport,
      background: '#ffffff',
    };
  }
}

function readStyle(): Style {
  try {
    const saved: unknown = JSON.parse(localStorage.getItem(STYLE_KEY) ?? 'null');
    if (saved && typeof saved === 'object') return { ...DEFAULT_STYLE, ...pick(saved) };
  } catch {
    // A damaged entry: defaults.
  }
  return { ...DEFAULT_STYLE };
}

function pick(saved: object): Partial<Style> {
  const out: Partial<Style> = {};
  const s = saved as Record<string, unknown>;
  if (typeof s.strokeColor === 'string' && /^#[0-9a-f]{6}$/i.test(s.strokeColor)) out.strokeColor = s.strokeColor;
  if (typeof s.fillColor === 'string' && (s.fillColor === 'transparent' || /^#[0-9a-f]{6}$/i.test(s.fillColor))) out.fillColor = s.fillColor;
  if (typeof s.strokeWidth === 'number' && s.strokeWidth >= 0.5 && s.strokeWidth <= 100) out.strokeWidth = s.strokeWidth;
  if (typeof s.fontSize === 'number' && s.fontSize >= 4 && s.fontSize <= 400) out.fontSize = s.fontSize;
  const align = textAlignSchema.safeParse(s.textAlign);
  if (align.success) out.textAlign = align.data;
  const family = fontFamilySchema.safeParse(s.fontFamily);
  if (family.success) out.fontFamily = family.data;
  return out;
}

function readViewport(boardId: string): Viewport | null {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(viewportKey(boardId)) ?? 'null');
    if (v && typeof v === 'object' && 'x' in v && 'y' in v && 'zoom' in v) {
      const { x, y, zoom } = v;
      if (typeof x === 'number' && typeof y === 'number' && typeof zoom === 'number' && zoom > 0) return { x, y, zoom };
    }
  } catch {
    // Ignore a damaged entry.
  }
  return null;
}
