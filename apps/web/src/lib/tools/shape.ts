import { newId, type Element } from '@inkboard/protocol';
import { round2, type Tool, type ToolHost, type ToolPointer } from './types.js';

type ShapeKind = 'rectangle' | 'ellipse' | 'line' | 'arrow';

/** Snaps the vector (dx, dy) to multiples of 15 degrees (Shift while drawing a line or arrow). */
function snapAngle(dx: number, dy: number): [number, number] {
  const step = Math.PI / 12;
  const angle = Math.round(Math.atan2(dy, dx) / step) * step;
  const len = Math.hypot(dx, dy);
  return [Math.cos(angle) * len, Math.sin(angle) * len];
}

/**
 * Drag-to-draw shapes: a box for rectangles and ellipses (Shift: square, circle), a segment for lines
 * and arrows (Shift: 15 degree steps). Afterwards the new shape is selected and the Select tool is back.
 */
export function shapeTool(host: ToolHost, kind: ShapeKind): Tool {
  let origin: ToolPointer | null = null;
  let shape: Element | null = null;
  let id = '';
  let z = '';

  function build(p: ToolPointer): Element {
    const o = origin!;
    const { strokeColor, strokeWidth, fillColor } = host.style;
    const common = { id, z, strokeColor, strokeWidth, opacity: 1 };
    if (kind === 'line' || kind === 'arrow') {
      const [dx, dy] = p.shift ? snapAngle(p.x - o.x, p.y - o.y) : [p.x - o.x, p.y - o.y];
      return { type: kind, ...common, x: round2(o.x), y: round2(o.y), points: [[0, 0], [round2(dx), round2(dy)]] };
    }
    let w = p.x - o.x;
    let h = p.y - o.y;
    if (p.shift) {
      const side = Math.max(Math.abs(w), Math.abs(h));
      w = Math.sign(w || 1) * side;
      h = Math.sign(h || 1) * side;
    }
    return {
      type: kind,
      ...common,
      x: round2(Math.min(o.x, o.x + w)),
      y: round2(Math.min(o.y, o.y + h)),
      width: round2(Math.abs(w)),
      height: round2(Math.abs(h)),
      fillColor,
    };
  }

  function reset() {
    if (shape) host.preview.end(shape.id);
    host.setDraft(null);
    origin = null;
    shape = null;
  }

  return {
    down(p) {
      origin = p;
      id = newId();
      z = host.nextZ();
      shape = null;
    },
    move(points) {
      const p = points.at(-1);
      if (!origin || !p) return;
      shape = build(p);
      host.setDraft(shape);
      host.preview.update(shape);
    },
    up(p) {
      if (!origin) return;
      const tooSmall = Math.hypot(p.x - origin.x, p.y - origin.y) * host.zoom < 3;
      if (tooSmall) {
        reset();
        return;
      }
      const final = build(p);
      host.commit({ type: 'add', opId: newId(), elements: [final] });
      reset();
      if (host.toolLocked) return;
      host.select([final.id]);
      host.setTool('select');
    },
    cancel: reset,
  };
}
