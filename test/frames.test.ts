import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromWireFrame, type WireFrame } from '@inkboard/protocol';
import type { Op } from '@inkboard/protocol';
import { addOp, deleteOp, stroke } from './helpers/elements.js';
import { connect, pushPatiently, startServer, testUser, waitFor, type TestServer } from './helpers/server.js';

/**
 * Board frames are encoded once per tick and spliced into each subscriber's tRPC envelope as bytes
 * (apps/server/src/plugins/frameEncoder.ts): they must still be text frames, valid JSON, and the
 * same frame for every subscriber.
 */

let server: TestServer;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await server.destroy();
});

interface Received {
  text: string;
  binary: boolean;
}

/** A raw tRPC WebSocket subscribed to the board as subscription `subId`, recording every message. */
async function subscriber(token: string, boardId: string, subId: number) {
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
  sockets.push(ws);
  const received: Received[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => received.push({ text: data.toString('utf8'), binary: isBinary }));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
  ws.send(JSON.stringify({ id: subId, method: 'subscription', params: { path: 'board.onEvents', input: { boardId } } }));
  /** Data messages of the subscription, parsed. */
  const frames = () =>
    received
      .filter((m) => m.text.startsWith(`{"id":${subId},`))
      .map((m) => JSON.parse(m.text) as { id: number; result: { type: string; data?: { id: string; data: WireFrame } } })
      .filter((m) => m.result.type === 'data');
  return { ws, received, frames };
}

describe('board frames on the wire', () => {
  it('are text frames of valid JSON, with each subscriber’s id and the tracked seq, and the same frame for everyone', async () => {
    const owner = connect(server.url, 'owner');
    const boardId = (await owner.trpc.board.create.mutate({ title: 'Frames' })).id;
    const { token } = testUser(server.url, 'owner');
    const a = await subscriber(token, boardId, 7);
    const b = await subscriber(token, boardId, 31);
    await waitFor(() => a.frames().length > 0 && b.frames().length > 0, 'the first frames');

    const element = { type: 'text', id: 'greeting', x: 10, y: 20, z: 'a0', text: 'héllo ✏️ wörld', fontSize: 20, strokeColor: '#1e1e1e', strokeWidth: 1, opacity: 1 } as const;
    const { acks } = await owner.trpc.board.push.mutate({ boardId, ops: [{ type: 'add', opId: 'op-1', elements: [element] }] });
    const seq = acks[0]!.seq;
    const opFrame = (s: typeof a) => s.frames().find((m) => m.result.data!.data.events.some((e) => e.type === 'op'));
    await waitFor(() => opFrame(a) !== undefined && opFrame(b) !== undefined, 'the op on both subscriptions');

    // Every message the server sent is a text frame (none binary), and all are valid JSON.
    for (const m of [...a.received, ...b.received]) {
      expect(m.binary).toBe(false);
      if (m.text.startsWith('{')) expect(() => JSON.parse(m.text)).not.toThrow();
    }
    const fa = opFrame(a)!;
    const fb = opFrame(b)!;
    expect(fa.id).toBe(7);
    expect(fb.id).toBe(31);
    expect(fa.result.data!.id).toBe(String(seq));
    expect(fb.result.data!.id).toBe(String(seq));
    // The same frame (one encoding) for both, and non-ASCII text intact.
    expect(fa.result.data!.data).toEqual(fb.result.data!.data);
    const frame = fromWireFrame(fa.result.data!.data);
    const op = frame.events.find((e) => e.type === 'op');
    expect(op).toMatchObject({ type: 'op', seq, op: { type: 'add', opId: 'op-1', elements: [element] } });
    await owner.close();
  });

  it('of every size (7-, 16- and 64-bit lengths) reach each subscriber whole, in seq order, as the ops were pushed', async () => {
    const owner = connect(server.url, 'owner');
    const boardId = (await owner.trpc.board.create.mutate({ title: 'Sizes' })).id;
    const { token } = testUser(server.url, 'owner');
    const a = await subscriber(token, boardId, 3);
    const b = await subscriber(token, boardId, 4);
    await waitFor(() => a.frames().length > 0 && b.frames().length > 0, 'the first frames');
    // A delete (a frame under 126 bytes), one 2,000-point stroke (tens of KB), ten 5,000-point strokes (over 64 KiB).
    const pushes: Op[][] = [[addOp(stroke(2))], [addOp(stroke(2_000))], [addOp(...Array.from({ length: 10 }, () => stroke(5_000)))]];
    pushes.push([deleteOp((pushes[0]![0] as { elements: { id: string }[] }).elements[0]!.id)]);
    for (const ops of pushes) await pushPatiently(owner, boardId, ops);
    const opsOf = (s: typeof a) => s.frames().flatMap((m) => fromWireFrame(m.result.data!.data).events.filter((e) => e.type === 'op'));
    await waitFor(() => opsOf(a).length === 4 && opsOf(b).length === 4, 'every op on both subscriptions');
    for (const s of [a, b]) {
      expect(s.received.every((m) => !m.binary)).toBe(true);
      const got = opsOf(s) as { seq: number; op: Op }[];
      expect(got.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect(got.map((e) => e.op)).toEqual(pushes.map((ops) => ops[0]));
    }
    const sizes = a.received.map((m) => Buffer.byteLength(m.text));
    expect(Math.min(...sizes)).toBeLessThan(126);
    expect(sizes.some((n) => n >= 126 && n < 65_536)).toBe(true);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(65_536);
    await owner.close();
  });
});
