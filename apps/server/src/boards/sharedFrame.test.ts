import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { continuation, freezeFrame } from './sharedFrame.js';

/** The check the subscription's fast path made per subscriber before `continuation` (issue 19). */
function byWalking(frame: { seq: number; events: { type: string; seq?: number }[] }, seq: number): number {
  let next = seq;
  for (const e of frame.events) {
    if (e.type !== 'op') continue;
    if (e.seq !== next + 1) return -1;
    next = e.seq;
  }
  return frame.seq > next ? -1 : next;
}

const event = fc.oneof(
  fc.record({ type: fc.constant('op'), seq: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ type: fc.constantFrom('cursor', 'preview', 'chat') }),
);

describe('continuation', () => {
  it('gives what walking the frame gives, for shared (frozen) frames and others, asked by many subscribers', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 8 }), fc.integer({ min: 0, max: 14 }), fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 5 }), (events, frameSeq, seqs) => {
        const plain = { seq: frameSeq, events };
        const shared = freezeFrame({ seq: frameSeq, events });
        for (const seq of seqs) {
          expect(continuation(plain, seq)).toBe(byWalking(plain, seq));
          expect(continuation(shared, seq)).toBe(byWalking(plain, seq));
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('takes a frame whose ops continue the seq, and refuses a gap, a duplicate and ops out of order', () => {
    const frame = (seq: number, ...ops: number[]) => freezeFrame({ seq, events: [{ type: 'cursor' }, ...ops.map((s) => ({ type: 'op', seq: s }))] });
    expect(continuation(frame(5, 6, 7), 5)).toBe(7);
    expect(continuation(frame(5), 5)).toBe(5);
    expect(continuation(frame(6), 5)).toBe(-1); // the frame is past the subscriber: ops it lacks
    expect(continuation(frame(7, 7), 5)).toBe(-1); // a gap
    expect(continuation(frame(6, 5, 6), 5)).toBe(-1); // a duplicate
    expect(continuation(frame(7, 7, 6), 5)).toBe(-1); // out of order
  });
});
