import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { BoardEvent } from '@inkboard/protocol';
import { BoardSession, createInkboardClient } from '../packages/client/src/index.js';
import { addOp, rect, stroke } from './helpers/elements.js';
import { CuttableProxy } from './helpers/proxy.js';
import { canonical, connect, grantAccess, openSession, startServer, testUser, waitFor, type TestServer } from './helpers/server.js';

let server: TestServer;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await server.destroy();
});

/** A session whose traffic goes through a proxy that can be cut; records every op seq it sees. */
async function sessionBehindProxy(boardId: string, name: string) {
  grantAccess(server.url, boardId, name);
  const proxy = await new CuttableProxy(server.port).start();
  const client = createInkboardClient({ url: proxy.url, token: testUser(server.url, name).token, WebSocket: WebSocket as never, allOverWebSocket: true });
  const seen = { last: 0, duplicates: 0, snapshots: 0 };
  const session = new BoardSession(client, boardId, {
    event: (e: BoardEvent) => {
      if (e.type === 'snapshot') {
        seen.snapshots++;
        seen.last = e.seq;
      }
      if (e.type === 'op') {
        if (e.seq <= seen.last) seen.duplicates++;
        seen.last = e.seq;
      }
    },
  }).start();
  cleanups.push(async () => {
    session.close();
    await client.close();
    await proxy.close();
  });
  return { proxy, session, seen };
}

describe('network faults', () => {
  it('network cuts of different lengths, one longer than the op-log retention: every client ends identical, gaps=0, duplicates=0', async () => {
    server = await startServer({ opLogRetention: 20 });
    const owner = connect(server.url, 'owner');
    cleanups.push(() => owner.close());
    const { id: boardId } = await owner.trpc.board.create.mutate({ title: 'cuts' });
    const writer = openSession(server.url, boardId, 'writer');
    cleanups.push(writer.close);
    const peers = await Promise.all(['p1', 'p2', 'p3'].map((n) => sessionBehindProxy(boardId, n)));
    await waitFor(() => peers.every((p) => p.session.status === 'live'), 'peers live');

    const cuts = [100, 1_000, 2_500];
    const drawing = (async () => {
      for (let i = 0; i < 120; i++) {
        await writer.session.apply(addOp(i % 3 ? stroke(30, i, i) : rect(i, i)));
        // Peers draw too, also while cut off: their ops wait and are sent once reconnected.
        const p = peers[i % peers.length]!;
        void p.session.apply(addOp(rect(-i, i))).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await Promise.all(peers.map((p, i) => p.proxy.cut(cuts[i]!)));
    await drawing;
    // A cut during which more ops than the retention happen: the peer resumes from a snapshot.
    const long = peers[0]!;
    const cut = long.proxy.cut(1_500);
    for (let i = 0; i < 40; i++) await writer.session.apply(addOp(rect(1000 + i, 0)));
    await cut;

    const serverSeq = () => server.app.boards.service.knownSeq(boardId);
    await waitFor(() => peers.every((p) => p.session.board.pending.length === 0 && p.session.seq === serverSeq()), 'peers caught up', 30_000);
    const truth = canonical((await server.app.boards.service.board(boardId)).elements);
    const summary = peers.map((p, i) => `${['p1', 'p2', 'p3'][i]}: gaps=${p.session.gaps} dup=${p.seen.duplicates} snapshots=${p.seen.snapshots}`).join('; ');
    console.log(`network cuts: ${cuts.join('/')} ms + 1500 ms beyond retention; ${summary}`);
    for (const p of peers) {
      expect(canonical(p.session.elements), summary).toEqual(truth);
      expect(p.session.gaps, summary).toBe(0);
      expect(p.seen.duplicates, summary).toBe(0);
    }
    expect(long.seen.snapshots, 'the long cut resumed from a snapshot').toBeGreaterThanOrEqual(2);
    expect(truth.length).toBe(120 + 120 + 40);
  }, 90_000);

  it('a client that stops reading is cut off, others keep their latency, memory stays bounded, and it catches up', async () => {
    server = await startServer();
    const owner = connect(server.url, 'owner');
    cleanups.push(() => owner.close());
    const { id: boardId } = await owner.trpc.board.create.mutate({ title: 'slow' });
    const writer = openSession(server.url, boardId, 'writer');
    const reader = openSession(server.url, boardId, 'reader');
    const slow = openSession(server.url, boardId, 'slow');
    cleanups.push(writer.close, reader.close, slow.close);
    await waitFor(() => [writer, reader, slow].every((s) => s.session.status === 'live'), 'sessions live');

    const latency = async (n: number) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const seq = await writer.session.apply(addOp(rect(i, i)));
        await waitFor(() => reader.session.seq >= seq, 'reader got op');
        times.push(performance.now() - t);
      }
      return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
    };
    const before = await latency(20);
    // Stop reading: the kernel buffers fill, then the server's unsent buffer grows.
    const raw = (slow.client.ws as unknown as { connection: { ws: { _socket: { pause(): void } } } }).connection.ws._socket;
    raw.pause();
    let maxBuffered = 0;
    // The sockets open when it stopped reading: the stalled one among them must stay bounded. (The
    // connection it reconnects with later reads its catch-up, which may be large, as an answer.)
    const stalled = [...server.app.websocketServer.clients];
    const poll = setInterval(() => {
      for (const ws of stalled) maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
    }, 2);
    const big = () => addOp(stroke(4_000, 0, 0));
    for (let i = 0; i < 150; i++) await writer.session.apply(big());
    await waitFor(() => slow.session.status !== 'live' || server.app.websocketServer.clients.size < 3, 'slow consumer cut off', 20_000).catch(() => undefined);
    const during = await latency(20);
    const refused = (await server.app.inject('/metrics')).body.match(/inkboard_refused_total\{kind="slow_consumer"\} (\d+)/)?.[1];
    clearInterval(poll);
    console.log(`slow consumer: cut off=${refused ?? 0}, median op latency before=${before.toFixed(1)} ms during=${during.toFixed(1)} ms, largest unsent buffer=${(maxBuffered / 1e6).toFixed(2)} MB`);
    expect(Number(refused ?? 0)).toBeGreaterThanOrEqual(1);
    // Bounded: the cut-off bound (1 MiB) plus at most a few frames in flight.
    expect(maxBuffered).toBeLessThan(3 * 1024 * 1024);
    expect(during).toBeLessThan(Math.max(50, before * 5));
    // The slow client reconnects (its socket was closed) and resumes to the same board.
    await waitFor(() => slow.session.seq === server.app.boards.service.knownSeq(boardId), 'slow client caught up', 30_000);
    expect(canonical(slow.session.elements)).toEqual(canonical((await server.app.boards.service.board(boardId)).elements));
  }, 90_000);
});
