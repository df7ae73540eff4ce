/**
 * A frame sent to many subscribers (a tick's events, a first frame made of prebuilt bytes) is frozen,
 * and carries a slot where the frame encoder keeps what it makes of it once for all of them: its JSON
 * bytes, each envelope's whole message (plugins/frameEncoder.ts). The slot is a symbol-keyed
 * property, so `JSON.stringify` never sees it, and it lives exactly as long as the frame.
 *
 * Not a WeakMap keyed by the frame: V8's scavenger treats a WeakMap's values as live while it runs,
 * so the buffers of every tick stored that way survived young collections, were promoted, and were
 * freed only by a mark-compact; under the school load (issue 19) about 4 MB a second of dead buffers
 * piled up outside the heap between mark-compacts, most of the memory per connection.
 */
export const FRAME_SLOT: unique symbol = Symbol('inkboard.frameSlot');

/** What a frozen frame's slot holds: filled by the frame encoder. */
export type FrameSlot = Record<string, unknown>;

/** `frame`, frozen, with an empty slot. */
export function freezeFrame<F extends object>(frame: F): Readonly<F> {
  Object.defineProperty(frame, FRAME_SLOT, { value: {}, enumerable: false });
  return Object.freeze(frame);
}

/** The slot of a frame made by `freezeFrame`; undefined for any other object. */
export function frameSlot(frame: object): FrameSlot | undefined {
  return (frame as { [FRAME_SLOT]?: FrameSlot })[FRAME_SLOT];
}

/** The committed ops of a frame: seqs `first`..`last`, each one more than the one before (`contiguous`). */
interface OpRange {
  first: number;
  last: number;
  contiguous: boolean;
}

function opRange(events: readonly { type: string; seq?: number }[]): OpRange | null {
  let range: OpRange | null = null;
  for (const e of events) {
    if (e.type !== 'op') continue;
    const seq = e.seq!;
    if (range === null) range = { first: seq, last: seq, contiguous: true };
    else {
      if (seq !== range.last + 1) range.contiguous = false;
      range.last = seq;
    }
  }
  return range;
}

/**
 * The seq a subscriber reaches with `frame` when it continues the subscriber's `seq` exactly (its ops,
 * if any, are seq + 1, seq + 2, ... in order, and the frame's seq is not past them), else -1: a gap
 * or a duplicate that the subscription mends. What it finds of a shared (frozen) frame is kept in its
 * slot, worked out once for every subscriber of the tick.
 */
export function continuation(frame: { seq: number; events: readonly { type: string; seq?: number }[] }, seq: number): number {
  const slot = frameSlot(frame);
  let ops: OpRange | null | undefined = slot?.ops as OpRange | null | undefined;
  if (ops === undefined) {
    ops = opRange(frame.events);
    if (slot) slot.ops = ops;
  }
  let next = seq;
  if (ops !== null) {
    if (!ops.contiguous || ops.first !== seq + 1) return -1;
    next = ops.last;
  }
  return frame.seq > next ? -1 : next;
}
