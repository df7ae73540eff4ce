import type { WireFrame } from '@inkboard/protocol';

/** Queued in place of a frame when events may have been lost: the subscription checks the database. */
export const RESYNC = Symbol('resync');

/**
 * Buffers frames for one subscriber between the hub's callback and the subscription's generator.
 * Overflows (a consumer far behind) end the iteration with an error: the client resumes from its
 * last seq.
 */
export class FrameQueue {
  private readonly frames: (WireFrame | typeof RESYNC)[] = [];
  private wake: (() => void) | null = null;
  private overflowed = false;
  private failure: Error | null = null;

  constructor(private readonly limit = 2_000) {}

  push = (frame: WireFrame | typeof RESYNC): void => {
    if (this.frames.length >= this.limit) this.overflowed = true;
    else this.frames.push(frame);
    this.wake?.();
  };

  /**
   * Hands `frame` to `direct` instead of queueing it when nothing is ahead of it: the generator is
   * waiting for a frame (not holding one, not suspended at a yield) and the queue is empty. `direct`
   * returns false to have the frame queued after all (the generator then handles it).
   */
  offer(frame: WireFrame, direct: ((frame: WireFrame) => boolean) | null): void {
    if (direct !== null && this.frames.length === 0 && this.wake !== null && this.waiting && !this.overflowed && !this.failure && direct(frame)) return;
    this.push(frame);
  }

  /** The generator is parked in `drain` waiting for a frame. */
  private waiting = false;

  resync = (): void => {
    if (this.frames.at(-1) !== RESYNC) this.push(RESYNC);
  };

  /** Ends the iteration with `error` (after nothing more is delivered). */
  fail = (error: Error): void => {
    this.failure = error;
    this.frames.length = 0;
    this.wake?.();
  };

  async *drain(signal: AbortSignal | undefined): AsyncGenerator<WireFrame | typeof RESYNC> {
    const onAbort = () => this.wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        if (this.failure) throw this.failure;
        if (this.overflowed) throw new Error('subscriber fell too far behind; reconnect to resume');
        const frame = this.frames.shift();
        if (frame) {
          yield frame;
          continue;
        }
        this.waiting = true;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.waiting = false;
        this.wake = null;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
