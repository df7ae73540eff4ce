import { jsonEncoder, type Encoder } from '@trpc/server/adapters/ws';
import type { WebSocket } from 'ws';

const MARK = '\u0000inkboard-frame\u0000';
const QUOTED_MARK = JSON.stringify(MARK);

/** Messages made by the frame encoder: bytes of JSON text, to be sent as text frames. */
const spliced = new WeakSet<Uint8Array>();

/**
 * tRPC's WebSocket adapter serializes every message for every subscriber. A board frame is the
 * same frozen object for all subscribers of a tick, so its JSON is encoded to UTF-8 once, and each
 * subscriber's message is its small envelope with those bytes copied in: no per-subscriber string
 * of the frame's size, no per-subscriber UTF-8 encoding. Other messages are tRPC's own JSON.
 * The result is bytes, which `ws` would send as a binary frame: `sendSplicedAsText` on every
 * connection keeps them text frames, as clients expect.
 */
export function createFrameEncoder(): Encoder {
  const cache = new WeakMap<object, Buffer>();
  return {
    encode(message) {
      const frame = (message as { result?: { data?: { data?: unknown } } } | null)?.result?.data?.data;
      if (frame === null || typeof frame !== 'object' || !Object.isFrozen(frame)) return jsonEncoder.encode(message);
      let body = cache.get(frame);
      if (body === undefined) {
        body = Buffer.from(JSON.stringify(frame));
        cache.set(frame, body);
      }
      const envelope = JSON.stringify(message, (_key, value: unknown) => (value === frame ? MARK : value));
      const at = envelope.indexOf(QUOTED_MARK);
      const head = envelope.slice(0, at);
      const tail = envelope.slice(at + QUOTED_MARK.length);
      const out = Buffer.allocUnsafe(Buffer.byteLength(head) + body.length + Buffer.byteLength(tail));
      let n = out.write(head, 0, 'utf8');
      n += body.copy(out, n);
      out.write(tail, n, 'utf8');
      spliced.add(out);
      return out as Uint8Array<ArrayBuffer>;
    },
    decode: jsonEncoder.decode,
  };
}

/** Whether `data` is a board frame shared by a tick's subscribers (the socket guard tells them from replies and snapshots). */
export function isSharedFrame(data: unknown): boolean {
  return data instanceof Uint8Array && spliced.has(data);
}

/** Makes `ws.send` send the frame encoder's bytes as text frames (tRPC passes no options). */
export function sendSplicedAsText(ws: WebSocket): void {
  const send = ws.send.bind(ws) as (data: unknown, options?: unknown, cb?: unknown) => void;
  ws.send = ((data: unknown, options?: unknown, cb?: unknown) => {
    if (data instanceof Uint8Array && spliced.has(data)) {
      const done = typeof options === 'function' ? options : cb;
      send(data, { binary: false }, done);
    } else send(data, options, cb);
  }) as WebSocket['send'];
}
