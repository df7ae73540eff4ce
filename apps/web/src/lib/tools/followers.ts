import { followUpdates, type Element, type ElementUpdate } from '@inkboard/protocol';
import type { ToolHost } from './types.js';

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
