import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId, zAbove, type BoardEvent, type Element, type Op } from '@inkboard/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStorage, type SqliteStorage } from '../storage/SqliteStorage.js';
import { LocalBoardHub } from './BoardHub.js';
import { BoardService } from './BoardService.js';

// The commit pipeline on the real SQLite store: the next batch is written while the previous one is
// flushed to disk, and batches are acknowledged and published in the order they were written.

const author = { id: 'u1', name: 'Ada' };
const rect = (x: number): Element =>
  ({ type: 'rectangle', id: newId(), x, y: 0, z: zAbove(null), width: 40, height: 30, strokeColor: '#1e1e1e', strokeWidth: 2, opacity: 1, fillColor: 'transparent' }) as Element;
const add = (el: Element): Op => ({ type: 'add', opId: newId(), elements: [el] });
const move = (id: string, x: number): Op => ({ type: 'update', opId: newId(), updates: [{ id, patch: { x } }] });
const nextTurn = () => new Promise((r) => setImmediate(r));

describe('BoardService commit pipeline (SQLite)', () => {
  let dir: string;
  let storage: SqliteStorage;
  let hub: LocalBoardHub;
  let service: BoardService;
  let published: { boardId: string; seqs: number[] }[];
  /** Commits whose disk flush is held back until released (a slow fdatasync). */
  let held: { release(): void; fail(err: Error): void }[];
  let holdNext: number;
  let boardId: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inkboard-pipeline-'));
    storage = openSqliteStorage(join(dir, 'inkboard.db'));
    await storage.insertUser({ id: author.id, username: 'ada', passwordHash: 'x', name: author.name, color: '#1971c2', createdAt: Date.now() });
    boardId = (await storage.createBoard({ id: 'b1', title: 'Pipeline', ownerId: author.id, now: Date.now() })).id;
    hub = new LocalBoardHub(25);
    published = [];
    const publish = hub.publish.bind(hub);
    hub.publish = (id: string, seq: number, events: readonly BoardEvent[]) => {
      published.push({ boardId: id, seqs: events.map((e) => (e as { seq: number }).seq) });
      publish(id, seq, events);
    };
    // The real commit, whose durable promise settles only when the test says so (while held).
    held = [];
    holdNext = 0;
    const commit = storage.commit.bind(storage);
    storage.commit = (reads, plan) => {
      let wrote = false;
      const durable = commit(reads, (states) => {
        const writes = plan(states);
        wrote = writes.length > 0;
        return writes;
      });
      // Reads (a board loaded on first use) are not held.
      if (holdNext === 0 || !wrote) return durable;
      holdNext--;
      return new Promise<void>((resolve, reject) => {
        held.push({ release: () => void durable.then(resolve, reject), fail: (err) => void durable.then(() => reject(err), reject) });
      });
    };
    service = new BoardService(storage, hub, 1000);
  });

  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a push as soon as its task settles, not a turn of the event loop later (issue 19)', async () => {
    await service.push(boardId, author, [add(rect(0))]); // the board is loaded
    holdNext = 1;
    const pushed = service.push(boardId, author, [add(rect(10))]);
    // An immediate queued after the push: under load, a turn of the event loop is a whole poll phase.
    await nextTurn();
    expect(held).toHaveLength(1);
    expect(await storage.boardSeq(boardId)).toBe(2);
    held[0]!.release();
    expect((await pushed).map((a) => a.seq)).toEqual([2]);
  });

  it('writes the next batch while the previous one is flushed, then acknowledges and publishes both in order', async () => {
    holdNext = 1;
    const first = rect(0);
    const acked: string[] = [];
    const a = service.push(boardId, author, [add(first)]).then((acks) => (acked.push('a'), acks));
    await nextTurn();
    await nextTurn();
    expect(held).toHaveLength(1);
    // Batch A is written (seq 1) but not yet on disk: batch B plans on top of it and is written too.
    const b = service.push(boardId, author, [move(first.id, 50), add(rect(100))]).then((acks) => (acked.push('b'), acks));
    await nextTurn();
    await nextTurn();
    expect(await storage.boardSeq(boardId)).toBe(3);
    // B's flush has finished, but nothing is acknowledged or published before A is on disk.
    await new Promise((r) => setTimeout(r, 50));
    expect(acked).toEqual([]);
    expect(published).toEqual([]);
    held[0]!.release();
    const [acksA, acksB] = await Promise.all([a, b]);
    expect(acked).toEqual(['a', 'b']);
    expect(acksA.map((x) => x.seq)).toEqual([1]);
    expect(acksB.map((x) => x.seq)).toEqual([2, 3]);
    expect(published.map((p) => p.seqs)).toEqual([[1], [2, 3]]);
    const stored = await storage.elements(boardId);
    expect(stored.find((e) => e.id === first.id)?.x).toBe(50);
    expect(stored).toHaveLength(2);
  });

  it('keeps at most two batches in flight; the third waits and all land in order', async () => {
    holdNext = 2;
    const acks: number[][] = [];
    const until = async (check: () => boolean) => {
      for (let t = 0; t < 100 && !check(); t++) await nextTurn();
    };
    const pushes: Promise<void>[] = [];
    for (const i of [0, 1, 2]) {
      pushes.push(service.push(boardId, author, [add(rect(i * 10))]).then((result) => void acks.push(result.map((x) => x.seq))));
      // The first two are written (each waits for its disk flush); the third must queue.
      await until(() => held.length > i || i === 2);
    }
    for (let t = 0; t < 10; t++) await nextTurn();
    expect(held).toHaveLength(2);
    // The third push is queued, not written: two batches are already in flight.
    expect(await storage.boardSeq(boardId)).toBe(2);
    held[1]!.release();
    await new Promise((r) => setTimeout(r, 30));
    expect(acks).toEqual([]);
    held[0]!.release();
    await Promise.all(pushes);
    expect(acks).toEqual([[1], [2], [3]]);
    expect(published.map((p) => p.seqs)).toEqual([[1], [2], [3]]);
  });

  it('a failed flush rejects only its own batch; the batch after it is acknowledged with its stored seqs', async () => {
    holdNext = 1;
    const a = service.push(boardId, author, [add(rect(0))]);
    const aOutcome = a.then(
      () => 'acked',
      (err: Error) => err.message,
    );
    await nextTurn();
    await nextTurn();
    const b = service.push(boardId, author, [add(rect(10))]);
    await nextTurn();
    await nextTurn();
    held[0]!.fail(new Error('EIO'));
    expect(await aOutcome).toMatch(/could not be saved/);
    expect((await b).map((x) => x.seq)).toEqual([2]);
    // The next push plans on the board as stored (the rejected batch's rows were written before the
    // disk failed, as with synchronous=FULL): seqs stay contiguous.
    expect((await service.push(boardId, author, [add(rect(20))])).map((x) => x.seq)).toEqual([3]);
    await service.flushNow();
  });
});
