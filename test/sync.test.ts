import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, type Op } from '@inkboard/protocol';
import { addOp, deleteOp, moveOp, rect, stroke } from './helpers/elements.js';
import { canonical, connect, dropConnection, openSession, startServer, waitFor, type TestServer } from './helpers/server.js';

let server: TestServer;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await server.destroy();
});

function session(boardId: string, name: string) {
  const s = openSession(server.url, boardId, name);
  cleanups.push(s.close);
  return s.session;
}

async function newBoard(title = 'Test board') {
  const client = connect(server.url);
  cleanups.push(() => client.close());
  return (await client.trpc.board.create.mutate({ title })).id;
}

/** The board as stored in SQLite, read straight from the file. */
function boardInFile(boardId: string) {
  const db = new Database(server.dbPath, { readonly: true });
  try {
    const rows = db.prepare('select id, data from elements where board_id = ?').all(boardId) as { id: string; data: string }[];
    return canonical(rows.map((r) => [r.id, JSON.parse(r.data)] as [string, unknown]));
  } finally {
    db.close();
  }
}

describe('live sync', () => {
  it('three clients drawing concurrently converge with the server and the SQLite file', async () => {
    const boardId = await newBoard();
    const clients = ['ann', 'bob', 'cy'].map((n) => session(boardId, n));
    await waitFor(() => clients.every((c) => c.status === 'live'), 'clients live');
    const acks: Promise<number>[] = [];
    for (let round = 0; round < 20; round++) {
      for (const [i, c] of clients.entries()) {
        const el = round % 2 ? rect(round * 10, i * 50) : stroke(30, round * 10, i * 50);
        acks.push(c.apply(addOp(el)));
        if (round > 2) {
          const ids = [...c.elements.keys()];
          const target = ids[(round * 7 + i) % ids.length]!;
          acks.push(c.apply(round % 5 === 0 ? deleteOp(target) : moveOp(target, round, i)));
        }
      }
    }
    const seqs = await Promise.all(acks);
    expect(new Set(seqs).size).toBe(seqs.length); // every op got its own place
    const serverSeq = server.app.boards.service.knownSeq(boardId);
    await waitFor(() => clients.every((c) => c.seq === serverSeq && c.board.pending.length === 0), 'clients caught up');
    const truth = canonical((await server.app.boards.service.board(boardId)).elements);
    for (const c of clients) expect(canonical(c.elements)).toEqual(truth);
    expect(boardInFile(boardId)).toEqual(truth);
    expect(truth.length).toBeGreaterThan(20);
  });

  it('a late joiner gets exactly the current board, then the stream', async () => {
    const boardId = await newBoard();
    const a = session(boardId, 'ann');
    for (let i = 0; i < 10; i++) await a.apply(addOp(rect(i * 10, 0)));
    await a.apply(deleteOp([...a.elements.keys()][0]!));
    const late = session(boardId, 'late');
    await waitFor(() => late.status === 'live', 'late joiner live');
    expect(late.seq).toBe(11);
    // It is told its own client id, and finds itself in the presence list.
    expect(late.clientId).toMatch(/^[\w-]{10}$/);
    expect(late.presence.get(late.clientId!)?.user.name).toBe('late');
    expect(canonical(late.elements)).toEqual(canonical(a.elements));
    await a.apply(addOp(rect(500, 500)));
    await waitFor(() => late.seq === 12, 'late joiner sees new op');
    expect(late.elements.size).toBe(10);
  });

  it('a dropped connection resumes from its last seq with no gap and no duplicate', async () => {
    const boardId = await newBoard();
    const seen: number[] = [];
    const watcher = openSession(server.url, boardId, 'watcher', {
      event: (e) => {
        if (e.type === 'op') seen.push(e.seq);
      },
    });
    cleanups.push(watcher.close);
    const writer = session(boardId, 'writer');
    await waitFor(() => watcher.session.status === 'live', 'watcher live');
    for (let i = 0; i < 5; i++) await writer.apply(addOp(rect(i, i)));
    await waitFor(() => watcher.session.seq === 5, 'watcher at 5');
    dropConnection(watcher.client);
    for (let i = 0; i < 5; i++) await writer.apply(addOp(rect(i, 100 + i)));
    await waitFor(() => watcher.session.seq === 10, 'watcher resumed to 10');
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(canonical(watcher.session.elements)).toEqual(canonical(writer.elements));
  });

  it('a re-sent op is acknowledged again with its seq and applied once', async () => {
    const boardId = await newBoard();
    const client = connect(server.url);
    cleanups.push(() => client.close());
    const op = addOp(rect());
    const first = await client.trpc.board.push.mutate({ boardId, ops: [op] });
    const again = await client.trpc.board.push.mutate({ boardId, ops: [op, op] });
    expect(first.acks).toEqual([{ opId: op.opId, seq: 1, duplicate: false }]);
    expect(again.acks.map((a) => a.seq)).toEqual([1, 1]);
    expect(again.acks.every((a) => a.duplicate)).toBe(true);
    expect(server.app.boards.service.knownSeq(boardId)).toBe(1);
    expect(boardInFile(boardId)).toHaveLength(1);
  });

  it('a server restart loses no acknowledged op and clients resume', async () => {
    const boardId = await newBoard();
    const a = session(boardId, 'ann');
    const acked: Op[] = [];
    for (let i = 0; i < 30; i++) {
      const op = addOp(stroke(50, i * 5, 0));
      await a.apply(op);
      acked.push(op);
    }
    const before = canonical(a.elements);
    server = await server.restart();
    expect(canonical((await server.app.boards.service.board(boardId)).elements)).toEqual(before);
    expect(server.app.boards.service.knownSeq(boardId)).toBe(30);
    await a.apply(addOp(rect(1, 1)));
    await waitFor(() => a.seq === 31, 'client resumed after restart');
    expect(a.elements.size).toBe(31);
  });

  it('refuses malformed and oversized input with a clear error and changes nothing', async () => {
    const boardId = await newBoard();
    const client = connect(server.url);
    cleanups.push(() => client.close());
    const ok = addOp(rect());
    await client.trpc.board.push.mutate({ boardId, ops: [ok] });
    const bad: unknown[] = [
      { boardId, ops: [{ type: 'add', opId: newId(), elements: [{ ...rect(), x: Number.NaN }] }] },
      { boardId, ops: [{ type: 'add', opId: newId(), elements: [{ ...rect(), x: 1e300 }] }] },
      { boardId, ops: [{ type: 'explode', opId: newId() }] },
      { boardId, ops: [] },
      { boardId, ops: [{ type: 'add', opId: newId(), elements: [{ ...stroke(6000) }] }] },
      { boardId, ops: [{ type: 'update', opId: newId(), updates: [{ id: ok.type === 'add' ? ok.elements[0]!.id : '', patch: { text: 'no' } }] }] },
      { boardId, ops: [addOp(rect()), { type: 'add', opId: newId(), elements: [ok.type === 'add' ? ok.elements[0]! : rect()] }] },
      { boardId, ops: [{ type: 'add', opId: newId(), elements: [{ ...rect(), __proto__: { polluted: true }, extra: 1 }] }] },
    ];
    for (const input of bad) {
      const err = await client.trpc.board.push.mutate(input as never).catch((e: unknown) => e as Error & { data?: { code: string } });
      expect(err).toBeInstanceOf(Error);
      expect((err as { data?: { code: string } }).data?.code).toBe('BAD_REQUEST');
      expect((err as Error).message.length).toBeGreaterThan(10);
      expect((err as Error).message).not.toMatch(/at .*\.js:\d+/); // no stack trace
    }
    const missing = await client.trpc.board.push.mutate({ boardId: 'no-such-board', ops: [addOp(rect())] }).catch((e: { data?: { code: string } }) => e);
    expect((missing as { data?: { code: string } }).data?.code).toBe('NOT_FOUND');
    expect(server.app.boards.service.knownSeq(boardId)).toBe(1);
    expect(boardInFile(boardId)).toHaveLength(1);
    // The server is still healthy.
    expect((await server.app.inject('/healthz')).statusCode).toBe(200);
  });

  it('an idle board leaves memory and reloads exactly from SQLite; a watched one stays', async () => {
    const idle = await newBoard('idle');
    const watched = await newBoard('watched');
    const a = session(idle, 'ann');
    for (let i = 0; i < 5; i++) await a.apply(addOp(rect(i, i)));
    const before = canonical((await server.app.boards.service.board(idle)).elements);
    a.close();
    const w = session(watched, 'bob');
    await waitFor(() => w.status === 'live', 'watcher live');
    await waitFor(() => server.app.boards.hub.subscriberCount(idle) === 0, 'idle board unwatched');
    const service = server.app.boards.service;
    const loaded = service.loadedBoards;
    expect(service.evictIdle(Date.now() + 11 * 60_000)).toBe(1);
    expect(service.loadedBoards).toBe(loaded - 1);
    expect(canonical((await service.board(idle)).elements)).toEqual(before);
    expect(service.knownSeq(idle)).toBe(5);
  });

  it('a refused op does not take the valid ops queued with it', async () => {
    const boardId = await newBoard();
    const a = session(boardId, 'ann');
    await waitFor(() => a.status === 'live', 'live');
    const r = rect(0, 0);
    await a.apply(addOp(r));
    const errors: string[] = [];
    const bad: Op = { type: 'update', opId: newId(), updates: [{ id: r.id, patch: { text: 'not on a rectangle' } }] };
    const results = await Promise.allSettled([a.apply(bad), a.apply(addOp(rect(5, 5))), a.apply(moveOp(r.id, 50, 60))]);
    errors.push(...results.filter((x) => x.status === 'rejected').map((x) => String((x as PromiseRejectedResult).reason)));
    expect(results.map((x) => x.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(errors[0]).toMatch(/does not fit a rectangle/);
    await a.settled();
    const truth = (await server.app.boards.service.board(boardId)).elements;
    expect(truth.size).toBe(2);
    expect(truth.get(r.id)).toMatchObject({ x: 50, y: 60 });
  });
});
