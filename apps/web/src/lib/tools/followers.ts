import { followUpdates, resolvedArrowPoints, type Element, type ElementPatch, type Elements, type ElementUpdate } from '@inkboard/protocol';
import { round2, type ToolHost } from './types.js';

/**
 * The patches that move `moving` by (dx, dy). An arrow moved without the shape an end of it is bound
 * to lets go of that shape (as in Excalidraw): that end comes free where it is drawn now and moves
 * with the arrow; ends bound to shapes moved along stay bound.
 */
export function movePatches(elements: Elements, moving: readonly Element[], dx: number, dy: number): ElementUpdate[] {
  const ids = new Set(moving.map((el) => el.id));
  return moving.map((el) => {
    const patch: ElementPatch = { x: round2(el.x + dx), y: round2(el.y + dy) };
    if (el.type === 'arrow') {
      const freeStart = !!el.startBinding && !ids.has(el.startBinding.elementId);
      const freeEnd = !!el.endBinding && !ids.has(el.endBinding.elementId);
      if (freeStart || freeEnd) {
        const drawn = resolvedArrowPoints(el, (id) => elements.get(id));
        if (drawn.some((p, i) => p[0] !== el.points[i]![0] || p[1] !== el.points[i]![1])) patch.points = drawn;
        if (freeStart) patch.startBinding = null;
        if (freeEnd) patch.endBinding = null;
      }
    }
    return { id: el.id, patch };
  });
}

/**
 * Previews of the arrows and labels that follow a dragged selection (bound arrow ends, labels of
 * moved boxes), so that others see them follow live, not only once the move is dropped.
 */
export class FollowerPreviews {
  private readonly previewed = new Set<string>();

  constructor(private readonly host: Pick<ToolHost, 'elements' | 'preview'>) {}

  /** Previews the followers of `updates` (the dragged elements' own changes, previewed by the caller). */
  update(updates: readonly ElementUpdate[]): void {
    const own = new Set(updates.map((u) => u.id));
    for (const { id, patch } of followUpdates(this.host.elements, updates)) {
      const el = own.has(id) ? undefined : this.host.elements.get(id);
      if (!el) continue;
      this.previewed.add(id);
      this.host.preview.update({ ...el, ...patch } as Element);
    }
  }

  end(): void {
    for (const id of this.previewed) this.host.preview.end(id);
    this.previewed.clear();
  }
}
