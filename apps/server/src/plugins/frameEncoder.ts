import { jsonEncoder, type Encoder } from '@trpc/server/adapters/ws';
import type { WebSocket } from 'ws';
import { frameSlot, freezeFrame } from '../boards/sharedFrame.js';

const MARK = '\u0000inkboard-frame\u0000';
const QUOTED_MARK = JSON.stringify(MARK);

/** Messages made by the frame encoder: bytes of JSON text, to be sent as text frames. */
const spliced = new WeakSet<Uint8Array>();
/** Of those, the messages that carry one subscriber's own answer (a first frame), not a tick's shared frame. */
const answers = new WeakSet<Uint8Array>();

/**
 * What the encoder keeps in a shared frame's slot (boards/sharedFrame.ts), made once for every
 * subscriber: never in a WeakMap keyed by the frame, whose values V8's young collections keep alive.
 */
interface FrameCache {
  /** The frame's JSON as UTF-8. */
  bytes?: Buffer;
  /** A frame whose JSON was made beforehand, in parts (a snapshot serialized once, by a worker). */
  parts?: readonly Uint8Array[];
  /** The JSON-RPC envelope (id, jsonrpc) a prebuilt first frame was sent in: see `envelopeOf`. */
  envelope?: Envelope;
  /** The whole message for each envelope and tracked id (`sharedFrameMessage`). */
  messages?: Map<string, SharedMessage>;
}

const cacheOf = (frame: object) => frameSlot(frame) as FrameCache | undefined;

/** What tRPC's WebSocket adapter wraps a subscription's data in: the request's id and jsonrpc. */
export interface Envelope {
  id: string | number | null;
  jsonrpc: string | undefined;
  /** `{"id":...,"jsonrpc":...,"result":{"type":"data","id":"` as tRPC writes it. */
  head: string;
}

/**
 * A frame `{seq, events: [...first, ...rest]}` whose first events are JSON bytes made elsewhere and
 * shared (a snapshot made by a render worker, a backlog of ops; `firstJson` is their JSON joined by
 * commas, empty for none): the frame encoder copies those bytes into the subscriber's message
 * instead of serializing the events again. The returned object is a placeholder only the frame
 * encoder can send (subscriptions run over the WebSocket only).
 */
export function withEventBytes<F extends { seq: number; events: unknown[] }>(seq: number, firstJson: Uint8Array, rest: F['events']): F {
  const head = Buffer.from(`{"seq":${JSON.stringify(seq)},"events":[`);
  const tail = Buffer.from(`${rest.map((e, i) => (i > 0 || firstJson.byteLength > 0 ? ',' : '') + JSON.stringify(e)).join('')}]}`);
  const frame = freezeFrame({ seq, events: [] }) as unknown as F;
  cacheOf(frame)!.parts = [head, firstJson, tail];
  return frame;
}

/**
 * tRPC's WebSocket adapter serializes every message for every subscriber. A board frame is the
 * same frozen object for all subscribers of a tick, so its JSON is encoded to UTF-8 once, and each
 * subscriber's message is its small envelope with those bytes copied in: no per-subscriber string
 * of the frame's size, no per-subscriber UTF-8 encoding. Other messages are tRPC's own JSON.
 * The result is bytes, which `ws` would send as a binary frame: `sendSplicedAsText` on every
 * connection keeps them text frames, as clients expect.
 */
export function createFrameEncoder(): Encoder {
  return {
    encode(message) {
      const frame = (message as { result?: { data?: { data?: unknown } } } | null)?.result?.data?.data;
      if (frame === null || typeof frame !== 'object' || !Object.isFrozen(frame)) return jsonEncoder.encode(message);
      const cache = cacheOf(frame);
      const parts = cache?.parts;
      let body: readonly Uint8Array[];
      if (parts) body = parts;
      else body = [frameBytes(frame)];
      const envelope = JSON.stringify(message, (_key, value: unknown) => (value === frame ? MARK : value));
      const at = envelope.indexOf(QUOTED_MARK);
      const head = envelope.slice(0, at);
      const tail = envelope.slice(at + QUOTED_MARK.length);
      let size = Buffer.byteLength(head) + Buffer.byteLength(tail);
      for (const part of body) size += part.byteLength;
      const out = Buffer.allocUnsafe(size);
      let n = out.write(head, 0, 'utf8');
      for (const part of body) {
        out.set(part, n);
        n += part.byteLength;
      }
      out.write(tail, n, 'utf8');
      spliced.add(out);
      if (parts) {
        answers.add(out);
        const { id, jsonrpc } = message as { id: string | number | null; jsonrpc?: string };
        cache!.envelope = { id, jsonrpc, head: JSON.stringify({ id, jsonrpc, result: { type: 'data', id: '' } }).slice(0, -3) };
      }
      return out as Uint8Array<ArrayBuffer>;
    },
    decode: jsonEncoder.decode,
  };
}

