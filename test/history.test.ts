import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyOp, emptyHistory, invertOp, newId, record, renderSvg, undo, type Element, type History, type Op } from '@inkboard/protocol';
import type { InkboardClient } from '../packages/client/src/index.js';
import { addOp, deleteOp, moveOp, rect, stroke } from './helpers/elements.js';
import { canonical, connect, grantAccess, sqliteOf, startServer, testUser, type TestServer } from './helpers/server.js';
import { pngSize, ROOT, runNode } from './helpers/cli.js';

/**
 * Version history (issue 16) on one process (SQLite): versions, names, states at any seq (across
 * checkpoints, op-log trims, retention and a restart), restores and their undo, access.
 */

let server: TestServer;
const clients: InkboardClient[] = [];
const open = (name: string) => {
  const c = connect(server.url, name);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  // A small op log and frequent checkpoints, so that trims and checkpoints both happen in small tests.
  server = await startServer({ opLogRetention: 10, history: { checkpointEvery: 7, retentionIntervalMs: 0 } });
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await server.destroy();
});

async function newBoard(owner: InkboardClient): Promise<string> {
  return (await owner.trpc.board.create.mutate({ title: 'History' })).id;
}

/** Pushes ops one per push and returns them by seq. */
async function pushAll(client: InkboardClient, boardId: string, ops: Op[], bySeq: Map<number, Op>): Promise<void> {
  for (const op of ops) {
    const { acks } = await client.trpc.board.push.mutate({ boardId, ops: [op] });
    bySeq.set(acks[0]!.seq, op);
  }
}

/** The board replayed locally from op 1 to `seq`. */
function replay(bySeq: ReadonlyMap<number, Op>, seq: number): Map<string, Element> {
  let els = new Map<string, Element>();
  for (let s = 1; s <= seq; s++) {
    const r = applyOp(els, bySeq.get(s)!);
    if (!r.ok) throw new Error(r.error);
    els = r.elements;
  }
  return els;
}

const asMap = (elements: readonly Element[]) => new Map(elements.map((e) => [e.id, e]));
const code = (err: unknown) => (err as { data?: { code?: string } }).data?.code;

