import { handleAt, handleCursor } from '../canvas/handles.js';
import { enterGroupAt } from './grouping.js';
import { elementAt } from '../canvas/hitTest.js';
import { zoomAt } from '../canvas/viewport.js';
import { editTextAt } from './labels.js';
import type { ToolPointer } from '../tools/types.js';
import type { Editor } from './Editor.svelte.js';

type Gesture =
  | { kind: 'none' }
  | { kind: 'tool'; pointerId: number }
  | { kind: 'pan'; pointerId: number; lastX: number; lastY: number }
  | { kind: 'pinch'; distance: number; centerX: number; centerY: number };

/**
 * Turns the canvas's pointer and wheel events into camera moves and tool gestures: mouse, pen and
 * touch alike. Two fingers pan and pinch-zoom; the middle button, Space+drag and the Hand tool pan.
 */
export class CanvasInput {
  private gesture: Gesture = { kind: 'none' };
  /** The tool when the last button went down: a double-click whose clicks changed the tool (a line ended by its second click) is not taken again. */
  private downTool: string | null = null;
  private readonly touches = new Map<number, { x: number; y: number }>();

  constructor(
    private readonly editor: Editor,
    private readonly canvas: HTMLCanvasElement,
  ) {}

  /** Attaches the listeners; returns the cleanup. */
  attach(): () => void {
    const c = this.canvas;
    const opts = { passive: false } as const;
    const listeners: [string, (e: never) => void][] = [
      ['pointerdown', this.down],
      ['pointermove', this.move],
      ['pointerup', this.up],
      ['pointercancel', this.cancelEvent],
      ['lostpointercapture', this.lost],
      ['wheel', this.wheel],
      ['dblclick', this.dblclick],
      ['contextmenu', (e: Event) => e.preventDefault()],
      ['pointerleave', () => (this.editor.pointer = null)],
    ];
    for (const [type, fn] of listeners) c.addEventListener(type, fn as EventListener, opts);
    return () => {
      for (const [type, fn] of listeners) c.removeEventListener(type, fn as EventListener);
    };
  }

  private local(e: { clientX: number; clientY: number }): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private toolPointer(e: PointerEvent): ToolPointer {
    const [sx, sy] = this.local(e);
    const [x, y] = this.editor.toWorld(sx, sy);
    return { x, y, pressure: e.pointerType === 'pen' ? e.pressure : null, shift: e.shiftKey, alt: e.altKey, touch: e.pointerType === 'touch' };
  }

  private readonly down = (e: PointerEvent) => {
    if (this.editor.textEditing) {
      // Clicking away ends the text: the textarea's blur commits it, and the click does nothing else.
      this.canvas.focus({ preventScroll: true });
      return;
    }
    this.canvas.focus({ preventScroll: true });
    if (e.pointerType === 'touch') {
      this.touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (this.touches.size === 2) {
        // A second finger: whatever the first one started becomes a pinch.
        if (this.gesture.kind === 'tool') this.editor.activeTool?.cancel();
        this.startPinch();
        return;
      }
      if (this.touches.size > 2) return;
    }
    if (this.gesture.kind !== 'none') return;
    this.downTool = this.editor.tool;
    this.canvas.setPointerCapture(e.pointerId);
    const tool = this.editor.activeTool;
    if (e.button === 1 || this.editor.spaceHeld || !tool) {
      e.preventDefault();
      this.gesture = { kind: 'pan', pointerId: e.pointerId, lastX: e.clientX, lastY: e.clientY };
      this.editor.panning = true;
    } else if (e.button === 0) {
      this.gesture = { kind: 'tool', pointerId: e.pointerId };
      tool.down(this.toolPointer(e));
    }
  };

  private readonly move = (e: PointerEvent) => {
    const [sx, sy] = this.local(e);
    const [wx, wy] = this.editor.toWorld(sx, sy);
    this.editor.sync.moveCursor(wx, wy);
    this.editor.pointer = { x: wx, y: wy };
    if (e.pointerType === 'touch' && this.touches.has(e.pointerId)) {
      this.touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (this.gesture.kind === 'pinch') {
        this.pinch();
        return;
      }
    }
    const g = this.gesture;
    if (g.kind === 'pan' && g.pointerId === e.pointerId) {
      this.editor.pan(e.clientX - g.lastX, e.clientY - g.lastY);
      g.lastX = e.clientX;
      g.lastY = e.clientY;
    } else if (g.kind === 'tool' && g.pointerId === e.pointerId) {
      const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
      this.editor.activeTool?.move((events.length ? events : [e]).map((ev) => this.toolPointer(ev)));
    } else if (g.kind === 'none' && this.editor.activeTool?.hover) {
      this.editor.activeTool.hover(this.toolPointer(e));
    } else if (g.kind === 'none' && e.pointerType === 'mouse' && this.editor.tool === 'select' && this.editor.canEdit) {
      // Over an element the Select tool shows the move cursor, as in Excalidraw; over a handle, its own.
      const frame = this.editor.handleFrame;
      const handle = frame ? handleAt(frame, this.editor.zoom, wx, wy) : null;
      this.editor.handleCursor = frame && handle ? handleCursor(handle, frame.angle) : null;
      this.editor.hovering = elementAt(this.editor.sorted, wx, wy, 6 / this.editor.zoom, { skipLocked: true }) !== null;
    }
  };

