import { elementAt } from '../canvas/hitTest.js';
import { tolerance, type Tool, type ToolHost } from './types.js';

/** Click to type in place; clicking an existing text edits it. */
export function textTool(host: ToolHost): Tool {
  return {
    down() {},
    move() {},
    up(p) {
      const hit = elementAt(host.sorted, p.x, p.y, tolerance(host, 2));
      if (hit?.type === 'text') host.editText(hit);
      // The click marks the middle of the first line, as in Excalidraw.
      else host.editText({ x: p.x, y: p.y - host.style.fontSize * 0.625 });
    },
    cancel() {},
  };
}
