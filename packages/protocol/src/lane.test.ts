import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeLane, LANE_PREFIX, laneMessageSchema, oneCursorFast, type LaneEvent } from './lane.js';
import { LIMITS, MAX_COORD } from './primitives.js';

/** What the server did before the fast path: JSON, then the schema (null when either refuses). */
function viaSchema(text: string): LaneEvent[] | null {
  let json: unknown;
  try {
    json = JSON.parse(text.slice(LANE_PREFIX.length));
  } catch {
    return null;
  }
  const parsed = laneMessageSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

const idChars = 'ABCxyz019_-';
const validId = fc.string({ unit: fc.constantFrom(...idChars), minLength: 1, maxLength: LIMITS.idLength });
/** Ids the schema takes and ids it refuses (empty, too long, other characters, quotes and escapes). */
const anyId = fc.oneof(
  validId,
  fc.constant(''),
  fc.string({ unit: fc.constantFrom(...idChars), minLength: LIMITS.idLength + 1, maxLength: LIMITS.idLength + 3 }),
  fc.string({ unit: fc.constantFrom('a', ' ', '"', '\\', 'é', '.', '\u2028'), minLength: 1, maxLength: 6 }),
);
/** Coordinates in range, at and past its ends, and special values. */
const anyCoord = fc.oneof(
  fc.double({ min: -MAX_COORD, max: MAX_COORD, noNaN: true }),
  fc.integer({ min: -MAX_COORD * 2, max: MAX_COORD * 2 }),
  fc.constantFrom(MAX_COORD, -MAX_COORD, MAX_COORD + 1e-9, -0, 0, 1e-7, 5e-324, Number.MAX_VALUE, Infinity, -Infinity, NaN),
);
/** Numbers as text, including forms JSON.stringify never writes (exponents, signs, leading zeros). */
const numberText = fc.oneof(
  anyCoord.map((n) => JSON.stringify(n)),
  fc.constantFrom('1e3', '1E+3', '-1e-3', '1.5e999', '-0', '00', '01', '+1', '.5', '5.', '1e', '"1"', 'null', 'true', '0x10', '1_000'),
);

describe('oneCursorFast: the lane fast path for one cursor move', () => {
  it('takes the messages a client sends (Lane.cursor), with the result of the schema', () => {
    fc.assert(
      fc.property(validId, anyCoord, anyCoord, fc.boolean(), (boardId, x, y, laser) => {
        const event: LaneEvent = laser ? { type: 'cursor', boardId, x, y, laser: true } : { type: 'cursor', boardId, x, y };
        const text = encodeLane([event]);
        const schema = viaSchema(text);
        const fast = oneCursorFast(text);
        // Never accepts what the schema refuses; returns exactly what it returns.
        if (fast) expect(fast).toEqual(schema);
        // Every cursor the schema accepts in this form goes the fast way.
        if (schema) expect(fast).not.toBeNull();
      }),
      { numRuns: 5_000 },
    );
  });

  it('never accepts what the schema refuses, whatever the ids, numbers and extra text', () => {
    fc.assert(
      fc.property(
        anyId,
        numberText,
        numberText,
        fc.constantFrom('', ',"laser":true', ',"laser":false', ',"laser":1', ',"extra":1'),
        fc.constantFrom('~[', '~ [', '[', '~[ ', '~[{"type":"cursor"},'),
        fc.constantFrom(']', '] ', '],', ',{"type":"typing","boardId":"b"}]'),
        (boardId, x, y, tail, open, close) => {
          const text = `${open}{"type":"cursor","boardId":${JSON.stringify(boardId)},"x":${x},"y":${y}${tail}}${close}`;
          const fast = oneCursorFast(text);
          if (fast) expect(fast).toEqual(viaSchema(text));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('leaves other messages to the schema', () => {
    for (const text of [
      '~[{"boardId":"b1","type":"cursor","x":1,"y":2}]', // other key order
      '~[{"type":"cursor","boardId":"b1","x":1,"y":2},{"type":"cursor","boardId":"b2","x":1,"y":2}]',
      '~[{"type":"typing","boardId":"b1"}]',
      '~[{"type":"cursor","boardId":"b1","x":2000000,"y":2}]',
      '~[{"type":"cursor","boardId":"b\\u0031","x":1,"y":2}]', // an escape the schema would decode
      '~[]',
    ]) {
      expect(oneCursorFast(text), text).toBeNull();
    }
    expect(oneCursorFast('~[{"type":"cursor","boardId":"b1","x":-0.5,"y":1e3}]')).toEqual([{ type: 'cursor', boardId: 'b1', x: -0.5, y: 1000 }]);
  });
});