  private readonly up = (e: PointerEvent) => {
    this.touches.delete(e.pointerId);
    const g = this.gesture;
    if (g.kind === 'pinch') {
      if (this.touches.size === 0) this.gesture = { kind: 'none' };
      return;
    }
    if ((g.kind === 'tool' || g.kind === 'pan') && g.pointerId !== e.pointerId) return;
    if (g.kind === 'tool') this.editor.activeTool?.up(this.toolPointer(e));
    this.end();
  };

  private readonly cancelEvent = (e: PointerEvent) => {
    this.touches.delete(e.pointerId);
    if (this.gesture.kind === 'tool') this.editor.activeTool?.cancel();
    if (this.gesture.kind !== 'pinch' || this.touches.size === 0) this.end();
  };

  private readonly lost = (e: PointerEvent) => {
    const g = this.gesture;
    if (g.kind === 'tool' && g.pointerId === e.pointerId) {
      this.editor.activeTool?.up(this.toolPointer(e));
      this.end();
    }
  };

  private end() {
    this.gesture = { kind: 'none' };
    this.editor.panning = false;
  }

  private startPinch() {
    const [a, b] = [...this.touches.values()];
    if (!a || !b) return;
    this.gesture = { kind: 'pinch', distance: Math.hypot(a.x - b.x, a.y - b.y), centerX: (a.x + b.x) / 2, centerY: (a.y + b.y) / 2 };
  }

  private pinch() {
    const g = this.gesture;
    const [a, b] = [...this.touches.values()];
    if (g.kind !== 'pinch' || !a || !b) return;
    const distance = Math.hypot(a.x - b.x, a.y - b.y);
    const cx = (a.x + b.x) / 2;
    const cy = (a.y + b.y) / 2;
    const [sx, sy] = this.local({ clientX: cx, clientY: cy });
    this.editor.pan(cx - g.centerX, cy - g.centerY);
    if (g.distance > 0) this.editor.setViewport(zoomAt(this.editor.viewport, (this.editor.viewport.zoom * distance) / g.distance, sx, sy));
    this.gesture = { kind: 'pinch', distance, centerX: cx, centerY: cy };
  }

  /**
   * Ctrl/Cmd+wheel (and trackpad pinch, which arrives as one) zooms; a mouse wheel zooms too; a
   * trackpad's two-finger scroll pans; Shift+wheel pans sideways.
   */
  private readonly wheel = (e: WheelEvent) => {
    e.preventDefault();
    const [sx, sy] = this.local(e);
    const lineScale = e.deltaMode === WheelEvent.DOM_DELTA_LINE ? 16 : e.deltaMode === WheelEvent.DOM_DELTA_PAGE ? 400 : 1;
    const dx = e.deltaX * lineScale;
    const dy = e.deltaY * lineScale;
    const mouseWheel = e.deltaMode !== WheelEvent.DOM_DELTA_PIXEL || (dx === 0 && Number.isInteger(dy) && Math.abs(dy) >= 50 && !e.shiftKey);
    if (e.ctrlKey || e.metaKey || mouseWheel) {
      const factor = Math.exp(-Math.max(-100, Math.min(100, dy)) / (e.ctrlKey || e.metaKey ? 100 : 300));
      this.editor.zoomTo(this.editor.viewport.zoom * factor, sx, sy);
    } else if (e.shiftKey && dx === 0) this.editor.pan(-dy, 0);
    else this.editor.pan(-dx, -dy);
  };

  /**
   * Double-click ends a line drawn by clicks; with the Select and Text tools it edits a text, a box's
   * label or a note's text, or starts a new text on empty space (labels.ts).
   */
  private readonly dblclick = (e: MouseEvent) => {
    const ed = this.editor;
    if (this.downTool !== ed.tool || ed.activeTool?.finish?.()) return;
    if (!ed.canEdit || ed.versionPreview || (ed.tool !== 'select' && ed.tool !== 'text')) return;
    const [sx, sy] = this.local(e);
    const [x, y] = ed.toWorld(sx, sy);
    if (!enterGroupAt(ed, x, y)) editTextAt(ed, x, y);
  };
}
