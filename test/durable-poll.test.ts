import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addOp, rect } from './helpers/elements.js';
import { connect, startServer, type TestServer } from './helpers/server.js';

// Issue 19: a commit is acknowledged once its WAL flush is done, and the server learns of that at the
// next WebSocket message it handles (storage/walSync.ts), not only at the event loop's next turn.

describe('durability polled at each message', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    await server.destroy();
  });

  it('the socket guard polls the store for finished flushes before it hands on each WebSocket message', async () => {
    const storage = server.app.boards.storage;
    expect(storage.pollDurable).toBeTypeOf('function'); // the SQLite default store has one
    const poll = vi.spyOn(storage, 'pollDurable');
    const alice = connect(server.url, 'alice', { allOverWebSocket: true });
    try {
      const { id } = await alice.trpc.board.create.mutate({ title: 'Polled' });
      const before = poll.mock.calls.length;
      const { acks } = await alice.trpc.board.push.mutate({ boardId: id, ops: [addOp(rect())] });
      expect(acks.map((a) => a.seq)).toEqual([1]);
      expect(poll.mock.calls.length).toBeGreaterThan(before);
      expect(await storage.boardSeq(id)).toBe(1);
    } finally {
      await alice.close();
    }
  });
});