describe('version history', () => {
  it('lists versions by author, names one, gives the state at a seq, restores it and the restore is undone', async () => {
    const alice = open('hist-alice');
    const boardId = await newBoard(alice);
    grantAccess(server.url, boardId, 'hist-bob', 'editor');
    const bob = open('hist-bob');
    const bySeq = new Map<number, Op>();
    const [r1, r2] = [rect(0, 0), rect(100, 0)];
    await pushAll(alice, boardId, [addOp(r1), addOp(r2), moveOp(r1.id, 5, 5)], bySeq);
    const named = await alice.trpc.history.name.mutate({ boardId, name: 'Before Bob' });
    expect(named.seq).toBe(3);
    await pushAll(bob, boardId, [addOp(stroke(10)), addOp(stroke(10)), deleteOp(r2.id)], bySeq);

    const { versions, next } = await alice.trpc.history.list.query({ boardId });
    expect(next).toBeUndefined();
    expect(versions.map((v) => [v.fromSeq, v.toSeq, v.authorName, v.opCount])).toEqual([
      [4, 6, 'hist-bob', 3],
      [1, 3, 'hist-alice', 3],
    ]);
    expect(versions[0]!.summary.text).toBe('added 2 strokes, deleted 1 shape');
    expect(versions[1]!.summary.text).toBe('added 2 shapes');
    expect(versions[1]!.names.map((n) => n.name)).toEqual(['Before Bob']);
    expect(versions[0]!.changedIds).toContain(r2.id);
    // Paging: one at a time.
    const page1 = await alice.trpc.history.list.query({ boardId, limit: 1 });
    expect(page1.versions.map((v) => v.fromSeq)).toEqual([4]);
    const page2 = await alice.trpc.history.list.query({ boardId, limit: 1, before: page1.next! });
    expect(page2.versions.map((v) => v.fromSeq)).toEqual([1]);
    expect(page2.next).toBeUndefined();
    expect((await alice.trpc.history.named.query({ boardId })).map((n) => [n.name, n.seq, n.createdByName])).toEqual([['Before Bob', 3, 'hist-alice']]);

    const at3 = await bob.trpc.history.stateAt.query({ boardId, seq: 3 });
    expect(canonical(asMap(at3.elements))).toEqual(canonical(replay(bySeq, 3)));
    await expect(bob.trpc.history.stateAt.query({ boardId, seq: 99 })).rejects.toThrow(/after the board's current seq 6/);

    // Restore the whole board to seq 3 (as Bob), then undo it with the inverses of its ops.
    const before = asMap((await bob.trpc.board.snapshot.query({ boardId })).elements);
    const restored = await bob.trpc.history.restore.mutate({ boardId, seq: 3, opId: newId() });
    expect(restored.acks.map((a) => a.seq)).toEqual(restored.ops.map((_, i) => 7 + i));
    const after = asMap((await bob.trpc.board.snapshot.query({ boardId })).elements);
    expect(canonical(after)).toEqual(canonical(replay(bySeq, 3)));
    let history: History = emptyHistory;
    let state: Map<string, Element> = before;
    for (const op of restored.ops as Op[]) {
      history = record(history, state, op, newId());
      const r = applyOp(state, op);
      if (!r.ok) throw new Error(r.error);
      state = r.elements;
    }
    let undone = asMap((await bob.trpc.board.snapshot.query({ boardId })).elements);
    for (;;) {
      const step = undo(history, undone, () => newId());
      history = step.history;
      if (!step.op) break;
      await bob.trpc.board.push.mutate({ boardId, ops: [step.op] });
      undone = asMap((await bob.trpc.board.snapshot.query({ boardId })).elements);
    }
    expect(canonical(undone)).toEqual(canonical(before));
    // The restore is itself in the history: one version of Bob's.
    const latest = (await alice.trpc.history.list.query({ boardId, limit: 1 })).versions[0]!;
    expect(latest.authorName).toBe('hist-bob');
  });

  it('restores one deleted element with its old id, leaving the rest', async () => {
    const alice = open('hist-alice');
    const boardId = await newBoard(alice);
    const bySeq = new Map<number, Op>();
    const [a, b] = [rect(0, 0), rect(50, 50)];
    await pushAll(alice, boardId, [addOp(a, b), deleteOp(a.id), moveOp(b.id, 70, 70)], bySeq);
    const { ops } = await alice.trpc.history.restore.mutate({ boardId, seq: 1, ids: [a.id], opId: newId() });
    expect(ops).toEqual([expect.objectContaining({ type: 'add', elements: [a] })]);
    const now = asMap((await alice.trpc.board.snapshot.query({ boardId })).elements);
    expect(now.get(a.id)).toEqual(a);
    expect(now.get(b.id)).toMatchObject({ x: 70, y: 70 });
    // Who did this.
    const info = await alice.trpc.history.elementInfo.query({ boardId, elementId: b.id });
    expect(info.createdBy).toMatchObject({ name: 'hist-alice', seq: 1 });
    expect(info.changedBy).toMatchObject({ name: 'hist-alice', seq: 3 });
    expect(await alice.trpc.history.elementInfo.query({ boardId, elementId: 'nope' })).toEqual({});
  });

  it('a restore is charged like a push of its ops (size rates): a second huge one at once is refused, nothing applied', async () => {
    const owner = open('hist-big-owner');
    const boardId = await newBoard(owner);
    grantAccess(server.url, boardId, 'hist-big-restorer', 'editor');
    const restorer = open('hist-big-restorer');
    const who = { id: 'u-hist-big-owner', name: 'hist-big-owner' };
    // 24 strokes of 5,000 points (120,000 points, over the points burst of 100,000), written past the rates.
    for (let i = 0; i < 4; i++) await server.app.boards.service.push(boardId, who, [addOp(...Array.from({ length: 6 }, () => stroke(5_000)))]);
    await server.app.boards.service.push(boardId, who, [{ type: 'clear', opId: newId() }]);
    const first = await restorer.trpc.history.restore.mutate({ boardId, seq: 4, opId: newId() });
    expect(first.acks.length).toBeGreaterThan(0);
    await server.app.boards.service.push(boardId, who, [{ type: 'clear', opId: newId() }]);
    const seq = (await restorer.trpc.board.byId.query({ boardId })).seq;
    const err = await restorer.trpc.history.restore.mutate({ boardId, seq: 4, opId: newId() }).catch((e: unknown) => e as Error);
    expect(code(err)).toBe('TOO_MANY_REQUESTS');
    expect((err as Error).message).toMatch(/Too many points/);
    expect((await restorer.trpc.board.byId.query({ boardId })).seq).toBe(seq);
  });

  it('viewers list and read but cannot restore or name; non-members get nothing', async () => {
    const alice = open('hist-alice');
    const boardId = await newBoard(alice);
    await alice.trpc.board.push.mutate({ boardId, ops: [addOp(rect())] });
    const { id: namedId } = await alice.trpc.history.name.mutate({ boardId, name: 'v1' });
    grantAccess(server.url, boardId, 'hist-viewer', 'viewer');
    const viewer = open('hist-viewer');
    expect((await viewer.trpc.history.list.query({ boardId })).versions).toHaveLength(1);
    expect((await viewer.trpc.history.stateAt.query({ boardId, seq: 1 })).elements).toHaveLength(1);
    expect(await viewer.trpc.history.named.query({ boardId })).toHaveLength(1);
    for (const call of [
      () => viewer.trpc.history.restore.mutate({ boardId, seq: 0, opId: newId() }),
      () => viewer.trpc.history.name.mutate({ boardId, name: 'mine' }),
      () => viewer.trpc.history.unname.mutate({ boardId, id: namedId }),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(code(err)).toBe('FORBIDDEN');
    }
    const outsider = open('hist-outsider');
    for (const call of [
      () => outsider.trpc.history.list.query({ boardId }),
      () => outsider.trpc.history.stateAt.query({ boardId, seq: 1 }),
      () => outsider.trpc.history.named.query({ boardId }),
      () => outsider.trpc.history.elementInfo.query({ boardId, elementId: 'x' }),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(['FORBIDDEN', 'NOT_FOUND']).toContain(code(err));
    }
    expect((await alice.trpc.board.snapshot.query({ boardId })).elements).toHaveLength(1);
    await alice.trpc.history.unname.mutate({ boardId, id: namedId });
    expect(await alice.trpc.history.named.query({ boardId })).toEqual([]);
  });

  it('property: the state at every seq equals the replay of ops 1..seq, across checkpoints, op-log trims and retention', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ who: fc.integer({ min: 0, max: 2 }), kind: fc.integer({ min: 0, max: 9 }), pick: fc.nat(), dx: fc.integer({ min: -50, max: 50 }) }), { minLength: 20, maxLength: 45 }), async (steps) => {
        // People of their own per run (board creation is rate-limited per person).
        run++;
        const users = [`prop${run}-a`, `prop${run}-b`, `prop${run}-c`];
        const owner = open(users[0]!);
        const boardId = await newBoard(owner);
        const people = [owner, ...users.slice(1).map((u) => (grantAccess(server.url, boardId, u, 'editor'), open(u)))];
        const histories: History[] = users.map(() => emptyHistory);
        const bySeq = new Map<number, Op>();
        let board = new Map<string, Element>();
        for (const { who, kind, pick, dx } of steps) {
          const ids = [...board.keys()];
          const id = ids[pick % Math.max(1, ids.length)];
          let op: Op | null;
          if (kind <= 2 || !id) op = addOp(kind === 1 ? stroke(5, dx, dx) : rect(dx, dx));
          else if (kind <= 4) op = moveOp(id, dx, 0 - dx); // not -dx: JSON has no -0
          else if (kind === 5) op = { type: 'update', opId: newId(), updates: [{ id, patch: { strokeColor: '#ff0000', angle: 0.5 } }] };
          else if (kind === 6) op = deleteOp(id);
          else if (kind === 7) op = pick % 5 === 0 ? { type: 'clear', opId: newId() } : deleteOp(id);
          else {
            const step = undo(histories[who]!, board, () => newId());
            histories[who] = step.history;
            op = step.op;
          }
          if (!op) continue;
          const { acks } = await people[who]!.trpc.board.push.mutate({ boardId, ops: [op] });
          bySeq.set(acks[0]!.seq, op);
          if (kind < 8) histories[who] = record(histories[who]!, board, op, newId());
          const r = applyOp(board, op);
          if (!r.ok) throw new Error(r.error);
          board = r.elements;
        }
        const last = Math.max(...bySeq.keys());
        await server.app.versions.idle();
        const check = async (seqs: Iterable<number>) => {
          for (const seq of seqs) {
            // The service itself (history.stateAt is rate-limited per person; its transport is tested above).
            const state = await server.app.versions.stateAt(boardId, seq);
            expect(canonical(asMap(state.elements)), `state at ${seq}`).toEqual(canonical(replay(bySeq, seq)));
          }
        };
        const all = Array.from({ length: last + 1 }, (_, i) => i);
        await check(all);
        const sqlite = sqliteOf(server.app);
        const kept = sqlite.prepare('select count(*) as n from history_ops where board_id = ?').get(boardId) as { n: number };
        const cps = sqlite.prepare('select seq from checkpoints where board_id = ? order by seq').all(boardId) as { seq: number }[];
        // The resume log holds ~10 ops: the rest of the history came from history_ops and checkpoints.
        if (last > 20) {
          expect(kept.n).toBeGreaterThan(0);
          expect(cps.length).toBeGreaterThan(0);
        }
        // Retention 31 days later: every state still kept (a checkpoint, or after the base) is exact; older ones are refused.
        const removed = await server.app.versions.applyRetention(Date.now() + 31 * 86_400_000);
        if (cps.length) expect(removed.boards).toBeGreaterThanOrEqual(1);
        const keptCps = new Set((sqlite.prepare('select seq from checkpoints where board_id = ?').all(boardId) as { seq: number }[]).map((r) => r.seq));
        const base = Math.max(0, ...keptCps);
        expect(sqlite.prepare('select count(*) as n from history_ops where board_id = ? and seq <= ?').get(boardId, base)).toEqual({ n: 0 });
        for (const seq of all) {
          if (seq >= base || keptCps.has(seq) || seq === 0) await check([seq]);
          else {
            // Forgotten by retention: refused, unless still in the cache of recent states (which holds exact states).
            const state = await server.app.versions.stateAt(boardId, seq).catch((err: Error) => err);
            if (state instanceof Error) expect(state.message).toMatch(/before the retained history/);
            else expect(canonical(asMap(state.elements))).toEqual(canonical(replay(bySeq, seq)));
          }
        }
      }),
      { numRuns: 6 },
    );
  }, 300_000);

  it('retention keeps every recent op, then one checkpoint per day and the states of named versions', async () => {
    const alice = open('hist-alice');
    const boardId = await newBoard(alice);
    const bySeq = new Map<number, Op>();
    const els = Array.from({ length: 60 }, (_, i) => rect(i * 10, 0));
    await pushAll(alice, boardId, els.map((e) => addOp(e)), bySeq);
    await server.app.versions.idle();
    const sqlite = sqliteOf(server.app);
    const cps = (sqlite.prepare('select seq from checkpoints where board_id = ? order by seq').all(boardId) as { seq: number }[]).map((r) => r.seq);
    // Every 7 ops or more (a checkpoint job that lags behind the commits takes the latest seq).
    expect(cps.length).toBeGreaterThanOrEqual(3);
    const [c1, c2, c3] = cps as [number, number, number];
    const named = c1 + 1;
    await alice.trpc.history.name.mutate({ boardId, name: 'Named', seq: named });
    // A fake past: the first two checkpoints (and their ops) are from one day 40 days ago, the third from the day after.
    const day = 86_400_000;
    const now = Date.now();
    const then = Math.floor((now - 40 * day) / day) * day + 3_600_000;
    const setCp = sqlite.prepare('update checkpoints set created_at = ? where board_id = ? and seq = ?');
    setCp.run(then, boardId, c1);
    setCp.run(then + 60_000, boardId, c2);
    setCp.run(then + day, boardId, c3);
    sqlite.prepare('update history_ops set created_at = ? where board_id = ? and seq <= ?').run(then, boardId, c3);
    const removed = await server.app.versions.applyRetention(now);
    expect(removed).toMatchObject({ checkpoints: 1 });
    const kept = (sqlite.prepare('select seq from checkpoints where board_id = ? order by seq').all(boardId) as { seq: number }[]).map((r) => r.seq);
    // c1 went (c2 is the latest of its day); the named version got a state of its own.
    expect(kept).toEqual([...new Set([named, c2, c3, ...cps.slice(3)])].sort((a, b) => a - b));
    expect(sqlite.prepare('select count(*) as n from history_ops where board_id = ? and seq <= ?').get(boardId, c3)).toEqual({ n: 0 });
    for (const seq of [named, c2, c3, c3 + 1, 60]) {
      const state = await server.app.versions.stateAt(boardId, seq);
      expect(canonical(asMap(state.elements))).toEqual(canonical(replay(bySeq, seq)));
    }
    await expect(alice.trpc.history.stateAt.query({ boardId, seq: c1 })).rejects.toThrow(/before the retained history of this board \(every op is kept from seq/);
    // The listed edits end where the kept ops begin; the kept states follow, one version each.
    const { versions } = await alice.trpc.history.list.query({ boardId, limit: 100 });
    expect(versions.filter((v) => !v.thinned).at(-1)!.fromSeq).toBe(c3 + 1);
    expect(versions.filter((v) => v.thinned).map((v) => v.toSeq)).toEqual([c3, c2, named]);
  });

  it('the CLI lists the history, exports a past version and restores one (by name or seq)', async () => {
    const { token } = testUser(server.url, 'hist-cli');
    const alice = connect(server.url, 'hist-cli', { token });
    clients.push(alice);
    const boardId = await newBoard(alice);
    const bySeq = new Map<number, Op>();
    const [r1, r2] = [rect(0, 0), rect(60, 0)];
    await pushAll(alice, boardId, [addOp(r1), addOp(r2)], bySeq);
    await alice.trpc.history.name.mutate({ boardId, name: 'Two boxes' });
    await pushAll(alice, boardId, [deleteOp(r1.id), moveOp(r2.id, 9, 9)], bySeq);
    // The CLI from its source (tsx), so the test needs no build.
    const cli = (...args: string[]) => runNode(['--import', 'tsx', `${ROOT}/packages/client/src/cli/main.ts`, ...args], { INKBOARD_SERVER: server.url, INKBOARD_TOKEN: token }, { timeoutMs: 30_000 });

    const list = await cli('history', boardId);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^SEQ\s+AUTHOR\s+WHEN\s+SUMMARY\s+NAMES$/m);
    expect(list.stdout).toMatch(/^1-4\s+hist-cli\s+\d+s ago\s+added 1 shape\s+"Two boxes"$/m);
    const json = JSON.parse((await cli('history', boardId, '--json', '--limit', '5')).stdout) as { versions: { fromSeq: number }[] };
    expect(json.versions.map((v) => v.fromSeq)).toEqual([1]);
    expect((await cli('history', boardId, '--limit', '0')).stderr).toMatch(/--limit must be a whole number from 1 to 100/);

    const past = await cli('export', boardId, '--at', 'Two boxes', '--format', 'json');
    expect(past.code, past.stderr).toBe(0);
    expect(canonical(asMap(JSON.parse(past.stdout) as Element[]))).toEqual(canonical(replay(bySeq, 2)));
    const svg = await cli('export', boardId, '--at', '1', '--format', 'svg');
    expect(svg.stdout).toMatch(/^<svg[\s\S]*<\/svg>$/);
    // A PNG of a past version: rasterized by the server from that state (export.png?at=SEQ), like the current board's PNG.
    const dir = mkdtempSync(join(tmpdir(), 'inkboard-history-'));
    const pngOut = join(dir, 'two-boxes.png');
    const png = await cli('export', boardId, '--at', 'Two boxes', '--format', 'png', '--scale', '1', '--out', pngOut);
    expect(png.code, png.stderr).toBe(0);
    const svgSize = (svg: string) => ({ width: Number(/width="(\d+)"/.exec(svg)![1]), height: Number(/height="(\d+)"/.exec(svg)![1]) });
    const then = svgSize(renderSvg([...replay(bySeq, 2).values()]));
    const nowSize = svgSize(renderSvg([...replay(bySeq, 4).values()]));
    expect(then.width).not.toBe(nowSize.width); // the two states differ in size: the PNG shows which one it drew
    const pngBytes = readFileSync(pngOut);
    rmSync(dir, { recursive: true });
    expect(pngBytes.byteLength).toBeGreaterThan(100);
    expect(pngSize(pngBytes)).toEqual(then);
    // Over HTTP: the seq in a header; a seq that is not one, or after the board's, is refused with a reason.
    const exportPng = (query: string) => fetch(`${server.url}/api/boards/${boardId}/export.png${query}`, { headers: { authorization: `Bearer ${token}` } });
    const at2 = await exportPng('?at=2&scale=2');
    expect(at2.status).toBe(200);
    expect(at2.headers.get('x-board-seq')).toBe('2');
    expect(pngSize(new Uint8Array(await at2.arrayBuffer()))).toEqual({ width: then.width * 2, height: then.height * 2 });
    const notSeq = await exportPng('?at=two');
    expect([notSeq.status, ((await notSeq.json()) as { message: string }).message]).toEqual([400, '"at" must be a seq (a whole number from 0, see history.list), not "two".']);
    const future = await exportPng('?at=99');
    expect(future.status).toBe(400);
    expect(((await future.json()) as { message: string }).message).toMatch(/after the board's current seq 4/);
    expect((await cli('export', boardId, '--at', 'nope', '--format', 'json')).stderr).toMatch(/No version "nope" on this board.*"Two boxes" \(seq 2\)/);

    const restored = await cli('restore', boardId, 'Two boxes');
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/Restored .* to "Two boxes" \(seq 2\) in 2 ops \(now at seq 6\)/);
    expect(canonical(asMap((await alice.trpc.board.snapshot.query({ boardId })).elements))).toEqual(canonical(replay(bySeq, 2)));
    expect((await cli('restore', boardId, '2')).stdout).toMatch(/already is as it was at seq 2: nothing to restore/);
  });

  it('history survives a restart', async () => {
    const alice = open('hist-alice');
    const boardId = await newBoard(alice);
    const bySeq = new Map<number, Op>();
    const els = Array.from({ length: 25 }, (_, i) => rect(i * 10, 0));
    await pushAll(alice, boardId, els.map((e) => addOp(e)), bySeq);
    await pushAll(alice, boardId, els.slice(0, 10).map((e) => deleteOp(e.id)), bySeq);
    await alice.trpc.history.name.mutate({ boardId, name: 'Twenty-five', seq: 25 });
    await server.app.versions.idle();
    server = await server.restart();
    const again = open('hist-alice');
    for (const seq of [1, 7, 14, 25, 30, 35]) {
      const state = await again.trpc.history.stateAt.query({ boardId, seq });
      expect(canonical(asMap(state.elements))).toEqual(canonical(replay(bySeq, seq)));
    }
    expect((await again.trpc.history.named.query({ boardId })).map((n) => n.name)).toEqual(['Twenty-five']);
    const { versions } = await again.trpc.history.list.query({ boardId });
    expect(versions.reduce((s, v) => s + v.opCount, 0)).toBe(35);
    expect(versions.at(-1)!.fromSeq).toBe(1);
  });
});

