import { describe, expect, it } from 'vitest';
import { LASER_FADE_MS, LaserTrails } from './LaserTrails.js';

describe('LaserTrails', () => {
  it('joins points into one stroke while the pointer is down, and starts another after a lift', () => {
    const trails = new LaserTrails();
    trails.add('c1', 0, 0, 0);
    trails.add('c1', 10, 0, 30);
    trails.add('c1', 20, 0, 60);
    expect(trails.strokes()).toHaveLength(1);
    trails.lift('c1');
    trails.add('c1', 50, 50, 90);
    expect(trails.strokes().map((s) => s.length)).toEqual([3, 1]);
    // A long pause (a lost lift) also starts a new stroke.
    trails.add('c1', 60, 60, 90 + 1_000);
    expect(trails.strokes()).toHaveLength(3);
  });

  it('forgets points once faded, and reports when nothing is left to draw', () => {
    const trails = new LaserTrails();
    trails.add('c1', 0, 0, 0);
    trails.add('c1', 1, 1, 500);
    trails.add('c2', 5, 5, 600);
    expect(trails.prune(LASER_FADE_MS + 100)).toBe(true);
    expect(trails.size).toBe(2);
    expect(trails.prune(600 + LASER_FADE_MS + 1)).toBe(false);
    expect(trails.size).toBe(0);
    expect(trails.strokes()).toEqual([]);
  });

  it('drops a connection’s trail at once and wakes its listeners on each point', () => {
    const trails = new LaserTrails();
    let wakes = 0;
    const stop = trails.onWake(() => wakes++);
    trails.add('c1', 0, 0, 0);
    trails.add(LaserTrails.SELF, 0, 0, 0);
    stop();
    trails.add('c1', 1, 1, 10);
    expect(wakes).toBe(2);
    trails.drop('c1');
    expect(trails.size).toBe(1);
  });
});