/**
 * The envelope a subscription's first frame (made with `withEventBytes`) was sent in, once it was
 * sent; undefined before, or when it did not go through the frame encoder.
 */
export function envelopeOf(firstFrame: object): Envelope | undefined {
  return cacheOf(firstFrame)?.envelope;
}

/** A tick's frame as one subscriber's whole message (`message`) and as the WebSocket text frame that carries it (`wire`). */
export interface SharedMessage {
  /** The JSON-RPC message: a view into `wire`, past the frame's header. */
  message: Buffer;
  /** One unmasked, final WebSocket text frame (RFC 6455 5.2) holding `message`. */
  wire: Buffer;
}

/**
 * A tick's shared frame as the whole message tRPC would send for a tracked subscription item
 * (`{id, jsonrpc, result: {type: 'data', id, data: {id, data: frame}}}`, the tracked id being
 * `String(seq)`), made once per frame, envelope and seq: the subscribers of a board with the same
 * request id and seq (nearly all) share one buffer. Made in place inside its WebSocket frame, so
 * sending it needs no copy. Marked as a shared frame: `sendSplicedAsText` sends it as text, the
 * socket guard counts it as a tick's frame. This is the subscription's fast path (trpc/routers/board.ts).
 */
export function sharedFrameMessage(envelope: Envelope, seq: number, frame: object): SharedMessage {
  // A tick's subscribers are served one after another: the last message made fits nearly all of
  // them, without building and looking up a key per subscriber (issue 19).
  const last = lastShared;
  if (last !== null && last.frame === frame && last.seq === seq && last.head === envelope.head) return last.shared;
  const cache = cacheOf(frame);
  const trackedId = String(seq);
  const key = envelope.head + trackedId;
  let shared = cache?.messages?.get(key);
  if (shared === undefined) {
    shared = textFrame(`${key}","data":{"id":"${trackedId}","data":`, frameBytes(frame), '}}}');
    spliced.add(shared.message);
    if (cache) (cache.messages ??= new Map()).set(key, shared);
  }
  lastShared = { frame, head: envelope.head, seq, shared };
  return shared;
}

/** The message `sharedFrameMessage` made or found last (holds one frame alive until the next tick's). */
let lastShared: { frame: object; head: string; seq: number; shared: SharedMessage } | null = null;

/** `head + body + tail` as the payload of one WebSocket text frame, in one buffer. */
function textFrame(head: string, body: Uint8Array, tail: string): SharedMessage {
  const n = Buffer.byteLength(head) + body.byteLength + Buffer.byteLength(tail);
  const headerLength = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const wire = Buffer.allocUnsafe(headerLength + n);
  wire[0] = 0x81; // FIN, opcode 1 (text)
  if (n < 126) wire[1] = n;
  else if (n < 65_536) {
    wire[1] = 126;
    wire.writeUInt16BE(n, 2);
  } else {
    wire[1] = 127;
    wire.writeBigUInt64BE(BigInt(n), 2);
  }
  let at = headerLength + wire.write(head, headerLength, 'utf8');
  wire.set(body, at);
  at += body.byteLength;
  wire.write(tail, at, 'utf8');
  return { message: wire.subarray(headerLength), wire };
}

interface WsInternals {
  _socket?: { write(chunk: Buffer): boolean; destroyed: boolean } | null;
  _sender?: { _state: number; _queue: unknown[] } | null;
}

/**
 * Sends a tick's shared message (`sharedFrameMessage`) on `ws`. When the connection's sender is idle
 * (nothing queued: no compression, no blob being read, which is always so on this server), its
 * WebSocket frame, made once for every subscriber, is written to the TCP socket as it is: what
 * `ws.send` would write, without framing the same bytes again per subscriber (issue 19).
 * Otherwise `ws.send`, in order behind what is queued. Unsent bytes count in `ws.bufferedAmount`
 * either way (the TCP socket's buffer), as the socket guard expects.
 */
export function sendShared(ws: WebSocket, shared: SharedMessage): void {
  const { _socket: socket, _sender: sender } = ws as unknown as WsInternals;
  if (ws.readyState === ws.OPEN && socket && !socket.destroyed && sender && sender._state === 0 && sender._queue.length === 0) socket.write(shared.wire);
  else ws.send(shared.message);
}

/** The JSON of a frozen frame as UTF-8, made once (shared with the encoder). */
function frameBytes(frame: object): Buffer {
  const cache = cacheOf(frame);
  if (cache === undefined) return Buffer.from(JSON.stringify(frame));
  return (cache.bytes ??= Buffer.from(JSON.stringify(frame)));
}

/** Whether `data` is a board frame shared by a tick's subscribers (the socket guard tells them from replies and snapshots). */
export function isSharedFrame(data: unknown): boolean {
  return data instanceof Uint8Array && spliced.has(data) && !answers.has(data);
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