describe('version history byte budget', () => {
  let small: TestServer;
  const budget = 64 * 1024;
  beforeAll(async () => {
    small = await startServer({ opLogRetention: 10, history: { checkpointEvery: 50, retentionIntervalMs: 0, maxBytes: budget } });
  });
  afterAll(async () => {
    await small.destroy();
  });

  it('thins a board over its budget oldest first; every state still listed is computable and equal to the replay; the database stops growing', async () => {
    const alice = connect(small.url, 'budget-alice');
    clients.push(alice);
    const boardId = (await alice.trpc.board.create.mutate({ title: 'Budget' })).id;
    grantAccess(small.url, boardId, 'budget-bob', 'editor');
    const bob = connect(small.url, 'budget-bob');
    clients.push(bob);
    const bySeq = new Map<number, Op>();
    const sqlite = sqliteOf(small.app);
    // Alice adds a stroke of ~5 KB, Bob deletes it: every op is a version of its own, the board stays small.
    const rounds = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const s = stroke(250, i, i);
        await pushAll(alice, boardId, [addOp(s)], bySeq);
        await pushAll(bob, boardId, [deleteOp(s.id)], bySeq);
      }
    };
    await rounds(3);
    // A named version early on: its state is small, so it keeps a checkpoint of its own.
    const early = await alice.trpc.history.name.mutate({ boardId, name: 'Early', seq: 3 });
    await rounds(40);
    await small.app.versions.idle();
    const historyBytes = () => {
      const ops = sqlite.prepare('select coalesce(sum(octet_length(data)), 0) as b, min(seq) as min, max(seq) as max, count(*) as n from history_ops where board_id = ?').get(boardId) as { b: number; min: number; max: number; n: number };
      const cps = sqlite.prepare('select coalesce(sum(bytes), 0) as b from checkpoints where board_id = ?').get(boardId) as { b: number };
      return { ...ops, total: ops.b + cps.b };
    };
    const first = historyBytes();
    // 80 ops of ~5 KB and 80 small ones went through the history: it was thinned, oldest first, and holds no gap.
    expect(first.total).toBeLessThanOrEqual(budget);
    expect(first.min).toBeGreaterThan(3);
    expect(first.n).toBe(first.max - first.min + 1);
    expect(small.app.versions.historyBytesOf(boardId)).toBe(first.total);

    // Every listed version's states (before and after it) are computable and equal to the replay.
    const listed: { fromSeq: number; toSeq: number; thinned?: true }[] = [];
    let before: number | undefined;
    do {
      const page: { versions: { fromSeq: number; toSeq: number; thinned?: true }[]; next?: number } = await alice.trpc.history.list.query({ boardId, limit: 100, ...(before ? { before } : {}) });
      listed.push(...page.versions);
      before = page.next;
    } while (before);
    const head = Math.max(...bySeq.keys());
    expect(listed[0]!.toSeq).toBe(head);
    // The listed edits end at the oldest kept op; the kept states below it (the cut's, the named version's) follow.
    expect(listed.filter((v) => !v.thinned).at(-1)!.fromSeq).toBe(first.min);
    expect(listed.filter((v) => v.thinned).map((v) => v.toSeq)).toEqual([first.min - 1, early.seq]);
    for (const v of listed) {
      for (const seq of [v.fromSeq - 1, v.toSeq]) {
        const state = await small.app.versions.stateAt(boardId, seq);
        expect(canonical(asMap(state.elements)), `state at ${seq}`).toEqual(canonical(replay(bySeq, seq)));
      }
    }
    // The named version kept its state; a forgotten state is refused with the retained history's message.
    expect(canonical(asMap((await alice.trpc.history.stateAt.query({ boardId, seq: early.seq })).elements))).toEqual(canonical(replay(bySeq, early.seq)));
    await expect(alice.trpc.history.stateAt.query({ boardId, seq: first.min - 3 })).rejects.toThrow(/before the retained history of this board \(every op is kept from seq/);

    // 40 more rounds: the history stays within its budget and the database file does not grow.
    const fileBytes = () => {
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
      return statSync(small.dbPath).size;
    };
    const warm = fileBytes();
    await rounds(40);
    await small.app.versions.idle();
    const later = fileBytes();
    const second = historyBytes();
    console.log(`history budget ${budget}: after 43 rounds ${first.total} bytes (ops ${first.min}-${first.max}), after 83 ${second.total} (ops ${second.min}-${second.max}); database ${warm} then ${later} bytes`);
    expect(second.total).toBeLessThanOrEqual(budget);
    expect(second.min).toBeGreaterThan(first.max);
    expect(later - warm).toBeLessThan(200 * 1024);
    const last = await small.app.versions.stateAt(boardId, head + 80);
    expect(canonical(asMap(last.elements))).toEqual(canonical(replay(bySeq, head + 80)));
  }, 120_000);

  it('named versions keep their states while the budget holds them; past it the oldest lose theirs first (the names stay)', async () => {
    const alice = connect(small.url, 'budget-alice');
    clients.push(alice);
    const boardId = (await alice.trpc.board.create.mutate({ title: 'Budget names' })).id;
    const bySeq = new Map<number, Op>();
    // Strokes of random points (they hardly compress): three named states of ~4 x 15 KB each.
    const noisy = (): Element => ({ ...stroke(250), points: Array.from({ length: 250 }, () => [Math.random() * 1000, Math.random() * 1000, Math.random()] as [number, number, number]) }) as Element;
    const names: { id: string; seq: number }[] = [];
    for (let k = 0; k < 3; k++) {
      const els = Array.from({ length: 4 }, noisy);
      await pushAll(alice, boardId, [addOp(...els)], bySeq);
      names.push(await alice.trpc.history.name.mutate({ boardId, name: `Big ${k}` }));
      await pushAll(alice, boardId, [deleteOp(...els.map((e) => e.id))], bySeq);
    }
    for (let i = 0; i < 30; i++) {
      const s = stroke(250, i, i);
      await pushAll(alice, boardId, [addOp(s), deleteOp(s.id)], bySeq);
    }
    await small.app.versions.idle();
    const sqlite = sqliteOf(small.app);
    const cps = sqlite.prepare('select seq, bytes from checkpoints where board_id = ? order by seq').all(boardId) as { seq: number; bytes: number }[];
    const ops = sqlite.prepare('select coalesce(sum(octet_length(data)), 0) as b from history_ops where board_id = ?').get(boardId) as { b: number };
    const total = ops.b + cps.reduce((sum, c) => sum + c.bytes, 0);
    console.log(`named versions over a ${budget}-byte budget: history ${total} bytes; checkpoints ${cps.map((c) => `${c.seq}:${c.bytes}`).join(' ')}`);
    expect(total).toBeLessThanOrEqual(budget);
    // The names stay; each state is either exact or refused, the refused ones older than the kept ones.
    expect((await alice.trpc.history.named.query({ boardId })).map((n) => n.id)).toEqual(names.map((n) => n.id));
    const kept: number[] = [];
    const refused: number[] = [];
    for (const n of names) {
      const state = await alice.trpc.history.stateAt.query({ boardId, seq: n.seq }).catch((err: Error) => err);
      if (state instanceof Error) {
        expect(state.message).toMatch(/before the retained history of this board/);
        refused.push(n.seq);
      } else {
        expect(canonical(asMap(state.elements))).toEqual(canonical(replay(bySeq, n.seq)));
        kept.push(n.seq);
      }
    }
    expect(refused.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
    expect(Math.max(...refused)).toBeLessThan(Math.min(...kept));
  }, 120_000);
});


