import { describe, expect, it } from 'vitest';
import type { Box } from '@inkboard/protocol';
import { SpatialIndex } from './SpatialIndex.js';

const box = (minX: number, minY: number, maxX: number, maxY: number): Box => ({ minX, minY, maxX, maxY });
const sorted = (ids: string[]) => [...ids].sort();

describe('SpatialIndex', () => {
  it('finds the boxes that intersect a query, each once', () => {
    const index = new SpatialIndex();
    index.set('a', box(0, 0, 10, 10));
    index.set('b', box(500, 500, 900, 900)); // over several buckets
    index.set('c', box(-300, -300, -200, -200));
    expect(sorted(index.query(box(5, 5, 600, 600)))).toEqual(['a', 'b']);
    expect(index.query(box(20, 20, 30, 30))).toEqual([]);
    expect(index.query(box(-250, -250, -240, -240))).toEqual(['c']);
    expect(sorted(index.query(box(-1e6, -1e6, 1e6, 1e6)))).toEqual(['a', 'b', 'c']);
  });

  it('moves and removes entries', () => {
    const index = new SpatialIndex();
    index.set('a', box(0, 0, 10, 10));
    index.set('a', box(1000, 1000, 1010, 1010));
    expect(index.query(box(0, 0, 20, 20))).toEqual([]);
    expect(index.query(box(1000, 1000, 1001, 1001))).toEqual(['a']);
    expect(index.boxOf('a')).toEqual(box(1000, 1000, 1010, 1010));
    index.remove('a');
    expect(index.size).toBe(0);
    expect(index.query(box(-1e6, -1e6, 1e6, 1e6))).toEqual([]);
  });

  it('keeps a box wider than many buckets in one list and still finds it', () => {
    const index = new SpatialIndex();
    index.set('huge', box(-100_000, -100_000, 100_000, 100_000));
    index.set('small', box(50_000, 50_000, 50_010, 50_010));
    expect(sorted(index.query(box(49_999, 49_999, 50_001, 50_001)))).toEqual(['huge', 'small']);
    expect(index.query(box(200_000, 0, 200_001, 1))).toEqual([]);
    index.remove('huge');
    expect(index.query(box(0, 0, 1, 1))).toEqual([]);
  });

  it('agrees with a scan of every box (seeded)', () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const index = new SpatialIndex();
    const boxes = new Map<string, Box>();
    for (let i = 0; i < 2000; i++) {
      const id = `e${i % 700}`; // updates as well as inserts
      const x = rnd() * 6000 - 1000;
      const y = rnd() * 4000 - 1000;
      const b = box(x, y, x + rnd() * 400, y + rnd() * 300);
      boxes.set(id, b);
      index.set(id, b);
      if (rnd() < 0.1) {
        boxes.delete(id);
        index.remove(id);
      }
    }
    for (let q = 0; q < 50; q++) {
      const x = rnd() * 6000 - 1000;
      const y = rnd() * 4000 - 1000;
      const query = box(x, y, x + rnd() * 2000, y + rnd() * 2000);
      const expected = [...boxes].filter(([, b]) => b.minX <= query.maxX && b.maxX >= query.minX && b.minY <= query.maxY && b.maxY >= query.minY).map(([id]) => id);
      expect(sorted(index.query(query)), `seed 11, query ${q}`).toEqual(sorted(expected));
    }
  });
});
