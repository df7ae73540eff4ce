import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LIMITS, type Element, type PreviewInput, type StrokePoint } from '@inkboard/protocol';
import { PreviewSender } from './PreviewSender.js';

type Message = Omit<PreviewInput, 'boardId'>;

let now = 0;
beforeEach(() => {
  now = 1_000;
  vi.spyOn(performance, 'now').mockImplementation(() => now);
  // Frames run when the test calls flush().
  vi.stubGlobal('requestAnimationFrame', () => 1);
  vi.stubGlobal('cancelAnimationFrame', () => {});
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

const points = (n: number, from = 0): StrokePoint[] => Array.from({ length: n }, (_, i) => [from + i, i % 7]);
const stroke = (id: string, n: number): Element => ({ type: 'stroke', id, x: 0, y: 0, z: 'a0', points: points(n), strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 });
const carried = (m: Message) => (m.element && 'points' in m.element ? m.element.points.length : 0) + (m.append?.length ?? 0);

describe('PreviewSender budgets', () => {
  it('sends at most pointsPerPreview points a message and stops a preview stroke at pointsPerStroke', () => {
    const sent: Message[] = [];
    const sender = new PreviewSender((m) => sent.push(m));
    sender.update(stroke('s', 1));
    const appended = Array.from({ length: 12 }, (_, i) => points(500, 1 + i * 500));
    for (const chunk of appended) sender.append('s', chunk);
    for (let frame = 0; frame < 10; frame++) {
      sender.flush();
      now += 1_000;
    }
    expect(sent.length).toBeGreaterThan(1);
    for (const m of sent) expect(carried(m)).toBeLessThanOrEqual(LIMITS.pointsPerPreview);
    const total = sent.reduce((n, m) => n + carried(m), 0);
    expect(total).toBe(LIMITS.pointsPerStroke);
    // What receivers rebuild is the stroke's first 5,000 points, in order.
    const rebuilt = [...((sent[0]!.element as Extract<Element, { type: 'stroke' }>).points), ...sent.slice(1).flatMap((m) => m.append ?? [])];
    expect(rebuilt).toEqual([...points(1), ...appended.flat().slice(0, LIMITS.pointsPerStroke - 1)]);
    sender.end('s');
    sender.flush();
    expect(sent.at(-1)).toEqual({ elementId: 's', done: true });
  });

  it('keeps to a points rate below the server’s: past it, a moved element waits and only its latest version goes out', () => {
    const sent: Message[] = [];
    const sender = new PreviewSender((m) => sent.push(m));
    // Moving a 900-point stroke, one frame every 16 ms for a second.
    for (let frame = 0; frame < 60; frame++) {
      sender.update({ ...stroke('m', 900), x: frame });
      sender.flush();
      now += 16;
    }
    const total = sent.reduce((n, m) => n + carried(m), 0);
    expect(total).toBeLessThanOrEqual(2 * LIMITS.previewPointsPerSecond * 0.8 + LIMITS.previewPointsPerSecond * 0.8 * 1);
    expect(sent.length).toBeLessThan(60);
    // The latest position goes out once the budget refills.
    now += 1_000;
    sender.flush();
    expect(sent.at(-1)!.element?.x).toBe(59);
  });
});
