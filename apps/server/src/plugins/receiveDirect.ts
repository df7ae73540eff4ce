import type { WebSocket } from 'ws';

/** What this module uses of `ws`'s Receiver (a Writable stream that parses WebSocket frames). */
interface ReceiverInternals {
  write(chunk: Buffer, encoding?: unknown, cb?: unknown): boolean;
  _write(chunk: Buffer, encoding: string, cb: (err?: Error | null) => void): void;
  _writableState: { length: number; writing: boolean; ending: boolean; destroyed: boolean; corked: number; errored: unknown; constructed: boolean };
  _allowSynchronousEvents?: boolean;
  _extensions?: Record<string, unknown>;
  _state?: number;
  destroy(err?: Error): void;
}

/** The Receiver's states from reading a frame's first byte to its payload (ws/lib/receiver.js); 5 and 6 wait for something. */
const LAST_SYNCHRONOUS_STATE = 4;

/**
 * `ws` hands every chunk read from a connection to its Receiver through the Writable stream
 * interface (`receiver.write(chunk)`): the stream's bookkeeping, then the Receiver's `_write`, which
 * parses the frames and emits their messages, and the write's callback on a `process.nextTick`. On
 * this server the Receiver handles a chunk synchronously (no compression, synchronous events, as the
 * server runs `ws`), so the Writable never holds anything and its work is overhead paid for every
 * message read: under the school load of issue 19 (22,000 cursor moves and previews a second at
 * N = 600) about 5% of the busy server's time, in a profile, with the callbacks' ticks.
 *
 * This gives the connection's Receiver a `write` that calls `_write` straight away whenever the
 * Writable is idle (nothing buffered or being written, not ended, not destroyed, not errored) and
 * the Receiver is between frames or inside one (not waiting for a decompression or a deferred
 * event); otherwise, and for a connection using an extension or asynchronous events, `ws`'s own
 * way. A parse error (a message too large, bad UTF-8, a bad opcode) destroys the Receiver with it,
 * as the Writable does, and `ws` closes the connection with the same code.
 */
export function receiveDirectly(ws: WebSocket): void {
  const receiver = (ws as unknown as { _receiver?: ReceiverInternals })._receiver;
  if (!receiver || typeof receiver._write !== 'function' || !receiver._writableState) return;
  if (receiver._allowSynchronousEvents !== true) return;
  if (receiver._extensions && Object.keys(receiver._extensions).length > 0) return;
  const state = receiver._writableState;
  const written = (err?: Error | null) => {
    if (err) receiver.destroy(err);
  };
  const write = receiver.write;
  // Named parameters, not a rest array: this runs for every read of every connection.
  receiver.write = function (this: ReceiverInternals, chunk: Buffer, encoding?: unknown, cb?: unknown): boolean {
    if (
      encoding === undefined &&
      cb === undefined &&
      Buffer.isBuffer(chunk) &&
      state.length === 0 &&
      !state.writing &&
      !state.ending &&
      !state.destroyed &&
      state.corked === 0 &&
      state.errored == null &&
      state.constructed &&
      (receiver._state ?? 0) <= LAST_SYNCHRONOUS_STATE
    ) {
      receiver._write(chunk, 'buffer', written);
      return true;
    }
    return write.call(this, chunk, encoding, cb);
  };
}
