import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyOp, newId, type Element, type Op } from '@inkboard/protocol';
import { BoardSession, createInkboardClient, type InkboardClient } from '../packages/client/src/index.js';
import { signInForToken } from '../packages/client/src/cli/login.js';
import { createPgDatabase, deleteRedisKeys, REDIS_URL, type PgDatabase } from './helpers/cluster.js';
import { addOp, deleteOp, moveOp, rect, stroke } from './helpers/elements.js';
import { canonical, startServer, waitFor, type TestServer } from './helpers/server.js';

/**
 * Version history (issue 16) on two server instances sharing one PostgreSQL database and Redis (as
 * several processes do, test/cluster.test.ts): everything is in the database, so both see the same
 * versions, names and states, whoever wrote them, and a restore made on one is live on the other.
 */

let db: PgDatabase;
let a: TestServer;
let b: TestServer;
const prefix = `inkboard-test-history-${newId(8)}:`;
const clients: InkboardClient[] = [];

beforeAll(async () => {
  db = await createPgDatabase();
  const shared = { databaseUrl: db.url, redisUrl: REDIS_URL, redisPrefix: prefix, opLogRetention: 10, history: { checkpointEvery: 7, retentionIntervalMs: 0 } };
  a = await startServer(shared);
  b = await startServer(shared);
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await a?.destroy();
  await b?.destroy();
  await db?.drop();
  await deleteRedisKeys(prefix);
});

const client = (url: string, token: string, ws = false) => {
  const c = createInkboardClient({ url, token, WebSocket: WebSocket as never, allOverWebSocket: ws });
  clients.push(c);
  return c;
};
const asMap = (elements: readonly Element[]) => new Map(elements.map((e) => [e.id, e]));

function replay(bySeq: ReadonlyMap<number, Op>, seq: number): Map<string, Element> {
  let els = new Map<string, Element>();
  for (let s = 1; s <= seq; s++) {
    const r = applyOp(els, bySeq.get(s)!);
    if (!r.ok) throw new Error(r.error);
    els = r.elements;
  }
  return els;
}

