import { newId } from '@inkboard/protocol';
import { withLabels } from '../board/arrange.js';
import { elementsTouchedBy } from '../canvas/hitTest.js';
import { tolerance, type Tool, type ToolHost, type ToolPointer } from './types.js';

/** Marks every element the eraser touches (shown faded), deletes them all on release: one undo step. */
export function eraserTool(host: ToolHost): Tool {
  let marked = new Set<string>();
  let last: ToolPointer | null = null;

  function sweep(a: ToolPointer, b: ToolPointer) {
    const hits = elementsTouchedBy(host.sorted, a.x, a.y, b.x, b.y, tolerance(host, 8));
    const fresh = hits.filter((id) => !marked.has(id));
    if (!fresh.length) return;
    marked = new Set([...marked, ...fresh]);
    host.setFaded(marked);
  }

  return {
    down(p) {
      marked = new Set();
      last = p;
      sweep(p, p);
    },
    move(points) {
      for (const p of points) {
        if (last) sweep(last, p);
        last = p;
      }
    },
    up() {
      // A box's label goes with it.
      const ids = withLabels(host.sorted, marked).map((el) => el.id);
      if (ids.length) host.commit({ type: 'delete', opId: newId(), ids });
      this.cancel();
    },
    cancel() {
      marked = new Set();
      last = null;
      host.setFaded(marked);
    },
  };
}
