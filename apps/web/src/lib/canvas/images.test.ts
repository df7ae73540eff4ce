import { describe, expect, it } from 'vitest';
import { drawImageElement, DARK_THEME_COUNTER_FILTER, ImageCache, levelFor, type Bitmap } from './images.js';

const fileId = (n: number) => n.toString(16).padStart(64, '0');
const image = (n: number, w = 1000, h = 1000) => ({ fileId: fileId(n), naturalWidth: w, naturalHeight: h });

/** A cache whose files and decodes are instant fakes; `decoded` records what was decoded at which size. */
function fakeCache(maxBytes: number, clock: { t: number }) {
  const decoded: string[] = [];
  const closed: Bitmap[] = [];
  const cache = new ImageCache('board', {
    maxBytes,
    now: () => clock.t,
    fetchFile: async (id) => new Blob([id]),
    decode: async (blob, width, height) => {
      decoded.push(`${await blob.text()}@${width ?? 'full'}`);
      const bitmap: Bitmap = { width: width ?? 1000, height: height ?? 1000, close: () => closed.push(bitmap) };
      return bitmap;
    },
  });
  const loads: string[] = [];
  cache.onLoad = (id) => loads.push(id);
  return { cache, decoded, closed, loads };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('levelFor', () => {
  it('picks the smallest halving still as wide as the image is drawn', () => {
    expect(levelFor(4000, 3000, 4000)).toBe(0);
    expect(levelFor(4000, 3000, 5000)).toBe(0);
    expect(levelFor(4000, 3000, 1999)).toBe(1);
    expect(levelFor(4000, 3000, 400)).toBe(3); // 500 px wide
    expect(levelFor(4000, 3000, 0)).toBe(0);
  });

  it('does not shrink below 64 px on the short side', () => {
    expect(levelFor(4000, 100, 10)).toBe(0);
    expect(levelFor(1024, 1024, 1)).toBe(4);
  });
});

describe('ImageCache', () => {
  it('draws nothing until decoded, then the bitmap; says when it became drawable', async () => {
    const clock = { t: 0 };
    const { cache, decoded, loads } = fakeCache(1e9, clock);
    expect(cache.bitmapFor(image(1), 1000)).toBeNull();
    expect(cache.bitmapFor(image(1), 1000)).toBeNull(); // one load, not two
    await settle();
    expect(decoded).toEqual([`${fileId(1)}@full`]);
    expect(loads).toEqual([fileId(1)]);
    expect(cache.bitmapFor(image(1), 1000)?.width).toBe(1000);
  });

  it('decodes small versions for small drawings and shows the one it has meanwhile', async () => {
    const clock = { t: 0 };
    const { cache, decoded } = fakeCache(1e9, clock);
    cache.bitmapFor(image(1), 1000);
    await settle();
    // Drawn 200 px wide: a quarter (250 px) is decoded; the full one stands in until then.
    expect(cache.bitmapFor(image(1), 200)?.width).toBe(1000);
    await settle();
    expect(decoded).toEqual([`${fileId(1)}@full`, `${fileId(1)}@250`]);
    expect(cache.bitmapFor(image(1), 200)?.width).toBe(250);
  });

  it('keeps decoded pixels within its budget, dropping the least recently drawn first', async () => {
    const clock = { t: 0 };
    // 1000 x 1000 x 4 bytes each: room for two.
    const { cache, closed } = fakeCache(8_000_000, clock);
    for (const n of [1, 2, 3]) {
      clock.t += 10_000;
      cache.bitmapFor(image(n), 1000);
      await settle();
    }
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBeLessThanOrEqual(8_000_000);
    expect(closed).toHaveLength(1); // the first one's bitmap was released
    clock.t += 10_000;
    expect(cache.bitmapFor(image(1), 1000)).toBeNull(); // dropped: loaded again
    expect(cache.bitmapFor(image(3), 1000)).not.toBeNull();
  });

  it('does not drop what was just drawn (a view showing more than the budget overshoots instead of looping)', async () => {
    const clock = { t: 0 };
    const { cache, decoded } = fakeCache(4_000_000, clock);
    // One frame draws three images: each load finishes and the frame is redrawn.
    for (let frame = 0; frame < 3; frame++) {
      for (const n of [1, 2, 3]) cache.bitmapFor(image(n), 1000);
      await settle();
      clock.t += 16;
    }
    expect(decoded).toHaveLength(3); // each decoded once, none dropped and loaded again
    expect(cache.size).toBe(3);
    // Once the view moves on (time passes), the next decode brings it back within budget.
    clock.t += 10_000;
    cache.bitmapFor(image(4), 1000);
    await settle();
    expect(cache.bytes).toBeLessThanOrEqual(4_000_000);
  });

  it('marks a file that fails as broken and does not ask again at once', async () => {
    const clock = { t: 0 };
    let asked = 0;
    const cache = new ImageCache('board', {
      now: () => clock.t,
      fetchFile: async () => {
        asked++;
        throw new Error('You do not have access to this board.');
      },
    });
    const warn = console.warn;
    console.warn = () => {};
    try {
      cache.bitmapFor(image(1), 100);
      await settle();
      expect(cache.hasFailed(fileId(1))).toBe(true);
      cache.bitmapFor(image(1), 100);
      await settle();
      expect(asked).toBe(1);
      clock.t += 60_000;
      expect(cache.hasFailed(fileId(1))).toBe(false);
      cache.bitmapFor(image(1), 100);
      await settle();
      expect(asked).toBe(2);
    } finally {
      console.warn = warn;
    }
  });

  it('fetches a file once for several readers', async () => {
    let asked = 0;
    const cache = new ImageCache('board', {
      fetchFile: async (id) => {
        asked++;
        return new Blob([id]);
      },
    });
    const [a, b] = await Promise.all([cache.file(fileId(7)), cache.file(fileId(7))]);
    expect(await a.text()).toBe(fileId(7));
    expect(b).toBe(a);
    await cache.file(fileId(7));
    expect(asked).toBe(1);
  });
});

describe('drawImageElement', () => {
  /** A context that records what is drawn (and the filter at the time). */
  function fakeContext(scale: number) {
    const calls: string[] = [];
    const ctx = {
      filter: 'none',
      imageSmoothingQuality: 'low',
      lineWidth: 1,
      fillStyle: '',
      strokeStyle: '',
      getTransform: () => ({ a: scale, b: 0 }),
      drawImage: (_b: unknown, x: number, y: number, w: number, h: number) => calls.push(`image ${x},${y} ${w}x${h} filter=${ctx.filter}`),
      fillRect: () => calls.push('placeholder'),
      strokeRect: () => {},
      beginPath: () => {},
      moveTo: () => {},
      lineTo: () => {},
      arc: () => {},
      stroke: () => {},
    };
    return { ctx: ctx as unknown as CanvasRenderingContext2D, calls, raw: ctx };
  }
  const el = { type: 'image' as const, id: 'i', z: 'a0', x: 10, y: 20, width: 100, height: 50, strokeColor: '#1e1e1e', strokeWidth: 1, opacity: 1, fileId: fileId(9), naturalWidth: 1000, naturalHeight: 500 };

  it('draws a placeholder until the picture is decoded at the drawn size, then the picture (through the dark theme’s counter filter)', async () => {
    const clock = { t: 0 };
    const { cache, decoded } = fakeCache(1e9, clock);
    const { ctx, calls, raw } = fakeContext(2);
    drawImageElement(ctx, el, cache);
    expect(calls).toEqual(['placeholder']);
    await settle();
    // 100 world units at 2 device pixels each: 200 px, so the quarter (250 px) is decoded.
    expect(decoded).toEqual([`${fileId(9)}@250`]);
    cache.counterFilter = DARK_THEME_COUNTER_FILTER;
    drawImageElement(ctx, el, cache);
    expect(calls.at(-1)).toBe(`image 10,20 100x50 filter=${DARK_THEME_COUNTER_FILTER}`);
    expect(raw.filter).toBe('none');
  });
});
