import { describe, expect, it } from 'vitest';
import { selectionFrame, type Element } from '@inkboard/protocol';
import { FRAME_PAD, handleAt, handleCursor, handleSpots, ROTATE_DISTANCE, showsHandles, TOUCH_REACH } from './handles.js';

const common = { z: 'a0', strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1 };
const rect: Element = { ...common, id: 'r', type: 'rectangle', x: 0, y: 0, width: 200, height: 100, fillColor: 'transparent' };
const turned: Element = { ...rect, id: 't', angle: Math.PI / 2 };
const line: Element = { ...common, id: 'l', type: 'line', x: 0, y: 0, points: [[0, 0], [100, 50]] };
const polyline: Element = { ...line, id: 'p', points: [[0, 0], [100, 50], [150, 0]] };

describe('transform handles', () => {
  it('sit on the padded frame, the rotation handle above its top side', () => {
    const frame = selectionFrame([rect])!;
    const spots = new Map(handleSpots(frame, 1).map((s) => [s.name, [s.x, s.y]]));
    expect(spots.get('nw')).toEqual([-FRAME_PAD, -FRAME_PAD]);
    expect(spots.get('se')).toEqual([200 + FRAME_PAD, 100 + FRAME_PAD]);
    expect(spots.get('e')).toEqual([200 + FRAME_PAD, 50]);
    expect(spots.get('rotate')).toEqual([100, -FRAME_PAD - ROTATE_DISTANCE]);
    expect(spots.size).toBe(9);
  });

  it('keep their screen size at any zoom and drop side handles of a side too short to hold them', () => {
    const frame = selectionFrame([rect])!;
    const at2 = new Map(handleSpots(frame, 2).map((s) => [s.name, [s.x, s.y]]));
    expect(at2.get('nw')).toEqual([-FRAME_PAD / 2, -FRAME_PAD / 2]);
    const tiny = handleSpots(frame, 0.1).map((s) => s.name);
    expect(tiny).toEqual(['rotate', 'nw', 'ne', 'se', 'sw']);
  });

  it('turn with a lone turned element', () => {
    const frame = selectionFrame([turned])!;
    const rotate = handleSpots(frame, 1).find((s) => s.name === 'rotate')!;
    // Turned a quarter clockwise about (100, 50): "above" is now to the right.
    expect(rotate.x).toBeCloseTo(100 + 50 + FRAME_PAD + ROTATE_DISTANCE);
    expect(rotate.y).toBeCloseTo(50);
    expect(handleCursor('n', frame.angle)).toBe('ew-resize');
    expect(handleCursor('ne', frame.angle)).toBe('nwse-resize');
  });

  it('are found under the pointer (a corner before a side, the rotation handle first), and nothing elsewhere', () => {
    const frame = selectionFrame([rect])!;
    expect(handleAt(frame, 1, 205, 105)).toBe('se');
    expect(handleAt(frame, 1, 100, -FRAME_PAD - ROTATE_DISTANCE + 2)).toBe('rotate');
    expect(handleAt(frame, 1, 100, -FRAME_PAD)).toBe('n');
    expect(handleAt(frame, 1, 100, 50)).toBeNull();
    expect(handleAt(frame, 1, 230, 130)).toBeNull();
  });

  it('give resize cursors along their direction', () => {
    expect(['n', 's', 'e', 'w', 'nw', 'se', 'ne', 'sw'].map((h) => handleCursor(h as 'n', 0))).toEqual([
      'ns-resize',
      'ns-resize',
      'ew-resize',
      'ew-resize',
      'nwse-resize',
      'nwse-resize',
      'nesw-resize',
      'nesw-resize',
    ]);
    expect(handleCursor('rotate', 1)).toBe('grab');
  });

  it('are not shown for a locked selection or a lone two-point line', () => {
    expect(showsHandles([rect])).toBe(true);
    expect(showsHandles([rect, { ...turned, locked: true }])).toBe(false);
    expect(showsHandles([line])).toBe(false);
    expect(showsHandles([polyline])).toBe(true);
    expect(showsHandles([line, rect])).toBe(true);
    expect(showsHandles([])).toBe(false);
  });
});

describe('handle reach', () => {
  it('is wider for a finger', () => {
    const frame = selectionFrame([rect])!;
    // 12 px right of the south-east handle: out of a mouse's reach, within a finger's.
    expect(handleAt(frame, 1, 200 + FRAME_PAD + 12, 100 + FRAME_PAD)).toBeNull();
    expect(handleAt(frame, 1, 200 + FRAME_PAD + 12, 100 + FRAME_PAD, TOUCH_REACH)).toBe('se');
  });
});
