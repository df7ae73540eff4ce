import { LIMITS, newId, type Stroke, type StrokePoint } from '@inkboard/protocol';
import { round2, type Tool, type ToolHost, type ToolPointer } from './types.js';

/** Freehand drawing: points relative to the first one, pen pressure when there is a pen. */
export function penTool(host: ToolHost): Tool {
  let stroke: Stroke | null = null;
  let last: ToolPointer | null = null;

  const point = (p: ToolPointer, origin: Stroke): StrokePoint =>
    p.pressure === null ? [round2(p.x - origin.x), round2(p.y - origin.y)] : [round2(p.x - origin.x), round2(p.y - origin.y), round2(p.pressure)];

  return {
    down(p) {
      const { strokeColor, strokeWidth } = host.style;
      stroke = { type: 'stroke', id: newId(), x: round2(p.x), y: round2(p.y), z: host.nextZ(), strokeColor, strokeWidth, opacity: 1, points: [] };
      stroke = { ...stroke, points: [point(p, stroke)] };
      last = p;
      host.setDraft(stroke);
      host.preview.update(stroke);
    },
    move(points) {
      if (!stroke || !last) return;
      const added: StrokePoint[] = [];
      const minStep = 0.75 / host.zoom;
      for (const p of points) {
        if (Math.hypot(p.x - last.x, p.y - last.y) < minStep) continue;
        if (stroke.points.length + added.length >= LIMITS.pointsPerStroke) break;
        added.push(point(p, stroke));
        last = p;
      }
      if (!added.length) return;
      stroke = { ...stroke, points: [...stroke.points, ...added] };
      host.setDraft(stroke);
      host.preview.append(stroke.id, added);
    },
    up() {
      if (!stroke) return;
      host.commit({ type: 'add', opId: newId(), elements: [stroke] });
      host.preview.end(stroke.id);
      host.setDraft(null);
      stroke = null;
      last = null;
    },
    cancel() {
      if (stroke) host.preview.end(stroke.id);
      host.setDraft(null);
      stroke = null;
      last = null;
    },
  };
}