describe('version history on two processes (PostgreSQL + Redis)', () => {
  it('both see the same versions, names and states; a restore on one is live on the other', async () => {
    const ann = await signInForToken(a.url, 'ann', 'password-ann', true, 'history cluster');
    const ben = await signInForToken(b.url, 'ben', 'password-ben', true, 'history cluster');
    const annA = client(a.url, ann.token);
    const { id: boardId } = await annA.trpc.board.create.mutate({ title: 'history cluster' });
    const { code } = await annA.trpc.share.createLink.mutate({ boardId, role: 'editor' });
    const benB = client(b.url, ben.token);
    await benB.trpc.share.accept.mutate({ code });

    // Ann edits through A, Ben through B, taking turns: 40 ops, so the op log (10) is trimmed and checkpoints (every 7) are made by both.
    const bySeq = new Map<number, Op>();
    const els: Element[] = [];
    for (let i = 0; i < 40; i++) {
      const on = i % 10 < 5 ? annA : benB;
      const op: Op = i % 4 === 3 && els.length ? moveOp(els[i % els.length]!.id, i, i) : i % 9 === 8 ? deleteOp(els.shift()!.id) : addOp((els[els.length] = i % 2 ? rect(i, 0) : stroke(5, i, 0))!);
      const { acks } = await on.trpc.board.push.mutate({ boardId, ops: [op] });
      bySeq.set(acks[0]!.seq, op);
    }
    await a.app.versions.idle();
    await b.app.versions.idle();
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const counts = await admin.query<{ h: string; c: string }>('select (select count(*) from history_ops where board_id = $1) as h, (select count(*) from checkpoints where board_id = $1) as c', [boardId]);
      expect(Number(counts.rows[0]!.h)).toBeGreaterThanOrEqual(25);
      // Every 7 ops or more (a checkpoint job that lags behind the commits takes the latest seq).
      expect(Number(counts.rows[0]!.c)).toBeGreaterThanOrEqual(2);
    } finally {
      await admin.end();
    }

    const onA = await annA.trpc.history.list.query({ boardId, limit: 100 });
    const onB = await benB.trpc.history.list.query({ boardId, limit: 100 });
    expect(onB).toEqual(onA);
    expect(onA.versions.map((v) => [v.fromSeq, v.toSeq, v.authorName])).toEqual([
      [36, 40, 'ben'],
      [31, 35, 'ann'],
      [26, 30, 'ben'],
      [21, 25, 'ann'],
      [16, 20, 'ben'],
      [11, 15, 'ann'],
      [6, 10, 'ben'],
      [1, 5, 'ann'],
    ]);
    for (let seq = 0; seq <= 40; seq++) {
      const on = seq % 2 ? annA : benB;
      const state = await on.trpc.history.stateAt.query({ boardId, seq });
      expect(canonical(asMap(state.elements)), `state at ${seq}`).toEqual(canonical(replay(bySeq, seq)));
    }
    const named = await annA.trpc.history.name.mutate({ boardId, name: 'After ten', seq: 10 });
    expect(await benB.trpc.history.named.query({ boardId })).toEqual([named]);
    const firstEl = (bySeq.get(2) as Extract<Op, { type: 'add' }>).elements[0]!;
    expect(await benB.trpc.history.elementInfo.query({ boardId, elementId: firstEl.id })).toMatchObject({ createdBy: { name: 'ann', seq: 2 } });

    // Ann watches on A while Ben restores seq 10 on B: she sees the board become that state.
    const annWs = client(a.url, ann.token, true);
    const session = new BoardSession(annWs, boardId).start();
    try {
      await waitFor(() => session.seq === 40, 'Ann is live on A');
      const restored = await benB.trpc.history.restore.mutate({ boardId, seq: 10, opId: newId() });
      const last = restored.acks.at(-1)!.seq;
      await waitFor(() => session.seq === last, 'the restore reached A');
      expect(canonical(session.elements)).toEqual(canonical(replay(bySeq, 10)));
    } finally {
      session.close();
    }

    // Retention on B (a fake past of 40 days for the first checkpoints), read on A.
    const admin2 = new pg.Client({ connectionString: db.url });
    await admin2.connect();
    try {
      const cps = (await admin2.query<{ seq: string }>('select seq from checkpoints where board_id = $1 order by seq', [boardId])).rows.map((r) => Number(r.seq));
      const old = Date.now() - 40 * 86_400_000;
      await admin2.query('update checkpoints set created_at = $1 where board_id = $2 and seq <= $3', [old, boardId, cps[1]]);
      const removed = await b.app.versions.applyRetention();
      const kept = (await admin2.query<{ seq: string }>('select seq from checkpoints where board_id = $1 order by seq', [boardId])).rows.map((r) => Number(r.seq));
      // The first checkpoint went (the second is the latest of that day), unless it is the named version's.
      if (cps[0] !== 10) {
        expect(removed.checkpoints).toBe(1);
        expect(kept).not.toContain(cps[0]);
      }
      if (cps[1]! > 10) expect(kept).toContain(10); // the named version's state
      const left = await admin2.query<{ n: string }>('select count(*) as n from history_ops where board_id = $1 and seq <= $2', [boardId, cps[1]]);
      expect(Number(left.rows[0]!.n)).toBe(0);
      for (const seq of [10, cps[1]!, 40]) {
        const state = await annA.trpc.history.stateAt.query({ boardId, seq });
        expect(canonical(asMap(state.elements)), `state at ${seq} after retention`).toEqual(canonical(replay(bySeq, seq)));
      }
      // The kept states are listed below the kept edits, alike on both processes, and one is restored on A.
      const listed = await annA.trpc.history.list.query({ boardId, limit: 100 });
      const onB = await benB.trpc.history.list.query({ boardId, limit: 100 });
      // Whole versions, summaries included (each process once summarized from its own copy of the board).
      expect(onB.versions).toEqual(listed.versions);
      expect(listed.versions.filter((v) => !v.thinned).at(-1)!.fromSeq).toBe(cps[1]! + 1);
      const keptStates = listed.versions.filter((v) => v.thinned);
      expect(keptStates.map((v) => v.toSeq)).toEqual(kept.filter((seq) => seq <= cps[1]!).reverse());
      expect(keptStates.map((v) => v.authorName)).toEqual(keptStates.map(() => 'various'));
      expect(keptStates.at(-1)!.fromSeq).toBe(1);
      // A PNG of a kept state, rendered by A's worker from PostgreSQL.
      const png = await fetch(`${a.url}/api/boards/${boardId}/export.png?at=${cps[1]!}`, { headers: { authorization: `Bearer ${ann.token}` } });
      expect([png.status, png.headers.get('content-type'), png.headers.get('x-board-seq')]).toEqual([200, 'image/png', String(cps[1]!)]);
      expect(Buffer.from(await png.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
      await annA.trpc.history.restore.mutate({ boardId, seq: cps[1]!, opId: newId() });
      expect(canonical(asMap((await benB.trpc.board.snapshot.query({ boardId })).elements))).toEqual(canonical(replay(bySeq, cps[1]!)));
    } finally {
      await admin2.end();
    }
  });

  it('both processes keep a board within its history byte budget: the oldest history is thinned, the listed states stay exact', async () => {
    // Two more processes on the same database with a 64 KiB history budget per board.
    const budget = 64 * 1024;
    const small = { databaseUrl: db.url, redisUrl: REDIS_URL, redisPrefix: prefix, opLogRetention: 10, history: { checkpointEvery: 50, retentionIntervalMs: 0, maxBytes: budget } };
    const c = await startServer(small);
    const d = await startServer(small);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const ann = await signInForToken(c.url, 'cay', 'password-cay', true, 'history budget');
      const ben = await signInForToken(d.url, 'dee', 'password-dee', true, 'history budget');
      const annC = client(c.url, ann.token);
      const { id: boardId } = await annC.trpc.board.create.mutate({ title: 'history budget' });
      const { code } = await annC.trpc.share.createLink.mutate({ boardId, role: 'editor' });
      const benD = client(d.url, ben.token);
      await benD.trpc.share.accept.mutate({ code });
      const bySeq = new Map<number, Op>();
      const historyBytes = async () => {
        const { rows } = await admin.query<{ b: string; min: string; max: string; n: string; cp: string }>(
          'select (select coalesce(sum(octet_length(data)), 0) from history_ops where board_id = $1) as b, (select min(seq) from history_ops where board_id = $1) as min, (select max(seq) from history_ops where board_id = $1) as max, (select count(*) from history_ops where board_id = $1) as n, (select coalesce(sum(bytes), 0) from checkpoints where board_id = $1) as cp',
          [boardId],
        );
        const r = rows[0]!;
        return { total: Number(r.b) + Number(r.cp), min: Number(r.min), max: Number(r.max), n: Number(r.n) };
      };
      // Ann adds a stroke of ~5 KB on C, Ben deletes it on D: both processes trim into the history.
      const rounds = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const s = stroke(250, i, i);
          const added = await annC.trpc.board.push.mutate({ boardId, ops: [addOp(s)] });
          bySeq.set(added.acks[0]!.seq, addOp(s));
          const del = deleteOp(s.id);
          const deleted = await benD.trpc.board.push.mutate({ boardId, ops: [del] });
          bySeq.set(deleted.acks[0]!.seq, del);
        }
        await c.app.versions.idle();
        await d.app.versions.idle();
      };
      await rounds(40);
      const first = await historyBytes();
      await rounds(40);
      const second = await historyBytes();
      console.log(`PostgreSQL, two processes, history budget ${budget}: after 40 rounds ${first.total} bytes (ops ${first.min}-${first.max}), after 80 ${second.total} (ops ${second.min}-${second.max})`);
      // Each process counts its own trims and measures again after an eighth of the budget: within 1/4 over it with two.
      for (const h of [first, second]) {
        expect(h.total).toBeLessThanOrEqual(budget * 1.25);
        expect(h.min).toBeGreaterThan(1);
        expect(h.n).toBe(h.max - h.min + 1);
      }
      expect(second.min).toBeGreaterThan(first.max);
      // Every listed version's states, read on either process, equal the replay.
      const listed = (await annC.trpc.history.list.query({ boardId, limit: 100 })).versions;
      expect(listed.filter((v) => !v.thinned).at(-1)!.fromSeq).toBe(second.min);
      for (const [i, v] of listed.entries()) {
        const on = i % 2 ? annC : benD;
        for (const seq of [v.fromSeq - 1, v.toSeq]) {
          const state = await on.trpc.history.stateAt.query({ boardId, seq });
          expect(canonical(asMap(state.elements)), `state at ${seq}`).toEqual(canonical(replay(bySeq, seq)));
        }
      }
      await expect(benD.trpc.history.stateAt.query({ boardId, seq: second.min - 3 })).rejects.toThrow(/before the retained history/);
    } finally {
      await admin.end();
      await c.destroy();
      await d.destroy();
    }
  }, 120_000);
});
