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
