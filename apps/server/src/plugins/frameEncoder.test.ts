import { describe, expect, it } from 'vitest';
import { freezeFrame } from '../boards/sharedFrame.js';
import { createFrameEncoder, isSharedFrame, sharedFrameMessage, withEventBytes, type Envelope } from './frameEncoder.js';

type Frame = { seq: number; events: unknown[] };
const decode = (bytes: unknown) => JSON.parse(Buffer.from(bytes as Uint8Array).toString('utf8')) as unknown;
const message = (frame: Frame) => ({ id: 7, jsonrpc: '2.0', result: { type: 'data', data: { id: String(frame.seq), data: frame } } });

describe('frame encoder', () => {
  it('splices prebuilt events (a snapshot, a backlog) before the per-subscriber ones: the same JSON as serializing the frame', () => {
    const encoder = createFrameEncoder();
    const snapshot = { type: 'snapshot', seq: 5, elements: [{ id: 'a', text: 'é ✓' }] };
    const presence = { type: 'presence', clients: [], self: 'c1' };
    const frame = withEventBytes<Frame>(5, Buffer.from(JSON.stringify(snapshot)), [presence]);
    const out = encoder.encode(message(frame));
    expect(decode(out)).toEqual(message({ seq: 5, events: [snapshot, presence] }));
    // A subscriber's own answer (credited by the socket guard as it drains), not a tick's shared frame.
    expect(isSharedFrame(out)).toBe(false);
  });

  it('with no prebuilt events (an empty backlog) the frame holds only the rest; several ops joined by commas', () => {
    const encoder = createFrameEncoder();
    const presence = { type: 'presence', clients: [], self: 'c2' };
    expect(decode(encoder.encode(message(withEventBytes<Frame>(3, new Uint8Array(0), [presence]))))).toEqual(message({ seq: 3, events: [presence] }));
    const ops = [{ type: 'op', seq: 4 }, { type: 'op', seq: 5 }];
    const joined = Buffer.from(ops.map((o) => JSON.stringify(o)).join(','));
    expect(decode(encoder.encode(message(withEventBytes<Frame>(5, joined, [presence]))))).toEqual(message({ seq: 5, events: [...ops, presence] }));
  });

  it('a tick frame (frozen, shared) is still marked shared', () => {
    const encoder = createFrameEncoder();
    const frame = Object.freeze({ seq: 1, events: [{ type: 'op', seq: 1 }] });
    expect(isSharedFrame(encoder.encode(message(frame)))).toBe(true);
  });

  it("a tick's shared message is what tRPC would send for each subscriber's envelope and seq, shared by those with the same", () => {
    const envelope = (id: number | string): Envelope => ({ id, jsonrpc: '2.0', head: JSON.stringify({ id, jsonrpc: '2.0', result: { type: 'data', id: '' } }).slice(0, -3) });
    const frame = freezeFrame({ seq: 9, events: [{ type: 'op', seq: 9 }] });
    const other = freezeFrame({ seq: 9, events: [{ type: 'cursors', c: [] }] });
    const expected = (id: number | string, seq: number, f: Frame) => ({ id, jsonrpc: '2.0', result: { type: 'data', id: String(seq), data: { id: String(seq), data: f } } });
    // Subscribers in the order a tick serves them: the same message for the same envelope and seq
    // (one buffer), another for another request id, seq or frame, never the one made before it.
    const a = sharedFrameMessage(envelope(1), 9, frame);
    expect(sharedFrameMessage(envelope(1), 9, frame)).toBe(a);
    const b = sharedFrameMessage(envelope('é✓'), 9, frame);
    const c = sharedFrameMessage(envelope(1), 8, frame);
    const d = sharedFrameMessage(envelope(1), 9, other);
    expect(sharedFrameMessage(envelope(1), 9, frame)).toBe(a);
    expect(decode(a.message)).toEqual(expected(1, 9, frame));
    expect(decode(b.message)).toEqual(expected('é✓', 9, frame));
    expect(decode(c.message)).toEqual(expected(1, 8, frame));
    expect(decode(d.message)).toEqual(expected(1, 9, other));
    expect([a, b, c, d].every((m) => isSharedFrame(m.message))).toBe(true);
  });

  it('a shared message is built inside its WebSocket text frame: a final text frame header, then the message, for each length class', () => {
    const head = JSON.stringify({ id: 1, jsonrpc: '2.0', result: { type: 'data', id: '' } }).slice(0, -3);
    const envelope: Envelope = { id: 1, jsonrpc: '2.0', head };
    for (const size of [10, 200, 70_000]) {
      const frame = freezeFrame({ seq: 1, events: [{ type: 'chat', text: 'x'.repeat(size) }] });
      const { message, wire } = sharedFrameMessage(envelope, 1, frame);
      expect(wire[0]).toBe(0x81);
      const length = wire[1]! < 126 ? wire[1]! : wire[1] === 126 ? wire.readUInt16BE(2) : Number(wire.readBigUInt64BE(2));
      const header = wire[1]! < 126 ? 2 : wire[1] === 126 ? 4 : 10;
      expect(length).toBe(message.byteLength);
      expect(header + length).toBe(wire.byteLength);
      expect(Buffer.compare(wire.subarray(header), message)).toBe(0);
    }
  });

  it('a frozen frame keeps its cache out of its JSON and is still frozen', () => {
    const frame = freezeFrame({ seq: 2, events: [{ type: 'op', seq: 2 }] });
    expect(Object.isFrozen(frame)).toBe(true);
    expect(JSON.stringify(frame)).toBe('{"seq":2,"events":[{"type":"op","seq":2}]}');
    expect(Object.keys(frame)).toEqual(['seq', 'events']);
  });
});
