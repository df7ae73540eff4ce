/**
 * Bytes a committed stroke point costs on the wire: the JSON of an op event in a frame as the server
 * sends it (toWireFrame), minus the same event with no points, over 120 points; 50 hand-like strokes
 * at hundredths (what the web app sends). Run: node --import tsx bench/bytes-per-point.ts
 */
import { toWireFrame, type Frame, type StrokePoint } from '../packages/protocol/src/index.js';
function stroke(n: number, pressure: boolean, seed: number): StrokePoint[] {
  let s = seed; const r = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  let x = 0, y = 0, a = 0;
  return Array.from({ length: n }, () => {
    a += (r() - 0.5) * 0.6; x += Math.cos(a) * (2 + r() * 4); y += Math.sin(a) * (2 + r() * 4);
    const p: StrokePoint = pressure ? [Math.round(x * 100) / 100 + 0, Math.round(y * 100) / 100 + 0, Math.round((0.4 + r() * 0.4) * 100) / 100] : [Math.round(x * 100) / 100 + 0, Math.round(y * 100) / 100 + 0];
    return p;
  });
}
for (const pressure of [true, false]) {
  const sizes: number[] = []; const plain: number[] = [];
  for (let seed = 1; seed <= 50; seed++) {
    const pts = stroke(120, pressure, seed);
    const frame = (points: StrokePoint[]): Frame => ({ seq: 5, events: [{ type: 'op', seq: 5, author: { id: 'u1234567890', name: 'ann' }, op: { type: 'add', opId: 'o123456789012345678901', elements: [{ type: 'stroke', id: 'e123456789012345678901', x: 512.25, y: 300.5, z: 'a1', points, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 }] } }] });
    const empty = JSON.stringify(toWireFrame(frame([]))).length;
    sizes.push((JSON.stringify(toWireFrame(frame(pts))).length - empty) / 120);
    plain.push((JSON.stringify(frame(pts)).length - JSON.stringify(frame([])).length) / 120);
  }
  sizes.sort((a, b) => a - b); plain.sort((a, b) => a - b);
  console.log(`${pressure ? 'pen (pressure)' : 'mouse'}: packed median ${sizes[25]!.toFixed(2)} B/point (max ${sizes[49]!.toFixed(2)}); plain JSON median ${plain[25]!.toFixed(2)} B/point`);
}
