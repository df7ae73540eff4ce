import type { Box, Element, Elements, FontFamily, Op, Text, TextAlign } from '@inkboard/protocol';
import type { Scene } from '../canvas/renderScene.js';
import type { PreviewSender } from '../sync/PreviewSender.js';

export type ToolName = 'select' | 'hand' | 'pen' | 'line' | 'arrow' | 'rectangle' | 'ellipse' | 'note' | 'text' | 'eraser' | 'laser';

/** The style new elements get (and that the style panel applies to a selection). */
export interface Style {
  strokeColor: string;
  strokeWidth: number;
  fillColor: string;
  fontSize: number;
  /** Texts and notes: alignment of their lines and font family. */
  textAlign: TextAlign;
  fontFamily: FontFamily;
}

/** A pointer position in world coordinates, with what a tool needs from the event. */
export interface ToolPointer {
  x: number;
  y: number;
  /** Pen pressure (0..1), or null for mouse and touch (perfect-freehand then simulates it). */
  pressure: number | null;
  shift: boolean;
  alt: boolean;
  /** From a finger: transform handles are taken from further away. */
  touch?: boolean;
}

/** What a tool may read and do: implemented by the Editor. */
export interface ToolHost {
  readonly sorted: readonly Element[];
  readonly elements: Elements;
  readonly zoom: number;
  readonly style: Style;
  readonly selection: ReadonlySet<string>;
  /** The group entered by a double-click (clicks select inside it), or null. */
  readonly editingGroup: string | null;
  setEditingGroup(groupId: string | null): void;
  /** Tool lock (Q): after drawing, the tool stays active (and the new element is not selected). */
  readonly toolLocked: boolean;
  readonly preview: PreviewSender;
  select(ids: Iterable<string>): void;
  nextZ(): string;
  commit(op: Op): void;
  setDraft(element: Element | null): void;
  setMoving(moving: Scene['moving']): void;
  setMarquee(box: Box | null): void;
  setFaded(ids: ReadonlySet<string>): void;
  /** Outlines a shape an arrow end is about to bind to (null: none). */
  setHighlight(element: Element | null): void;
  editText(target: { x: number; y: number } | Text): void;
  setTool(tool: ToolName): void;
}

/** A gesture handler: turns one pointer's down-move-up into protocol ops. */
export interface Tool {
  down(p: ToolPointer): void;
  /** Coalesced positions since the last call, oldest first. */
  move(points: readonly ToolPointer[]): void;
  up(p: ToolPointer): void;
  /** The gesture was interrupted (a second finger, Escape, lost capture). */
  cancel(): void;
  /** The pointer moves with no button pressed (a line being drawn by clicks follows it). */
  hover?(p: ToolPointer): void;
  /** Double-click or Enter: ends what is in progress (a line by clicks); true when there was something. */
  finish?(): boolean;
}

/** Hit tolerance in world units: a few screen pixels at any zoom. */
export const tolerance = (host: Pick<ToolHost, 'zoom'>, px = 6) => px / host.zoom;

/** Rounds a coordinate to hundredths: smaller messages, no visible change. */
export const round2 = (n: number) => Math.round(n * 100) / 100;