describe('version history after retention (kept states)', () => {
  let retained: TestServer;
  beforeAll(async () => {
    // Every op is kept for an hour only (the default is 30 days); checkpoints every 5 ops.
    retained = await startServer({ opLogRetention: 10, history: { checkpointEvery: 5, keepAllMs: 3_600_000, retentionIntervalMs: 0 } });
  });
  afterAll(async () => {
    await retained.destroy();
  });

  it('lists the states kept one a day as versions, paged after the kept edits; viewers preview them and editors restore them', async () => {
    const alice = connect(retained.url, 'kept-alice');
    clients.push(alice);
    const boardId = (await alice.trpc.board.create.mutate({ title: 'Kept states' })).id;
    grantAccess(retained.url, boardId, 'kept-bob', 'editor');
    grantAccess(retained.url, boardId, 'kept-carol', 'viewer');
    const bob = connect(retained.url, 'kept-bob');
    const carol = connect(retained.url, 'kept-carol');
    clients.push(bob, carol);
    const bySeq = new Map<number, Op>();
    // One op at a time, each checkpoint made before the next op (a lagging checkpoint job takes the latest seq).
    const push = async (who: InkboardClient, ops: Op[]) => {
      for (const op of ops) {
        await pushAll(who, boardId, [op], bySeq);
        await retained.app.versions.idle();
      }
    };
    const els = Array.from({ length: 12 }, (_, i) => rect(i * 20, 0));
    await push(alice, els.map((e) => addOp(e)));
    await push(bob, els.slice(0, 8).map((e, i) => moveOp(e.id, i, 40)));
    await push(alice, els.slice(0, 6).map((e) => deleteOp(e.id)));
    await push(bob, [addOp(stroke(8)), addOp(stroke(8)), moveOp(els[10]!.id, 1, 1), deleteOp(els[11]!.id)]);
    const head = Math.max(...bySeq.keys());
    expect(head).toBe(30);
    await retained.app.versions.idle();
    const sqlite = sqliteOf(retained.app);
    const cpSeqs = () => (sqlite.prepare('select seq from checkpoints where board_id = ? order by seq').all(boardId) as { seq: number }[]).map((r) => r.seq);
    const cps = cpSeqs();
    expect(cps.length).toBeGreaterThanOrEqual(5);
    const [c0, c1, c2, c3] = cps as [number, number, number, number];
    const named = await alice.trpc.history.name.mutate({ boardId, name: 'Early', seq: c0 + 1 });
    // A fake past: c0 and c1 (and their ops) from one day three days ago, c2 and c3 from the day after.
    const day = 86_400_000;
    const dayA = Math.floor((Date.now() - 3 * day) / day) * day + 3_600_000;
    const dayB = dayA + day;
    const setCp = sqlite.prepare('update checkpoints set created_at = ? where board_id = ? and seq = ?');
    setCp.run(dayA, boardId, c0);
    setCp.run(dayA + 60_000, boardId, c1);
    setCp.run(dayB, boardId, c2);
    setCp.run(dayB + 60_000, boardId, c3);
    sqlite.prepare('update history_ops set created_at = ? where board_id = ? and seq <= ?').run(dayA, boardId, c1);
    sqlite.prepare('update history_ops set created_at = ? where board_id = ? and seq > ? and seq <= ?').run(dayB, boardId, c1, c3);
    await retained.app.versions.applyRetention();
    // c0 and c2 went (c1 and c3 are the latest of their days); the named version kept a state of its own.
    const kept = cpSeqs().filter((s) => s <= c3);
    expect(kept).toEqual([c0 + 1, c1, c3]);
    expect(sqlite.prepare('select count(*) as n from history_ops where board_id = ? and seq <= ?').get(boardId, c3)).toEqual({ n: 0 });

    // One page: the runs of the kept edits, then one version per kept state, newest first, with no gap down to seq 1.
    const { versions, next } = await carol.trpc.history.list.query({ boardId, limit: 100 });
    expect(next).toBeUndefined();
    const edits = versions.filter((v) => !v.thinned);
    const states = versions.filter((v) => v.thinned);
    expect(versions).toEqual([...edits, ...states]);
    expect(edits.at(-1)!.fromSeq).toBe(c3 + 1);
    expect(states.map((v) => [v.fromSeq, v.toSeq, v.opCount, v.authorName, v.endedAt])).toEqual([
      [c1 + 1, c3, c3 - c1, 'various', dayB + 60_000],
      [c0 + 2, c1, c1 - c0 - 1, 'various', dayA + 60_000],
      [1, c0 + 1, c0 + 1, 'various', dayA], // the named version's state, made by retention from its op (of day A)
    ]);
    expect(states[0]!.summary.text).toBe(`kept state of ${c3 - c1} older edits`);
    expect(states[2]!.names.map((n) => n.name)).toEqual(['Early']);
    for (const [i, v] of versions.entries()) expect(v.fromSeq, `version ${i} starts where the one before it ends`).toBe(versions[i + 1] ? versions[i + 1]!.toSeq + 1 : 1);

    // Paged one and two at a time: the same versions, the edits' pages leading into the kept states'.
    for (const limit of [1, 2]) {
      const paged: typeof versions = [];
      let before: number | undefined;
      do {
        const page = await carol.trpc.history.list.query({ boardId, limit, ...(before ? { before } : {}) });
        expect(page.versions.length).toBeLessThanOrEqual(limit);
        paged.push(...page.versions);
        before = page.next;
      } while (before);
      expect(paged, `pages of ${limit}`).toEqual(versions);
    }

    // Each kept state is previewed exactly (a viewer may); the states between them are refused.
    for (const v of states) {
      const state = await carol.trpc.history.stateAt.query({ boardId, seq: v.toSeq });
      expect(canonical(asMap(state.elements)), `kept state at ${v.toSeq}`).toEqual(canonical(replay(bySeq, v.toSeq)));
    }
    await expect(carol.trpc.history.stateAt.query({ boardId, seq: c1 - 1 })).rejects.toThrow(/before the retained history of this board/);
    // A PNG of a kept state (as a viewer); one of a forgotten seq is refused with the same reason.
    const carolToken = testUser(retained.url, 'kept-carol').token;
    const exportPng = (at: number) => fetch(`${retained.url}/api/boards/${boardId}/export.png?at=${at}`, { headers: { authorization: `Bearer ${carolToken}` } });
    const keptPng = await exportPng(c1);
    expect([keptPng.status, keptPng.headers.get('x-board-seq')]).toEqual([200, String(c1)]);
    expect(pngSize(new Uint8Array(await keptPng.arrayBuffer())).width).toBeGreaterThan(0);
    const forgotten = await exportPng(c1 - 1);
    expect(forgotten.status).toBe(400);
    expect(((await forgotten.json()) as { message: string }).message).toMatch(/before the retained history of this board/);
    // A viewer cannot restore; an editor restores a kept state, as one undoable edit at the head.
    await expect(carol.trpc.history.restore.mutate({ boardId, seq: c1, opId: newId() })).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    const restored = await bob.trpc.history.restore.mutate({ boardId, seq: c1, opId: newId() });
    expect(restored.acks[0]!.seq).toBe(head + 1);
    expect(canonical(asMap((await bob.trpc.board.snapshot.query({ boardId })).elements))).toEqual(canonical(replay(bySeq, c1)));
    const latest = (await carol.trpc.history.list.query({ boardId, limit: 1 })).versions[0]!;
    expect([latest.authorName, latest.thinned]).toEqual(['kept-bob', undefined]);
  });
});
