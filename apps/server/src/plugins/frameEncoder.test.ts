import { describe, expect, it } from 'vitest';
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
    const envelope = (id: number): Envelope => ({ id, jsonrpc: '2.0', head: JSON.stringify({ id, jsonrpc: '2.0', result: { type: 'data', id: '' } }).slice(0, -3) });
    const frame = Object.freeze({ seq: 9, events: [{ type: 'op', seq: 9 }] });
    const other = Object.freeze({ seq: 9, events: [{ type: 'cursors', c: [] }] });
    const expected = (id: number, seq: number, f: Frame) => ({ id, jsonrpc: '2.0', result: { type: 'data', id: String(seq), data: { id: String(seq), data: f } } });
    // Subscribers in the order a tick serves them: the same message for the same envelope and seq
    // (one buffer), another for another request id, seq or frame, never the one made before it.
    const a = sharedFrameMessage(envelope(1), 9, frame);
    expect(sharedFrameMessage(envelope(1), 9, frame)).toBe(a);
    const b = sharedFrameMessage(envelope(2), 9, frame);
    const c = sharedFrameMessage(envelope(1), 8, frame);
    const d = sharedFrameMessage(envelope(1), 9, other);
    expect(sharedFrameMessage(envelope(1), 9, frame)).toBe(a);
    expect(decode(a)).toEqual(expected(1, 9, frame));
    expect(decode(b)).toEqual(expected(2, 9, frame));
    expect(decode(c)).toEqual(expected(1, 8, frame));
    expect(decode(d)).toEqual(expected(1, 9, other));
    expect([a, b, c, d].every(isSharedFrame)).toBe(true);
  });
});
